"""Lesson quizzes: the quiz read from ``content/quizzes/<id>.yaml`` (:class:`Quiz`), a learner's
attempt (:class:`QuizSession`) and the widget (:class:`QuizView`).

The scoring rules are plain functions (``score_question``, ``score_quiz``) so they can
be tested without any widget. A question scores 1 when the learner's selection is
exactly the set of correct options, otherwise 0: a partly right answer to a
"select all that apply" question scores 0. A numeric question scores 1 when the
number entered is within the question's tolerance of the answer; a number close to
one of the listed ``mistakes`` gets that mistake's feedback. A quiz with ``draw: N``
is a bank: each attempt draws N of its questions. Results are saved to the learner's
``quiz.json`` as ``{quiz_id: {"last": n, "best": n, "total": m, "attempts": k}}``.
"""
from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Mapping

import ipywidgets as widgets

from .content import (
    ContentError, check_known_fields, field, file_ids, identifier, load_item, markdown_html, require_mapping, unique,
    where,
)
from .order import ATTEMPTS_FILE, Attempt, close_attempt, current_attempt
from .content import loaded_items
from .registry import progress_row
from .store import LearnerFile
from . import xapi
from .lrs import retry_pending
from .style import heading, name_group, new_id, themed

KINDS = ("single", "multiple", "numeric")
MIN_OPTIONS, MAX_OPTIONS = 2, 6
QUIZ_FIELDS = {"id", "title", "lesson", "questions", "draw"}
QUESTION_FIELDS = {"id", "kind", "prompt", "options", "explanation"}
NUMERIC_FIELDS = {"id", "kind", "prompt", "answer", "tolerance", "unit", "mistakes", "feedback", "explanation"}
MISTAKE_FIELDS = {"value", "tolerance", "feedback"}
OPTION_FIELDS = {"text", "correct", "feedback"}

# ---------------------------------------------------------------- model


@dataclass(frozen=True)
class Option:
    """One answer a learner can choose, whether it is correct, and why."""

    text: str
    correct: bool
    feedback: str


@dataclass(frozen=True)
class Mistake:
    """A likely wrong answer to a numeric question, and feedback naming the mistake."""

    value: float
    tolerance: float
    feedback: str

    def matches(self, number: float) -> bool:
        return abs(number - self.value) <= self.tolerance + 1e-9


@dataclass(frozen=True)
class Question:
    """A single-choice, multiple-choice or numeric question.

    A numeric question has no options: the learner types a number, right when it is
    within ``tolerance`` of ``answer``; ``feedback`` is shown when it is right.
    """

    id: str
    kind: str
    prompt: str
    options: tuple[Option, ...] = ()
    explanation: str | None = None
    answer: float | None = None
    tolerance: float = 0.0
    unit: str | None = None
    mistakes: tuple[Mistake, ...] = ()
    feedback: str | None = None

    @property
    def correct(self) -> frozenset[int]:
        """Positions (from 0) of the correct options."""
        return frozenset(i for i, option in enumerate(self.options) if option.correct)

    def is_right(self, number: float | None) -> bool:
        """For a numeric question: is ``number`` within the tolerance of the answer?"""
        return number is not None and abs(number - self.answer) <= self.tolerance + 1e-9

    def mistake_for(self, number: float | None) -> Mistake | None:
        """The listed mistake ``number`` matches, if any (a right answer matches none)."""
        if number is None or self.is_right(number):
            return None
        return next((mistake for mistake in self.mistakes if mistake.matches(number)), None)


@dataclass(frozen=True)
class Section:
    """A run of ``size`` consecutive questions of a quiz, from which each attempt draws ``draw``."""

    name: str
    size: int
    draw: int


@dataclass(frozen=True)
class Quiz:
    """One lesson's quiz; with ``draw``, a bank from which each attempt draws that many questions.

    The end-of-course test is a quiz in ``sections`` (one per lesson quiz), each drawn separately.
    """

    id: str
    title: str
    lesson: int | None
    questions: tuple[Question, ...]
    draw: int | None = None
    sections: tuple[Section, ...] = ()

    @property
    def total(self) -> int:
        """The best possible score of one attempt: one point per question asked."""
        if self.sections:
            return sum(section.draw for section in self.sections)
        return self.draw or len(self.questions)


def parse_option(item: Any, at: str) -> Option:
    """Validate one option; ``at`` says which question and option it is."""
    require_mapping(item, at)
    check_known_fields(item, OPTION_FIELDS, at)
    return Option(field(item, "text", str, at), field(item, "correct", bool, at), field(item, "feedback", str, at))


def _number(item: dict[str, Any], name: str, at: str, *, required: bool = True, default: float = 0.0) -> float:
    if name not in item or item[name] is None:
        if required:
            raise ContentError(f"{at}: field '{name}' is missing")
        return default
    value = item[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ContentError(f"{at}: field '{name}' must be a number, got {value!r}")
    return float(value)


def _tolerance(item: dict[str, Any], at: str) -> float:
    tolerance = _number(item, "tolerance", at, required=False)
    if tolerance < 0:
        raise ContentError(f"{at}: field 'tolerance' must not be negative, got {item['tolerance']!r}")
    return tolerance


def parse_numeric(item: dict[str, Any], question_id: str, prompt: str, at: str) -> Question:
    """A ``kind: numeric`` question: answer, tolerance, optional unit and likely mistakes."""
    check_known_fields(item, NUMERIC_FIELDS, at)
    answer, tolerance = _number(item, "answer", at), _tolerance(item, at)
    mistakes = []
    for n, raw in enumerate(field(item, "mistakes", list, at, required=False, default=[]), start=1):
        mistake_at = f"{at}, mistake {n}"
        require_mapping(raw, mistake_at)
        check_known_fields(raw, MISTAKE_FIELDS, mistake_at)
        mistake = Mistake(_number(raw, "value", mistake_at), _tolerance(raw, mistake_at),
                          field(raw, "feedback", str, mistake_at))
        if abs(mistake.value - answer) <= mistake.tolerance + tolerance:
            raise ContentError(f"{mistake_at}: value {raw['value']!r} overlaps the right answer's tolerance")
        mistakes.append(mistake)
    return Question(question_id, "numeric", prompt, (), field(item, "explanation", str, at, required=False),
                    answer, tolerance, field(item, "unit", str, at, required=False), tuple(mistakes),
                    field(item, "feedback", str, at, required=False))


def parse_question(item: Any, path: Path, number: int) -> Question:
    """Validate the ``number``-th question (from 1) of the quiz file at ``path``."""
    require_mapping(item, where(path, f"question {number}"))
    question_id = identifier(item, "id", where(path, f"question {number}"))
    at = where(path, f"question '{question_id}'")
    kind = field(item, "kind", str, at)
    if kind not in KINDS:
        raise ContentError(f"{at}: field 'kind' must be one of {', '.join(KINDS)}, got {kind!r}")
    prompt = field(item, "prompt", str, at)
    if kind == "numeric":
        return parse_numeric(item, question_id, prompt, at)
    check_known_fields(item, QUESTION_FIELDS, at)
    raw_options = field(item, "options", list, at)
    if not MIN_OPTIONS <= len(raw_options) <= MAX_OPTIONS:
        raise ContentError(f"{at}: field 'options' must list {MIN_OPTIONS}-{MAX_OPTIONS} options, found {len(raw_options)}")
    options = tuple(parse_option(raw, f"{at}, option {n}") for n, raw in enumerate(raw_options, start=1))
    unique([option.text for option in options], "option text", at)
    correct = sum(option.correct for option in options)
    if kind == "single" and correct != 1:
        raise ContentError(f"{at}: kind 'single' needs exactly one correct option, found {correct}")
    if kind == "multiple" and correct < 1:
        raise ContentError(f"{at}: kind 'multiple' needs at least one correct option, found none")
    explanation = field(item, "explanation", str, at, required=False)
    return Question(question_id, kind, prompt, options, explanation)


def parse_quiz(data: dict[str, Any], path: Path) -> Quiz:
    """Build a :class:`Quiz` from a parsed YAML file, raising ``ContentError`` on any mistake."""
    at = where(path)
    check_known_fields(data, QUIZ_FIELDS, at)
    quiz_id = identifier(data, "id", at)
    title = field(data, "title", str, at)
    lesson = field(data, "lesson", int, at)
    raw_questions = field(data, "questions", list, at)
    questions = tuple(parse_question(raw, path, n) for n, raw in enumerate(raw_questions, start=1))
    unique([question.id for question in questions], "question id", at)
    draw = field(data, "draw", int, at, required=False)
    if draw is not None and not 1 <= draw <= len(questions):
        raise ContentError(f"{at}: field 'draw' must be from 1 to the {len(questions)} questions in the bank, got {draw}")
    return Quiz(quiz_id, title, lesson, questions, draw)


def load_quiz(quiz_id: str) -> Quiz:
    """Read and validate ``content/quizzes/<quiz_id>.yaml``."""
    return load_item("quizzes", quiz_id, parse_quiz)


# ---------------------------------------------------------------- scoring


_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")


def parse_number(text: Any) -> float | None:
    """A typed answer as a number: ``"£4,980"``, ``" 4980.00 "``, ``"12.5%"`` -> a float; else ``None``.

    Thousands separators, a currency sign and a trailing unit or per cent sign are ignored.
    """
    if isinstance(text, bool):
        return None
    if isinstance(text, (int, float)):
        return float(text) if math.isfinite(text) else None
    if not isinstance(text, str):
        return None
    cleaned = re.sub(r"[\s,£$€]", "", text)
    cleaned = re.sub(r"(%|[a-zA-Z]+)$", "", cleaned) if not re.search(r"[eE][-+]?\d+$", cleaned) else cleaned
    return float(cleaned) if _NUMBER.match(cleaned) else None


def selection_set(selected: int | Iterable[int] | None) -> frozenset[int]:
    """A learner's answer as a set of option positions (``None`` means not answered)."""
    if selected is None:
        return frozenset()
    if isinstance(selected, int):
        return frozenset({selected})
    return frozenset(selected)


def score_question(question: Question, selected: Any) -> int:
    """1 if the selection is exactly the set of correct options (numeric: the number is in tolerance), else 0."""
    if question.kind == "numeric":
        return int(question.is_right(parse_number(selected)))
    return int(selection_set(selected) == question.correct)


def score_quiz(quiz: Quiz, answers: Mapping[str, Any], questions: Iterable[Question] | None = None) -> int:
    """The number of questions answered exactly right; ``answers`` maps question id to selection.

    ``questions`` are the ones asked in this attempt (a bank's draw); by default all of them.
    """
    asked = quiz.questions if questions is None else questions
    return sum(score_question(question, answers.get(question.id)) for question in asked)


def format_number(value: float) -> str:
    """4980.0 -> '4,980'; 12.5 -> '12.5'."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.10g}" if abs(value) < 1e15 else str(value)


def record_attempt(quiz_id: str, score: int, total: int, store: LearnerFile | None = None) -> dict[str, int]:
    """Save one attempt to the learner's quiz file and return this quiz's updated record."""
    store = store or LearnerFile("quiz")

    def change(data: dict[str, Any]) -> None:
        previous = data.get(quiz_id) if isinstance(data.get(quiz_id), dict) else {}
        same_quiz = previous.get("total") == total  # a changed quiz starts a fresh best
        best = max(score, previous.get("best", 0) if same_quiz else 0)
        data[quiz_id] = {"last": score, "best": best, "total": total,
                         "attempts": int(previous.get("attempts", 0)) + 1}

    return store.update(change)[quiz_id]


def saved_result(quiz_id: str, store: LearnerFile | None = None) -> dict[str, int] | None:
    """This quiz's saved record, or ``None`` if it has not been attempted."""
    record = (store or LearnerFile("quiz")).load().get(quiz_id)
    return record if isinstance(record, dict) else None


def _attempts_text(best: Any, total: Any, attempts: int) -> str:
    return f"Best score {best} of {total} ({attempts} attempt{'s' if attempts != 1 else ''})"


def quiz_progress(problems: list[str]) -> list[dict[str, Any]]:
    """The progress page's rows for lesson quizzes (see :mod:`clientcare.registry`)."""
    store, rows = LearnerFile("quiz"), []
    for quiz_id, quiz in loaded_items("quizzes", load_quiz, problems):
        record = saved_result(quiz_id, store) or {}
        attempts = record.get("attempts", 0)
        done = isinstance(attempts, int) and attempts > 0
        status = _attempts_text(record.get("best", 0), quiz.total, attempts) if done else "Not attempted"
        rows.append(progress_row(quiz.lesson, quiz_id, quiz.title, done, status))
    return rows


def numeric_feedback(question: Question, typed: Any) -> str:
    """HTML feedback for a numeric answer: the verdict, the feedback of a recognised mistake, the explanation."""
    number = parse_number(typed)
    blank = typed is None or (isinstance(typed, str) and not typed.strip())
    right = question.is_right(number)
    verdict = "Correct" if right else ("Not answered" if blank else "Not quite")
    tone = "cc-good" if right else "cc-bad"
    parts = [f'<p class="{tone}"><b>{verdict}</b></p>']
    if right and question.feedback:
        parts.append(markdown_html(question.feedback))
    elif number is None and not blank:
        parts.append(f"<p>{html.escape(str(typed))!s} is not a number: type digits only, such as 1250 or 12.5.</p>")
    elif not right and not blank:
        mistake = question.mistake_for(number)
        parts.append(markdown_html(mistake.feedback) if mistake else
                     f"<p>You entered {html.escape(format_number(number))}. Check each step of your working.</p>")
    if question.explanation:
        parts.append(f"<div><b>Explanation:</b> {markdown_html(question.explanation)}</div>")
    return "".join(parts)


def answer_feedback(question: Question, selected: Any, order: Iterable[int] | None = None) -> str:
    """HTML feedback: the verdict, each chosen option's feedback, missed correct options, the explanation.

    Options are discussed in ``order`` (the order the learner saw them; by default as written).
    """
    if question.kind == "numeric":
        return numeric_feedback(question, selected)
    chosen = selection_set(selected)
    right = score_question(question, chosen)
    verdict = "Correct" if right else ("Not answered" if not chosen else "Not quite")
    tone = "cc-good" if right else "cc-bad"  # colours in static/clientcare.css, contrast checked in both themes
    parts = [f'<p class="{tone}"><b>{verdict}</b></p>', "<ul>"]
    for n in (range(len(question.options)) if order is None else order):
        option = question.options[n]
        if n in chosen:
            mark = "right" if option.correct else "not right"
            parts.append(f"<li>You chose <i>{html.escape(option.text)}</i> ({mark}). "
                         f"{markdown_html(option.feedback)}</li>")
        elif option.correct:
            parts.append(f"<li>You missed <i>{html.escape(option.text)}</i>, which is correct. "
                         f"{markdown_html(option.feedback)}</li>")
    parts.append("</ul>")
    if question.explanation:
        parts.append(f"<div><b>Explanation:</b> {markdown_html(question.explanation)}</div>")
    return "".join(parts)


# ---------------------------------------------------------------- a learner's attempt


class QuizSession:
    """One learner's attempt at a quiz: the answers chosen, the score, the saved record; no widgets.

    With a ``store``, each submitted attempt is saved to it (see :func:`record_attempt`);
    without one, nothing is saved (e.g. in tests of the logic).

    With an ``attempt`` (see :mod:`clientcare.order`), a bank's questions are drawn and
    every question's options are shown in an order drawn for this learner and attempt;
    submitting closes the attempt (in ``attempts``, the learner's attempts file), so a
    retry draws and shuffles again, while a new session on the same unsubmitted attempt
    (e.g. after a kernel restart) shows the same questions in the same order. Without an
    attempt, a bank asks its first ``draw`` questions and options are shown as written.
    """

    def __init__(self, quiz: Quiz, store: LearnerFile | None = None, *,
                 attempt: Attempt | None = None, attempts: LearnerFile | None = None):
        self.quiz = quiz
        self.store = store
        self.attempt = attempt
        self.attempts = attempts
        self._next: Attempt | None = None  # the attempt a retry starts, once this one is submitted
        self.answers: dict[str, Any] = {}
        self.score: int | None = None  # the score of the submitted attempt, None until submitted
        self.record: dict[str, int] | None = saved_result(quiz.id, store) if store else None

    @property
    def submitted(self) -> bool:
        return self.score is not None

    @property
    def warning(self) -> str | None:
        """Why the learner's saved results could not be read, if they could not."""
        return self.store.warning if self.store else None

    @property
    def questions(self) -> tuple[Question, ...]:
        """The questions asked in this attempt, in the order written (a bank's draw)."""
        return drawn_questions(self.quiz, self.attempt)

    def option_order(self, question: Question) -> list[int]:
        """``question``'s options as shown: position on screen -> index as written."""
        if self.attempt is None:
            return list(range(len(question.options)))
        return self.attempt.order(len(question.options), "question", question.id)

    def displayed_options(self, question: Question) -> list[Option]:
        return [question.options[i] for i in self.option_order(question)]

    def select(self, question_id: str, selected: Any) -> None:
        """Record the learner's answer to one question: option indexes as written, or a typed number."""
        question = next((q for q in self.quiz.questions if q.id == question_id), None)
        self.answers[question_id] = selected if question is not None and question.kind == "numeric" \
            else selection_set(selected)

    def select_displayed(self, question_id: str, positions: int | Iterable[int] | None) -> None:
        """Record an answer given as places on screen (0-based, top to bottom)."""
        question = next(q for q in self.quiz.questions if q.id == question_id)
        order = self.option_order(question)
        self.select(question_id, {order[p] for p in selection_set(positions)})

    def submit(self) -> int:
        """Score the answers and save the attempt; returns the score."""
        self.score = score_quiz(self.quiz, self.answers, self.questions)
        if self.store is not None:
            self.record = record_attempt(self.quiz.id, self.score, self.quiz.total, self.store)
            xapi.record(xapi.quiz_statements, self, folder=self.store.folder)  # the learning records
        if self.attempt is not None and self._next is None:
            self._next = close_attempt(self.attempt, self.attempts) if self.attempts else self.attempt.next()
        return self.score

    def feedback(self, question: Question) -> str:
        """HTML feedback on the learner's answer to ``question``, options in the order shown."""
        return answer_feedback(question, self.answers.get(question.id), self.option_order(question))

    def retry(self) -> None:
        """Forget the answers and start a new attempt: a new draw and order (saved results are kept)."""
        self.answers.clear()
        self.score = None
        if self._next is not None:
            self.attempt, self._next = self._next, None


def drawn_questions(quiz: Quiz, attempt: Attempt | None) -> tuple[Question, ...]:
    """The questions one attempt asks: all of them, a bank's ``draw``, or each section's draw.

    Without an attempt, the first questions of the bank (or of each section) are asked.
    """
    if quiz.sections:
        asked, start = [], 0
        for section in quiz.sections:
            picks = range(section.draw) if attempt is None else attempt.draw(section.size, section.draw, section.name)
            asked += [quiz.questions[start + i] for i in picks]
            start += section.size
        return tuple(asked)
    if not quiz.draw:
        return quiz.questions
    if attempt is None:
        return quiz.questions[:quiz.draw]
    return tuple(quiz.questions[i] for i in attempt.draw(len(quiz.questions), quiz.draw))


# ---------------------------------------------------------------- widget


class QuestionView(widgets.VBox):
    """The controls for one question: radio buttons (single), tick boxes (multiple) or a number box (numeric).

    Options are shown in ``order`` (indexes as written, in the order shown); the
    controls carry no trace of the written order (labels are the option text only).
    """

    def __init__(self, question: Question, number: int, order: Iterable[int] | None = None):
        self.question = question
        self.order = list(range(len(question.options))) if order is None else list(order)
        title = f"Question {number}" + (" (select all that apply)" if question.kind == "multiple" else "")
        prompt_id = new_id("question")  # the question text names the group of options
        self.prompt = widgets.HTML(heading(title, 4, css="cc-subtitle")
                                   + f'<div id="{prompt_id}">{markdown_html(question.prompt)}</div>')
        self.radio: widgets.RadioButtons | None = None
        self.checks: list[widgets.Checkbox] = []
        self.number: widgets.Text | None = None
        if question.kind == "single":
            self.radio = widgets.RadioButtons(
                options=[(question.options[n].text, n) for n in self.order], value=None,
                layout=widgets.Layout(width="100%"))
            choices = self.radio
        elif question.kind == "multiple":
            self.checks = [widgets.Checkbox(value=False, description=question.options[n].text, indent=False,
                                            layout=widgets.Layout(width="100%"))
                           for n in self.order]
            choices = widgets.VBox(self.checks, layout=widgets.Layout(width="100%"))
        else:
            self.number = widgets.Text(value="", description="Answer", placeholder="a number",
                                       tooltip=f"Type your answer to question {number} as a number")
            parts = [self.number] + ([widgets.Label(question.unit)] if question.unit else [])
            choices = widgets.HBox(parts)
        choices.add_class("clientcare-choices")
        if question.kind != "numeric":
            name_group(choices, prompt_id)
        self.feedback = widgets.HTML()
        super().__init__([self.prompt, choices, self.feedback],
                         layout=widgets.Layout(margin="0 0 12px 0", width="100%"))

    def selection(self) -> Any:
        """The options currently selected (indexes as written), or the text typed for a numeric question."""
        if self.number is not None:
            return self.number.value
        if self.radio is not None:
            return selection_set(self.radio.value)
        return frozenset(n for n, check in zip(self.order, self.checks) if check.value)

    def set_enabled(self, enabled: bool) -> None:
        for control in [self.radio, self.number, *self.checks]:
            if control is not None:
                control.disabled = not enabled

    def clear(self) -> None:
        """Remove the answer and the feedback."""
        if self.radio is not None:
            self.radio.value = None
        if self.number is not None:
            self.number.value = ""
        for check in self.checks:
            check.value = False
        self.feedback.value = ""
        self.set_enabled(True)


class QuizView(widgets.VBox):
    """A whole quiz: questions, Submit, the score, and Retry."""

    def __init__(self, session: QuizSession):
        self.session = session
        quiz = session.quiz
        self.questions = self._question_views()
        self.submit_button = widgets.Button(description="Submit answers", button_style="primary",
                                            tooltip="Check your answers and see feedback")
        self.retry_button = widgets.Button(description="Retry", disabled=True,
                                           tooltip="Clear your answers and try the quiz again")
        self.score = widgets.HTML()
        self.history = widgets.HTML(self._history_text())
        self.submit_button.on_click(lambda _button: self.submit())
        self.retry_button.on_click(lambda _button: self.retry())
        self.heading = widgets.HTML(heading(quiz.title))
        self.buttons = widgets.HBox([self.submit_button, self.retry_button])
        super().__init__(self._parts())
        themed(self, "quiz")

    def _question_views(self) -> list[QuestionView]:
        """A view per question this attempt asks, options in this attempt's order."""
        return [QuestionView(question, n, self.session.option_order(question))
                for n, question in enumerate(self.session.questions, start=1)]

    def _parts(self) -> list[widgets.Widget]:
        assets = [self.assets] if hasattr(self, "assets") else []  # the stylesheet (see style.themed)
        return [*assets, self.heading, self.history, *self.questions, self.buttons, self.score]

    def submit(self) -> int:
        """Score the answers, show feedback, save the attempt; returns the score."""
        session = self.session
        for view in self.questions:
            session.select(view.question.id, view.selection())
        result = session.submit()
        for view in self.questions:
            view.feedback.value = session.feedback(view.question)
            view.set_enabled(False)
        self.score.value = (f'<p role="status"><b>Your score: {result} of {session.quiz.total}</b>. '
                            "Read the feedback, then choose Retry to try again.</p>")
        self.history.value = self._history_text()
        self.submit_button.disabled = True
        self.retry_button.disabled = False
        return result

    def retry(self) -> None:
        """Clear every answer and all feedback so the quiz can be taken again (new draw, new order)."""
        self.session.retry()
        self.questions = self._question_views()
        self.children = self._parts()
        self.score.value = ""
        self.submit_button.disabled = False
        self.retry_button.disabled = True

    def _history_text(self) -> str:
        warning, record = self.session.warning, self.session.record
        note = f'<p class="cc-alert" role="alert">{html.escape(warning)}</p>' if warning else ""
        if not record:
            return note
        attempts = record.get("attempts", 0)
        return note + (f"<p class='cc-muted'>Your best score so far: {record.get('best', 0)} of {record.get('total', 0)} "
                       f"({attempts} attempt{'s' if attempts != 1 else ''}).</p>")


def quiz_session(quiz: Quiz) -> QuizSession:
    """A session on the learner's current attempt at ``quiz``, saving to their files."""
    retry_pending()  # learning records an unreachable LRS could not take yet
    attempts = LearnerFile(ATTEMPTS_FILE)
    return QuizSession(quiz, LearnerFile("quiz"), attempt=current_attempt(f"quiz/{quiz.id}", attempts),
                       attempts=attempts)


def show_quiz(quiz_id: str) -> QuizView:
    """The quiz widget for ``content/quizzes/<quiz_id>.yaml``, ready to display in a lesson.

    Options are shuffled (and a bank drawn) for the learner's current attempt; showing the
    quiz again before submitting (e.g. after a kernel restart) shows the same questions.
    """
    return QuizView(quiz_session(load_quiz(quiz_id)))


# ---------------------------------------------------------------- the end-of-course test

FINAL_TEST_ID = "final-test"
FINAL_TEST_TITLE = "End-of-course test"
FINAL_TEST_PER_QUIZ = 2  # questions drawn from each lesson's quiz (its bank) per attempt


def load_final_test(per_quiz: int = FINAL_TEST_PER_QUIZ) -> Quiz:
    """The cumulative test: ``per_quiz`` questions drawn from every lesson quiz, lesson by lesson.

    Questions keep their lesson quiz's content; their ids become ``<quiz id>/<question id>``.
    """
    questions: list[Question] = []
    sections = []
    quizzes = sorted((load_quiz(quiz_id) for quiz_id in file_ids("quizzes")), key=lambda q: (q.lesson, q.id))
    for quiz in quizzes:
        questions += [replace(question, id=f"{quiz.id}/{question.id}") for question in quiz.questions]
        sections.append(Section(quiz.id, len(quiz.questions), min(per_quiz, len(quiz.questions))))
    if not sections:
        raise ContentError("quizzes: the end-of-course test draws from the lesson quizzes, and there are none")
    return Quiz(FINAL_TEST_ID, FINAL_TEST_TITLE, None, tuple(questions), sections=tuple(sections))


def final_test_status(store: LearnerFile | None = None) -> dict[str, Any]:
    """The learner's end-of-course test result for the progress page.

    ``{"id", "title", "done", "best", "total", "attempts", "status"}``; ``done`` once it has
    been submitted; ``best`` is the best score of any attempt.
    """
    record = saved_result(FINAL_TEST_ID, store or LearnerFile("quiz")) or {}
    attempts = record.get("attempts", 0) if isinstance(record.get("attempts"), int) else 0
    best, total = record.get("best", 0), record.get("total", 0)
    status = (f"Best score {best} of {total} ({attempts} attempt{'s' if attempts != 1 else ''})"
              if attempts else "Not attempted")
    return {"id": FINAL_TEST_ID, "title": FINAL_TEST_TITLE, "done": attempts > 0, "best": best, "total": total,
            "attempts": attempts, "status": status}


def final_test_progress(problems: list[str]) -> list[dict[str, Any]]:
    """The progress page's row for the end-of-course test, if the course has quizzes."""
    if not file_ids("quizzes"):
        return []
    status = final_test_status()
    return [progress_row(None, status["id"], status["title"], status["done"], status["status"])]


def show_final_test() -> QuizView:
    """The end-of-course test: questions drawn from every lesson's quiz; each retry draws again."""
    return QuizView(quiz_session(load_final_test()))
