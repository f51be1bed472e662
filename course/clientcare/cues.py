"""The cue lint: can an activity be passed by picking the longest option?

A learner who has not read the lesson learns quickly that the best answer is often
the longest, most careful-sounding one. This module measures, for every scenario
decision and every single- or multiple-choice quiz question, whether the best or
correct option is the longest, and reports the rate per file and overall.

What counts as "the best option is the longest" (an item is *cued*):

* scenario decision: a best choice (the most points at that node) is at least as
  long as every other choice;
* ``single`` question: the correct option is at least as long as every wrong one;
* ``multiple`` question: every correct option is at least as long as every wrong one,
  so "tick the long ones" scores (a question with no wrong option counts as cued:
  "tick everything" scores);
* ``numeric`` questions have no options and are not counted.

Length is counted in characters after collapsing white space; ties count as cued
(a learner cannot tell them apart either). ``clientcare check`` fails when more than
:data:`OVERALL_LIMIT` of all items are cued, or more than :data:`FILE_LIMIT` of one
file's items when it has at least :data:`FILE_MIN_ITEMS`. The rules for authors are
in ``content/README.md``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from .content import ContentError, file_ids

OVERALL_LIMIT = 0.40
FILE_LIMIT = 0.50
FILE_MIN_ITEMS = 4


def text_length(text: str) -> int:
    return len(" ".join(text.split()))


@dataclass(frozen=True)
class CueItem:
    """One decision or question: where it is and whether its best option is the longest."""

    file: str
    item: str
    cued: bool


def longest_is_best(best: Iterable[str], others: Iterable[str]) -> bool:
    """Whether some best option is at least as long as every other option."""
    best, others = [text_length(t) for t in best], [text_length(t) for t in others]
    return bool(best) and (not others or max(best) >= max(others))


def all_right_are_longest(right: Iterable[str], wrong: Iterable[str]) -> bool:
    """Whether every correct option is at least as long as every wrong one (no wrong option: True)."""
    right, wrong = [text_length(t) for t in right], [text_length(t) for t in wrong]
    return bool(right) and (not wrong or min(right) >= max(wrong))


def scenario_items(scenario) -> list[CueItem]:
    """One item per decision whose choices are not all worth the same."""
    items = []
    for node in scenario.nodes.values():
        if not node.choices:
            continue
        top = max(choice.points for choice in node.choices)
        best = [c.text for c in node.choices if c.points == top]
        others = [c.text for c in node.choices if c.points != top]
        if others:
            items.append(CueItem(f"scenarios/{scenario.id}.yaml", f"node '{node.id}'", longest_is_best(best, others)))
    return items


def quiz_items(quiz) -> list[CueItem]:
    """One item per single- or multiple-choice question."""
    items = []
    for question in quiz.questions:
        right = [o.text for o in question.options if o.correct]
        wrong = [o.text for o in question.options if not o.correct]
        if question.kind == "single":
            cued = longest_is_best(right, wrong)
        elif question.kind == "multiple":
            cued = all_right_are_longest(right, wrong)
        else:
            continue
        items.append(CueItem(f"quizzes/{quiz.id}.yaml", f"question '{question.id}'", cued))
    return items


@dataclass(frozen=True)
class CueReport:
    items: tuple[CueItem, ...]
    unreadable: tuple[str, ...] = ()

    @property
    def files(self) -> dict[str, list[CueItem]]:
        by_file: dict[str, list[CueItem]] = {}
        for item in self.items:
            by_file.setdefault(item.file, []).append(item)
        return by_file

    @staticmethod
    def rate(items: list[CueItem]) -> float:
        return sum(item.cued for item in items) / len(items) if items else 0.0

    @property
    def overall(self) -> float:
        return self.rate(list(self.items))

    def problems(self) -> list[str]:
        """One message per file over its limit, and one if the course is over the overall limit."""
        messages = []
        for name, items in self.files.items():
            if len(items) >= FILE_MIN_ITEMS and self.rate(items) > FILE_LIMIT:
                cued = [item.item for item in items if item.cued]
                messages.append(
                    f"{name}: the best option is the longest in {len(cued)} of {len(items)} items "
                    f"({self.rate(items):.0%}, limit {FILE_LIMIT:.0%}): {', '.join(cued)}"
                )
        if self.items and self.overall > OVERALL_LIMIT:
            cued = sum(item.cued for item in self.items)
            messages.append(
                f"across the course the best option is the longest in {cued} of {len(self.items)} items "
                f"({self.overall:.0%}, limit {OVERALL_LIMIT:.0%}); shorten best options or lengthen "
                "distractors in the files above and in the worst files listed by `clientcare check`"
            )
        return messages

    def lines(self) -> list[str]:
        """The report as text: one line per file, worst first, then the overall rate."""
        out = ["Cue lint: how often the best or correct option is the longest"]
        ranked = sorted(self.files.items(), key=lambda kv: (-self.rate(kv[1]), kv[0]))
        width = max((len(name) for name in self.files), default=0)
        for name, items in ranked:
            cued = sum(item.cued for item in items)
            out.append(f"  {name:<{width}}  {cued:>2} of {len(items):>2} ({self.rate(items):.0%})")
        cued = sum(item.cued for item in self.items)
        out.append(f"  overall: {cued} of {len(self.items)} items ({self.overall:.0%}); limits: "
                   f"{OVERALL_LIMIT:.0%} overall, {FILE_LIMIT:.0%} per file of {FILE_MIN_ITEMS}+ items")
        return out


# Text that points at an option by its place, which shuffling makes meaningless (or misleading).
POSITIONAL = __import__("re").compile(
    r"\b(all|none|both|neither) of the above\b|\bas above\b|\babove options?\b"
    r"|\bthe (first|second|third|fourth|last|previous|next|other two) (option|choice|answer)s?\b"
    r"|\b(option|choice|answer) [1-6]\b",
    __import__("re").IGNORECASE)


def positional_references(scenarios, quizzes) -> list[str]:
    """Choices, options and their feedback that refer to another option by its place on screen."""
    found = []

    def check(file: str, at: str, text: str | None) -> None:
        match = POSITIONAL.search(text or "")
        if match:
            found.append(f"{file}: {at}: \"{match.group(0)}\" refers to an option by its place, "
                         "but options are shown in a shuffled order")

    for s in scenarios:
        for node in s.nodes.values():
            for n, c in enumerate(node.choices, start=1):
                check(f"scenarios/{s.id}.yaml", f"node '{node.id}': choice {n}", c.text)
                check(f"scenarios/{s.id}.yaml", f"node '{node.id}': choice {n} feedback", c.feedback)
    for q in quizzes:
        for question in q.questions:
            for n, o in enumerate(question.options, start=1):
                check(f"quizzes/{q.id}.yaml", f"question '{question.id}', option {n}", o.text)
                check(f"quizzes/{q.id}.yaml", f"question '{question.id}', option {n} feedback", o.feedback)
            check(f"quizzes/{q.id}.yaml", f"question '{question.id}' explanation", question.explanation)
    return found


def cue_report() -> CueReport:
    """The cue rates of every scenario and quiz in the course (files that do not load are skipped)."""
    from .quiz import load_quiz
    from .scenario import load_scenario

    items: list[CueItem] = []
    unreadable = []
    for kind, load, collect in (("scenarios", load_scenario, scenario_items), ("quizzes", load_quiz, quiz_items)):
        for item_id in file_ids(kind):
            try:
                items += collect(load(item_id))
            except ContentError:
                unreadable.append(f"{kind}/{item_id}.yaml")
    return CueReport(tuple(items), tuple(unreadable))


# ---------------------------------------------------------------- cue bots

# A learner who does not read the lesson, played by a bot: it sees what a learner sees
# (the options in this learner's and attempt's order) and picks by position or length.

BOTS = ("first", "longest")
_NUMBER_IN_TEXT = __import__("re").compile(r"\d[\d,]*(?:\.\d+)?")


def _pick(bot: str, texts: list[str]) -> int:
    """The place on screen of the option the bot picks: the first, or the longest (first of equals)."""
    if bot == "first":
        return 0
    lengths = [text_length(t) for t in texts]
    return lengths.index(max(lengths))


def _ticks(bot: str, texts: list[str]) -> set[int]:
    """The options a bot ticks in a multiple-choice question: the first, or every one at least averagely long."""
    if bot == "first":
        return {0}
    lengths = [text_length(t) for t in texts]
    mean = sum(lengths) / len(lengths)
    return {i for i, n in enumerate(lengths) if n >= mean}


def _typed(bot: str, prompt: str) -> str:
    """A bot's guess at a numeric question: the first number in the prompt, or the largest."""
    numbers = [float(n.replace(",", "")) for n in _NUMBER_IN_TEXT.findall(prompt)]
    if not numbers:
        return ""
    return str(numbers[0] if bot == "first" else max(numbers))


def play_scenario(bot: str, scenario, attempt) -> float:
    """The fraction of the available points the bot scores on one attempt at ``scenario``."""
    from .scenario import ScenarioSession

    session = ScenarioSession(scenario, attempt=attempt)
    while not session.finished:
        session.choose_displayed(_pick(bot, [c.text for c in session.displayed()]))
    return session.score / session.max_score if session.max_score else 0.0


def play_quiz(bot: str, quiz, attempt) -> float:
    """The fraction of the questions the bot gets right on one attempt at ``quiz``."""
    from .quiz import QuizSession

    session = QuizSession(quiz, attempt=attempt)
    for question in session.questions:
        texts = [o.text for o in session.displayed_options(question)]
        if question.kind == "numeric":
            session.select(question.id, _typed(bot, question.prompt))
        elif question.kind == "single":
            session.select_displayed(question.id, _pick(bot, texts))
        else:
            session.select_displayed(question.id, _ticks(bot, texts))
    return session.submit() / quiz.total


@dataclass(frozen=True)
class BotScores:
    """Each bot's mean score per activity (0-1), over many learners' attempts."""

    scenarios: dict[str, dict[str, float]]  # bot -> scenario id -> mean fraction
    quizzes: dict[str, dict[str, float]]

    def average(self, bot: str) -> float:
        """The mean over all scenarios and quizzes (each activity counts once)."""
        values = [*self.scenarios[bot].values(), *self.quizzes[bot].values()]
        return sum(values) / len(values) if values else 0.0

    def mean(self, kind: dict[str, dict[str, float]], bot: str) -> float:
        values = list(kind[bot].values())
        return sum(values) / len(values) if values else 0.0

    def lines(self, worst: int = 5) -> list[str]:
        """Each bot's average, then the ``worst`` activities it scores best on (where to rewrite first)."""
        out = []
        for bot in BOTS:
            out.append(f"  bot '{bot}': {self.average(bot):.0%} on average "
                       f"(scenarios {self.mean(self.scenarios, bot):.0%}, quizzes {self.mean(self.quizzes, bot):.0%})")
            ranked = sorted([*((f"scenarios/{k}", v) for k, v in self.scenarios[bot].items()),
                             *((f"quizzes/{k}", v) for k, v in self.quizzes[bot].items())], key=lambda kv: -kv[1])
            if worst and ranked:
                out.append("    highest: " + ", ".join(f"{name} {value:.0%}" for name, value in ranked[:worst]))
        return out


def bot_scores(scenarios, quizzes, learners: int = 20, shuffled: bool = True) -> BotScores:
    """Play every bot through every scenario and quiz as ``learners`` learners would see them.

    ``shuffled=False`` shows the options as written (how the course behaved before shuffling).
    """
    from .order import Attempt

    def attempts(activity: str):
        if not shuffled:
            return [None]
        return [Attempt(f"cue-bot-learner-{n:03d}", activity) for n in range(learners)]

    result: dict[str, dict[str, dict[str, float]]] = {"scenarios": {}, "quizzes": {}}
    for bot in BOTS:
        result["scenarios"][bot] = {
            s.id: _mean(play_scenario(bot, s, a) for a in attempts(f"scenario/{s.id}")) for s in scenarios}
        result["quizzes"][bot] = {
            q.id: _mean(play_quiz(bot, q, a) for a in attempts(f"quiz/{q.id}")) for q in quizzes}
    return BotScores(result["scenarios"], result["quizzes"])


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def course_activities():
    """Every scenario and quiz of the course that loads."""
    from .quiz import load_quiz
    from .scenario import load_scenario

    def loaded(kind, load):
        out = []
        for item_id in file_ids(kind):
            try:
                out.append(load(item_id))
            except ContentError:
                pass
        return out

    return loaded("scenarios", load_scenario), loaded("quizzes", load_quiz)


def idle_choices(scenarios) -> list[str]:
    """0-point choices with no consequence: they lead where a best choice leads and set no flag."""
    idle = []
    for scenario in scenarios:
        for node in scenario.nodes.values():
            best = [c for c in node.choices if c.points == max(x.points for x in node.choices)]
            for number, choice in enumerate(node.choices, start=1):
                if choice.points == 0 and not choice.sets and any(choice.next == b.next for b in best):
                    idle.append(f"scenarios/{scenario.id}.yaml: node '{node.id}': choice {number}: a 0-point choice "
                                "leads where the best choice leads and sets no flag, so it has no consequence")
    return idle


def strong_after_flagged_mistakes(scenarios) -> list[str]:
    """Strong endings reached on a route where a 0-point choice set a flag (its consequence never came)."""
    from .scenario import walk_routes

    found = []
    for scenario in scenarios:
        mistakes = {flag for node in scenario.nodes.values() for c in node.choices if c.points == 0 for flag in c.sets}
        seen = set()
        for route, _ in walk_routes(scenario):
            flags = tuple(sorted(route.flags & mistakes))
            if scenario.nodes[route.end].ending == "strong" and flags and (route.end, flags) not in seen:
                seen.add((route.end, flags))
                found.append(f"scenarios/{scenario.id}.yaml: ending '{route.end}' (strong) is reached after the "
                             f"0-point choice that set {', '.join(flags)}: {route.describe(scenario)}")
    return found


def multiple_choice_mix(quizzes) -> str:
    """How many options are right in the multi-select questions (they should vary: no "tick all but one" habit)."""
    mix = {"one right": 0, "some right": 0, "all but one right": 0, "all right": 0}
    for quiz in quizzes:
        for question in quiz.questions:
            if question.kind == "multiple":
                right, count = len(question.correct), len(question.options)
                key = ("all right" if right == count else "all but one right" if right == count - 1
                       else "one right" if right == 1 else "some right")
                mix[key] += 1
    total = sum(mix.values())
    return (f"  multi-select questions: {total} ("
            + ", ".join(f"{n} {label}" for label, n in mix.items()) + ")")


def lint() -> tuple[list[str], list[str], list[str]]:
    """What ``clientcare check`` adds to validation: (report lines, errors, warnings).

    Errors: files and the course over the cue limits, and text that refers to an option by
    its place ("all of the above", "the first option"). Warnings: 0-point choices with no
    consequence, and strong endings reached after a 0-point choice that set a flag (both are
    required by the tests of the course's content).
    """
    report = cue_report()
    lines = report.lines()
    scenarios, quizzes = course_activities()
    lines.append(multiple_choice_mix(quizzes))
    lines.append("Cue bots (options in the order 20 learners would see them):")
    lines += bot_scores(scenarios, quizzes).lines()
    errors = [f"cue: {p}" for p in report.problems()] + positional_references(scenarios, quizzes)
    return lines, errors, idle_choices(scenarios) + strong_after_flagged_mistakes(scenarios)
