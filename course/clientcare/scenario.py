"""Branching client dialogues: the scenario (:class:`Scenario`), a learner's attempt (:class:`ScenarioSession`)
and the widget (:class:`ScenarioView`).

A scenario is a graph of nodes read from ``content/scenarios/<id>.yaml``: a
decision node offers choices, each with feedback, points (0-2) and the next node;
an ending node closes the dialogue. The learner's score is the sum of the points
of their choices out of 2 for every decision they took, so a detour through a
weak choice and a recovery never beats the best path.

Scenarios carry state: a choice may set flags (``sets: [disclosed_commission]``),
its ``next`` may depend on the flags and on the score so far, and a node (usually
an ending) may state the conditions every route reaching it meets (``requires``).
A strong ending also requires at least 75 % of the points available on the route.
Validation on load walks every route and rejects a route that reaches a node
whose conditions it does not meet. Choices are shown in an order shuffled per
learner and per attempt (see :mod:`clientcare.order`).
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field as dataclass_field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

import ipywidgets as widgets

from .content import (
    ContentError, markdown_html, check_known_fields, field, identifier, load_item, require_mapping, unique, where,
)
from .order import ATTEMPTS_FILE, Attempt, close_attempt, current_attempt
from .content import loaded_items
from .registry import progress_row
from .store import LearnerFile
from . import xapi
from .lrs import retry_pending
from .style import heading, themed

ENDINGS = ("strong", "mixed", "poor")
MAX_POINTS = 2
STRONG_MIN_SCORE = 0.75  # a strong ending needs this fraction of the route's available points
MAX_ROUTES = 20_000  # more routes than this is a sign of a mistake (and too slow to validate)
FLAG_PATTERN = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


@dataclass(frozen=True)
class Condition:
    """What must be true of a route: flags set (``all``, ``any``), not set (``none``) and the score so far.

    ``min_score`` and ``max_score`` are fractions (0-1) of the points available on the
    route so far: 2 for every decision taken.
    """

    all: frozenset[str] = frozenset()
    any: frozenset[str] = frozenset()
    none: frozenset[str] = frozenset()
    min_score: float | None = None
    max_score: float | None = None

    @property
    def flags(self) -> frozenset[str]:
        return self.all | self.any | self.none

    def unmet(self, flags: frozenset[str], fraction: float | None) -> list[str]:
        """The parts of this condition a route with ``flags`` and score ``fraction`` does not meet.

        ``fraction`` is ``None`` on a route with no decisions yet: no points were available,
        so the score parts hold.
        """
        reasons = []
        missing = sorted(self.all - flags)
        if missing:
            reasons.append(f"flag {', '.join(missing)} not set")
        if self.any and not self.any & flags:
            reasons.append(f"none of {', '.join(sorted(self.any))} set")
        present = sorted(self.none & flags)
        if present:
            reasons.append(f"flag {', '.join(present)} set")
        if fraction is None:
            return reasons
        if self.min_score is not None and fraction < self.min_score - 1e-9:
            reasons.append(f"score {fraction:.0%} below {self.min_score:.0%}")
        if self.max_score is not None and fraction > self.max_score + 1e-9:
            reasons.append(f"score {fraction:.0%} above {self.max_score:.0%}")
        return reasons

    def holds(self, flags: frozenset[str], fraction: float | None) -> bool:
        return not self.unmet(flags, fraction)

    def merged(self, other: "Condition") -> "Condition":
        """Both conditions at once."""
        low = [v for v in (self.min_score, other.min_score) if v is not None]
        high = [v for v in (self.max_score, other.max_score) if v is not None]
        return Condition(self.all | other.all, self.any | other.any, self.none | other.none,
                         max(low) if low else None, min(high) if high else None)


@dataclass(frozen=True)
class Branch:
    """One entry of a choice's ``next``: go ``to`` this node if ``when`` holds (``None``: always)."""

    to: str
    when: Condition | None = None


@dataclass(frozen=True)
class Choice:
    text: str
    feedback: str
    points: int
    next: tuple[Branch, ...]
    sets: frozenset[str] = frozenset()

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(branch.to for branch in self.next)

    def next_node(self, flags: frozenset[str], fraction: float) -> str:
        """The node this choice leads to on a route with ``flags`` and score ``fraction`` (after it)."""
        for branch in self.next:
            if branch.when is None or branch.when.holds(flags, fraction):
                return branch.to
        raise AssertionError("validation guarantees a default branch")  # pragma: no cover


@dataclass(frozen=True)
class Node:
    id: str
    text: str
    speaker: str | None = None
    choices: tuple[Choice, ...] = ()
    ending: str | None = None
    requires: Condition | None = None

    @property
    def is_ending(self) -> bool:
        return not self.choices

    @property
    def requirement(self) -> Condition | None:
        """What every route reaching this node must meet: its ``requires``, and 75 % for a strong ending."""
        if self.ending != "strong":
            return self.requires
        strong = Condition(min_score=STRONG_MIN_SCORE)
        return strong.merged(self.requires) if self.requires else strong


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    lesson: int
    setting: str
    start: str
    nodes: dict[str, Node]


def score_fraction(score: int, decisions: int) -> float | None:
    """The score as a fraction of the points available on a route of ``decisions`` decisions (None: none yet)."""
    return score / (MAX_POINTS * decisions) if decisions else None


# ---------------------------------------------------------------- validation

_SCENARIO_FIELDS = {"id", "title", "lesson", "setting", "start", "nodes"}
_NODE_FIELDS = {"speaker", "text", "choices", "ending", "requires"}
_CHOICE_FIELDS = {"text", "feedback", "points", "next", "sets"}
_CONDITION_FIELDS = {"all", "any", "none", "min_score", "max_score"}
_BRANCH_FIELDS = {"if", "to"}


def parse_scenario(data: dict[str, Any], path: Path) -> Scenario:
    """Build a Scenario from parsed YAML, or raise ContentError naming the file, node and field."""
    top = where(path)
    check_known_fields(data, _SCENARIO_FIELDS, top)
    raw_nodes = field(data, "nodes", dict, top)
    nodes = {}
    for node_id, raw in raw_nodes.items():
        at = where(path, f"node '{node_id}'")
        if not isinstance(node_id, str) or not node_id:
            raise ContentError(f"{at}: node ids must be text")
        nodes[node_id] = _parse_node(node_id, raw, at, path)
    scenario = Scenario(
        id=identifier(data, "id", top),
        title=field(data, "title", str, top),
        lesson=field(data, "lesson", int, top),
        setting=field(data, "setting", str, top),
        start=field(data, "start", str, top),
        nodes=nodes,
    )
    _check_graph(scenario, path)
    _check_flags(scenario, path)
    _check_routes(scenario, path)
    return scenario


def _flag_list(raw: dict[str, Any], name: str, at: str) -> frozenset[str]:
    flags = field(raw, name, list, at, required=False, default=[])
    for flag in flags:
        if not isinstance(flag, str) or not FLAG_PATTERN.match(flag):
            raise ContentError(f"{at}: field '{name}' must list flags in lower_snake_case, got {flag!r}")
    unique(flags, "flag", f"{at}: field '{name}'")
    return frozenset(flags)


def _fraction(raw: dict[str, Any], name: str, at: str) -> float | None:
    if name not in raw or raw[name] is None:
        return None
    value = raw[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ContentError(f"{at}: field '{name}' must be a fraction from 0 to 1 (0.75 means 75 %), got {value!r}")
    return float(value)


def parse_condition(raw: Any, at: str) -> Condition:
    """``{all: [...], any: [...], none: [...], min_score: 0-1, max_score: 0-1}``, each part optional."""
    require_mapping(raw, at)
    check_known_fields(raw, _CONDITION_FIELDS, at)
    if not raw:
        raise ContentError(f"{at}: a condition needs at least one of {', '.join(sorted(_CONDITION_FIELDS))}")
    condition = Condition(
        all=_flag_list(raw, "all", at), any=_flag_list(raw, "any", at), none=_flag_list(raw, "none", at),
        min_score=_fraction(raw, "min_score", at), max_score=_fraction(raw, "max_score", at),
    )
    clash = sorted((condition.all | condition.any) & condition.none)
    if clash:
        raise ContentError(f"{at}: flag '{clash[0]}' cannot be both required and excluded")
    if condition.min_score is not None and condition.max_score is not None and condition.min_score > condition.max_score:
        raise ContentError(f"{at}: 'min_score' is above 'max_score', so no route can meet it")
    return condition


def _parse_next(raw_choice: dict[str, Any], at: str) -> tuple[Branch, ...]:
    raw = raw_choice.get("next")
    if isinstance(raw, str) and raw.strip():
        return (Branch(raw.strip()),)
    if not isinstance(raw, list) or not raw:
        if raw is None:
            raise ContentError(f"{at}: field 'next' is missing")
        raise ContentError(f"{at}: field 'next' must be a node id or a list of {{if: ..., to: ...}} entries, got {raw!r}")
    branches = []
    for number, entry in enumerate(raw, start=1):
        entry_at = f"{at}: next {number}"
        require_mapping(entry, entry_at)
        check_known_fields(entry, _BRANCH_FIELDS, entry_at)
        last = number == len(raw)
        if last and "if" in entry:
            raise ContentError(f"{entry_at}: the last entry of 'next' is the default and must have no 'if'")
        if not last and "if" not in entry:
            raise ContentError(f"{entry_at}: only the last entry of 'next' may leave out 'if'")
        when = parse_condition(entry["if"], f"{entry_at}: if") if "if" in entry else None
        branches.append(Branch(field(entry, "to", str, entry_at), when))
    return tuple(branches)


def _parse_node(node_id: str, raw: Any, at: str, path: Path) -> Node:
    require_mapping(raw, at)
    check_known_fields(raw, _NODE_FIELDS, at)
    requires = parse_condition(raw["requires"], f"{at}: requires") if raw.get("requires") is not None else None
    text, speaker = field(raw, "text", str, at), field(raw, "speaker", str, at, required=False)
    raw_choices = field(raw, "choices", list, at, required=False, default=[])
    if not raw_choices:
        ending = field(raw, "ending", str, at)
        if ending not in ENDINGS:
            raise ContentError(f"{at}: field 'ending' must be one of {', '.join(ENDINGS)}, got {ending!r}")
        if ending == "strong" and requires and requires.min_score is not None and requires.min_score < STRONG_MIN_SCORE:
            raise ContentError(f"{at}: a strong ending needs 'min_score' of at least {STRONG_MIN_SCORE}, "
                               f"got {requires.min_score}")
        return Node(node_id, text, speaker, (), ending, requires)
    if "ending" in raw:
        raise ContentError(f"{at}: a node with choices cannot also have field 'ending'")
    if not 2 <= len(raw_choices) <= 4:
        raise ContentError(f"{at}: field 'choices' must hold 2 to 4 choices, found {len(raw_choices)}")
    choices = []
    for number, raw_choice in enumerate(raw_choices, start=1):
        choice_at = where(path, f"node '{node_id}'", f"choice {number}")
        require_mapping(raw_choice, choice_at)
        check_known_fields(raw_choice, _CHOICE_FIELDS, choice_at)
        points = field(raw_choice, "points", int, choice_at)
        if not 0 <= points <= MAX_POINTS:
            raise ContentError(f"{choice_at}: field 'points' must be 0, 1 or 2, got {points}")
        choices.append(Choice(
            text=field(raw_choice, "text", str, choice_at),
            feedback=field(raw_choice, "feedback", str, choice_at),
            points=points,
            next=_parse_next(raw_choice, choice_at),
            sets=_flag_list(raw_choice, "sets", choice_at),
        ))
    if not any(c.points == MAX_POINTS for c in choices):
        raise ContentError(f"{at}: no choice is worth {MAX_POINTS} points; every decision needs a best answer")
    unique([c.text for c in choices], "choice text", at)
    return Node(node_id, text, speaker, tuple(choices), None, requires)


def _check_graph(scenario: Scenario, path: Path) -> None:
    """Every choice points at real nodes; no loops (on any branch, whatever the flags)."""
    if scenario.start not in scenario.nodes:
        raise ContentError(f"{where(path)}: field 'start' points at missing node '{scenario.start}'")
    for node in scenario.nodes.values():
        for number, choice in enumerate(node.choices, start=1):
            for target in choice.targets:
                if target not in scenario.nodes:
                    raise ContentError(
                        f"{where(path, f'node {node.id!r}', f'choice {number}')}: "
                        f"'next' points at missing node '{target}'"
                    )
    state: dict[str, str] = {}  # node id -> "open" while on the current path, "done" after

    def visit(node_id: str, trail: list[str]) -> None:
        if state.get(node_id) == "open":
            loop = " -> ".join(trail[trail.index(node_id):] + [node_id])
            raise ContentError(f"{where(path)}: the dialogue loops ({loop}); every path must reach an ending")
        if state.get(node_id) == "done":
            return
        state[node_id] = "open"
        for choice in scenario.nodes[node_id].choices:
            for target in choice.targets:
                visit(target, trail + [node_id])
        state[node_id] = "done"

    visit(scenario.start, [])


def _check_flags(scenario: Scenario, path: Path) -> None:
    """Every flag a condition reads is set by some choice, and every flag set is read somewhere."""
    set_by: dict[str, str] = {}
    for node in scenario.nodes.values():
        for number, choice in enumerate(node.choices, start=1):
            for flag in choice.sets:
                set_by.setdefault(flag, f"node {node.id!r}: choice {number}")
    read: dict[str, str] = {}
    for node in scenario.nodes.values():
        if node.requires:
            for flag in node.requires.flags:
                read.setdefault(flag, f"node {node.id!r}: requires")
        for number, choice in enumerate(node.choices, start=1):
            for branch in choice.next:
                for flag in branch.when.flags if branch.when else ():
                    read.setdefault(flag, f"node {node.id!r}: choice {number}: next")
    for flag, at in sorted(read.items()):
        if flag not in set_by:
            raise ContentError(f"{where(path, at)}: flag '{flag}' is not set by any choice (a typo?)")
    for flag, at in sorted(set_by.items()):
        if flag not in read:
            raise ContentError(f"{where(path, at)}: flag '{flag}' is set but no 'next' or 'requires' reads it, "
                               "so it has no consequence")


@dataclass(frozen=True)
class Route:
    """One complete way through a scenario: the choices taken (node id, authored choice index) and the state."""

    steps: tuple[tuple[str, int], ...]
    end: str
    flags: frozenset[str]
    score: int

    @property
    def fraction(self) -> float | None:
        return score_fraction(self.score, len(self.steps))

    def describe(self, scenario: Scenario) -> str:
        parts = []
        for node_id, index in self.steps:
            text = " ".join(scenario.nodes[node_id].choices[index].text.split())
            parts.append(f"{node_id}: choice {index + 1} ({text[:40]}{'...' if len(text) > 40 else ''})")
        return " -> ".join(parts) or "(no decisions)"


def walk_routes(scenario: Scenario, at: str | None = None,
                limit: int = MAX_ROUTES) -> Iterator[tuple[Route, list[tuple[str, Route]]]]:
    """Every route from the start to an ending, with the nodes it passes (id, route up to there)."""
    count = 0

    def walk(node_id, steps, flags, score, passed):
        nonlocal count
        here = Route(tuple(steps), node_id, flags, score)
        passed = passed + [(node_id, here)]
        node = scenario.nodes[node_id]
        if node.is_ending:
            count += 1
            if count > limit:
                raise ContentError(f"{at or scenario.id}: more than {limit} routes; split the scenario")
            yield here, passed
            return
        for index, choice in enumerate(node.choices):
            now_flags, now_score = flags | choice.sets, score + choice.points
            target = choice.next_node(now_flags, score_fraction(now_score, len(steps) + 1))
            yield from walk(target, steps + [(node_id, index)], now_flags, now_score, passed)

    yield from walk(scenario.start, [], frozenset(), 0, [])


def route_problems(scenario: Scenario, path: Path, strong_rule: bool = True) -> list[str]:
    """Walk every route: one message per node reached on a route that contradicts its conditions.

    ``strong_rule`` adds the implicit condition of strong endings (75 % of the route's points).
    """
    problems: dict[str, str] = {}
    for _route, passed in walk_routes(scenario, where(path)):
        for node_id, upto in passed:
            node = scenario.nodes[node_id]
            requirement = node.requirement if strong_rule else node.requires
            unmet = requirement.unmet(upto.flags, upto.fraction) if requirement else []
            if unmet and node_id not in problems:
                what = f"ending {node_id!r} ({node.ending})" if node.is_ending else f"node {node_id!r}"
                problems[node_id] = (f"{where(path, what)}: reached on a route that contradicts its conditions "
                                     f"({'; '.join(unmet)}): {upto.describe(scenario)}")
    return list(problems.values())


def _check_routes(scenario: Scenario, path: Path) -> None:
    """Every route meets the conditions of the nodes it reaches; every node is reached by some route."""
    problems = route_problems(scenario, path)
    if problems:
        raise ContentError(problems[0])
    reached = {node_id for _route, passed in walk_routes(scenario, where(path)) for node_id, _ in passed}
    unreachable = [node_id for node_id in scenario.nodes if node_id not in reached]
    if unreachable:
        node_id = unreachable[0]
        linked = any(node_id in choice.targets for node in scenario.nodes.values() for choice in node.choices)
        raise ContentError(f"{where(path, f'node {node_id!r}')}: cannot be reached from '{scenario.start}'"
                           + (" (no route meets the 'if' of the 'next' entries leading to it)" if linked else ""))


def load_scenario(scenario_id: str) -> Scenario:
    """Load and validate ``content/scenarios/<scenario_id>.yaml``."""
    return load_item("scenarios", scenario_id, parse_scenario)


# ---------------------------------------------------------------- a learner's attempt


@dataclass
class Step:
    node: Node
    choice: Choice


@dataclass
class ScenarioSession:
    """One learner's attempt at a scenario: pure logic, no widgets.

    With a ``store``, a finished attempt is saved to it (see :func:`record_result`);
    without one, nothing is saved (e.g. in tests of the logic).

    With an ``attempt`` (see :mod:`clientcare.order`), the choices at each node are shown
    in an order drawn for this learner and attempt: :meth:`displayed` lists them as
    shown and :meth:`choose_displayed` takes one by its place on screen. Finishing or
    restarting closes the attempt (in ``attempts``, the learner's attempts file), so the
    next one is shuffled afresh. Without an attempt, choices are shown as written.
    """

    scenario: Scenario
    store: LearnerFile | None = None
    steps: list[Step] = dataclass_field(default_factory=list)
    current_id: str = ""
    attempt: Attempt | None = None
    attempts: LearnerFile | None = None
    _closed: bool = False

    def __post_init__(self) -> None:
        self.current_id = self.current_id or self.scenario.start

    @property
    def current(self) -> Node:
        return self.scenario.nodes[self.current_id]

    @property
    def finished(self) -> bool:
        return self.current.is_ending

    @property
    def score(self) -> int:
        return sum(step.choice.points for step in self.steps)

    @property
    def max_score(self) -> int:
        """The points the learner could have earned on the decisions they took."""
        return MAX_POINTS * len(self.steps)

    @property
    def flags(self) -> frozenset[str]:
        """The flags the choices so far have set."""
        return frozenset().union(*(step.choice.sets for step in self.steps))

    @property
    def percent(self) -> int:
        return round(100 * self.score / self.max_score) if self.steps else 0

    def display_order(self) -> list[int]:
        """The current node's choices as shown: position on screen -> index as written."""
        count = len(self.current.choices)
        if self.attempt is None:
            return list(range(count))
        return self.attempt.order(count, "node", self.current_id)

    def displayed(self) -> list[Choice]:
        """The current node's choices in the order the learner sees them."""
        return [self.current.choices[i] for i in self.display_order()]

    def choose_displayed(self, position: int) -> Choice:
        """Take the choice shown at ``position`` (0-based, top to bottom)."""
        order = self.display_order()
        if not 0 <= position < len(order):
            raise ValueError(f"there is no choice {position + 1} on screen (1-{len(order)})")
        return self.choose(order[position])

    def _close(self) -> None:
        """The attempt is over (finished or abandoned): the next one is shuffled afresh."""
        if self.attempt is not None and not self._closed:
            self.attempt = close_attempt(self.attempt, self.attempts) if self.attempts else self.attempt.next()
        self._closed = True

    def choose(self, index: int) -> Choice:
        """Take choice number ``index`` (0-based, as written) at the current node; returns it for its feedback."""
        if self.finished:
            raise ValueError(f"scenario '{self.scenario.id}' has ended; restart to play again")
        choices = self.current.choices
        if not 0 <= index < len(choices):
            raise ValueError(f"choice {index + 1} does not exist at node '{self.current_id}' (1-{len(choices)})")
        choice = choices[index]
        self.steps.append(Step(self.current, choice))
        self.current_id = choice.next_node(self.flags, score_fraction(self.score, len(self.steps)))
        if self.finished:
            if self.store is not None:
                record_result(self, self.store)
                xapi.record(xapi.scenario_statement, self, folder=self.store.folder)  # the learning record
            self._close()
        return choice

    def restart(self) -> None:
        """Start a new attempt from the beginning (a new order of choices)."""
        if self.steps:
            self._close()
        self._closed = False
        self.steps.clear()
        self.current_id = self.scenario.start


def record_result(run: ScenarioSession, store: LearnerFile | None = None) -> dict[str, Any]:
    """Save a finished attempt to the learner's scenarios file; keeps the best score."""
    store = store or LearnerFile("scenarios")

    def change(data: dict[str, Any]) -> None:
        entry = data.setdefault(run.scenario.id, {"attempts": 0, "best_percent": -1})
        if run.percent > entry.get("best_percent", -1):  # the best attempt's score is kept
            entry.update(best_score=run.score, max_score=run.max_score, best_percent=run.percent)
        entry.update(
            finished=True,
            last_score=run.score,
            last_max_score=run.max_score,
            attempts=entry.get("attempts", 0) + 1,
            ending=run.current.ending,
            finished_at=datetime.now().isoformat(timespec="seconds"),
        )

    return store.update(change)


def saved_record(scenario_id: str, store: LearnerFile | None = None) -> dict[str, Any]:
    """The learner's saved record of one scenario (``{}`` if never finished)."""
    record = (store or LearnerFile("scenarios")).load().get(scenario_id)
    return record if isinstance(record, dict) else {}


def scenario_progress(problems: list[str]) -> list[dict[str, Any]]:
    """The progress page's rows for scenarios (see :mod:`clientcare.registry`)."""
    store, rows = LearnerFile("scenarios"), []
    for scenario_id, scenario in loaded_items("scenarios", load_scenario, problems):
        record = saved_record(scenario_id, store)
        done = record.get("finished") is True
        if done:
            status = f"Finished: best score {record.get('best_score', 0)} of {record.get('max_score', 0)}"
        else:
            status = "Started, not finished" if record else "Not started"
        rows.append(progress_row(scenario.lesson, scenario_id, scenario.title, done, status))
    return rows


# ---------------------------------------------------------------- the widget


_ENDING_LABELS = {"strong": "A strong outcome", "mixed": "A mixed outcome", "poor": "A poor outcome"}
# Verdict, and its colour class in static/clientcare.css (contrast checked in both themes).
_VERDICTS = {2: ("Good choice", "cc-good"), 1: ("Partly right", "cc-partial"), 0: ("Not the best choice", "cc-bad")}


class ScenarioView(widgets.VBox):
    """The interactive dialogue: choices as buttons, feedback after each, a summary at the end.

    Before the first choice only the setting, the dialogue and the choices show; the score
    and "Restart scenario" appear once there is something to score or restart. After a
    choice the learner still sees what they chose, beside its verdict and feedback.
    """

    def __init__(self, session: ScenarioSession):
        self.session = session
        scenario = session.scenario
        self.title = widgets.HTML(
            heading(scenario.title)
            + f'<div class="cc-setting"><span class="cc-label">The setting: </span>{markdown_html(scenario.setting)}</div>'
        )
        self.feedback = widgets.HTML()
        self.dialogue = widgets.HTML()
        self.choices = widgets.VBox(layout=widgets.Layout(width="100%"))
        self.score = widgets.HTML()
        self.restart_button = widgets.Button(
            description="Restart scenario", icon="refresh", tooltip="Start this scenario again from the beginning"
        )
        self.restart_button.on_click(lambda _: self.restart())
        super().__init__(
            [self.title, self.feedback, self.dialogue, self.choices,
             widgets.HBox([self.score, self.restart_button])],
        )
        themed(self, "scenario")
        self._render()

    def choose(self, position: int) -> None:
        """Take the choice shown at ``position`` (0-based, top to bottom)."""
        choice = self.session.choose_displayed(position)
        verdict, tone = _VERDICTS[choice.points]
        self.feedback.value = (
            f'<div class="cc-chosen"><span class="cc-label">You chose: </span>{html.escape(choice.text)}</div>'
            f'<div role="status" class="cc-verdict {tone}"><span class="cc-verdict-text">{verdict} '
            f'(+{choice.points})</span><div class="cc-body">{markdown_html(choice.feedback)}</div></div>'
        )
        self._render()
        # The pressed button is gone: keep keyboard and screen-reader users in place.
        (self.restart_button if self.session.finished else self.choices.children[0]).focus()

    def restart(self) -> None:
        self.session.restart()
        self.feedback.value = ""
        self._render()

    def _render(self) -> None:
        node = self.session.current
        speaker = f'<span class="cc-label">{html.escape(node.speaker)}:</span>' if node.speaker else ""
        self.dialogue.value = f"<div class='clientcare-dialogue'>{speaker}{markdown_html(node.text)}</div>"
        started = bool(self.session.steps)
        self.score.value = (
            f"<span role='status'>Score: {self.session.score} of {self.session.max_score}</span>" if started else ""
        )
        for part in (self.score, self.restart_button):
            (part.remove_class if started else part.add_class)("cc-hidden")
        if self.session.finished:
            self.choices.children = [widgets.HTML(self._summary())]
            return
        buttons = []
        # Shown in this attempt's order, numbered by place on screen: nothing shows the order as written.
        for position, choice in enumerate(self.session.displayed()):
            button = widgets.Button(description=f"{position + 1}. {choice.text}", tooltip=choice.text)
            button.add_class("cc-choice")
            button.add_class("clientcare-choice")
            button.on_click(lambda _, i=position: self.choose(i))
            buttons.append(button)
        self.choices.children = buttons

    def _summary(self) -> str:
        run = self.session
        rows = "".join(
            f"<li><strong>{html.escape(step.choice.text)}</strong> (+{step.choice.points} of {MAX_POINTS}): "
            f"{markdown_html(step.choice.feedback)}</li>"
            for step in run.steps
        )
        label = _ENDING_LABELS[run.current.ending or "mixed"]
        return (
            f"<div class='clientcare-summary'>"
            + heading(f"{label}: you scored {run.score} of {run.max_score} ({run.percent}%)", 4, css="cc-subtitle")
            + f"<p>Your choices:</p><ol>{rows}</ol>"
            f"<p>Use <em>Restart scenario</em> to try a different path.</p></div>"
        )


def show_scenario(scenario_id: str) -> ScenarioView:
    """Display the branching scenario ``scenario_id`` (a file in content/scenarios/).

    The choices are shuffled for this learner's current attempt; showing the scenario
    again before finishing it (e.g. after a kernel restart) shows the same order.
    """
    scenario = load_scenario(scenario_id)
    retry_pending()  # learning records an unreachable LRS could not take yet
    attempts = LearnerFile(ATTEMPTS_FILE)
    attempt = current_attempt(f"scenario/{scenario.id}", attempts)
    return ScenarioView(ScenarioSession(scenario, LearnerFile("scenarios"), attempt=attempt, attempts=attempts))
