"""Lesson quizzes: the quiz read from ``content/quizzes/<id>.yaml`` (:class:`Quiz`), a learner's
attempt (:class:`QuizSession`) and the widget (:class:`QuizView`).

The scoring rules are plain functions (``score_question``, ``score_quiz``) so they can
be tested without any widget. A question scores 1 when the learner's selection is
exactly the set of correct options, otherwise 0: a partly right answer to a
"select all that apply" question scores 0. Results are saved to the learner's
``quiz.json`` as ``{quiz_id: {"last": n, "best": n, "total": m, "attempts": k}}``.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import ipywidgets as widgets

from .content import (
    ContentError, check_known_fields, field, identifier, load_item, markdown_html, require_mapping, unique, where,
)
from .store import LearnerFile

KINDS = ("single", "multiple")
MIN_OPTIONS, MAX_OPTIONS = 2, 6
QUIZ_FIELDS = {"id", "title", "lesson", "questions"}
QUESTION_FIELDS = {"id", "kind", "prompt", "options", "explanation"}
OPTION_FIELDS = {"text", "correct", "feedback"}

# Let long option text wrap instead of being cut off with an ellipsis.
CHOICE_CSS = (
    "<style>.clientcare-choices label, .clientcare-choices .widget-label-basic,"
    ".clientcare-choices .jupyter-widget-label-basic{white-space:normal;height:auto;"
    "line-height:1.4;overflow:visible}"
    ".clientcare-choices .jupyter-widget-checkbox,.clientcare-choices .widget-checkbox"
    "{height:auto;width:auto;margin-bottom:4px}</style>"
)


# ---------------------------------------------------------------- model


@dataclass(frozen=True)
class Option:
    """One answer a learner can choose, whether it is correct, and why."""

    text: str
    correct: bool
    feedback: str


@dataclass(frozen=True)
class Question:
    """A single-choice or multiple-choice question."""

    id: str
    kind: str
    prompt: str
    options: tuple[Option, ...]
    explanation: str | None = None

    @property
    def correct(self) -> frozenset[int]:
        """Positions (from 0) of the correct options."""
        return frozenset(i for i, option in enumerate(self.options) if option.correct)


@dataclass(frozen=True)
class Quiz:
    """One lesson's quiz."""

    id: str
    title: str
    lesson: int
    questions: tuple[Question, ...]

    @property
    def total(self) -> int:
        """The best possible score: one point per question."""
        return len(self.questions)


def parse_option(item: Any, at: str) -> Option:
    """Validate one option; ``at`` says which question and option it is."""
    require_mapping(item, at)
    check_known_fields(item, OPTION_FIELDS, at)
    return Option(field(item, "text", str, at), field(item, "correct", bool, at), field(item, "feedback", str, at))


def parse_question(item: Any, path: Path, number: int) -> Question:
    """Validate the ``number``-th question (from 1) of the quiz file at ``path``."""
    require_mapping(item, where(path, f"question {number}"))
    question_id = identifier(item, "id", where(path, f"question {number}"))
    at = where(path, f"question '{question_id}'")
    check_known_fields(item, QUESTION_FIELDS, at)
    kind = field(item, "kind", str, at)
    if kind not in KINDS:
        raise ContentError(f"{at}: field 'kind' must be one of {', '.join(KINDS)}, got {kind!r}")
    prompt = field(item, "prompt", str, at)
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
    return Quiz(quiz_id, title, lesson, questions)


def load_quiz(quiz_id: str) -> Quiz:
    """Read and validate ``content/quizzes/<quiz_id>.yaml``."""
    return load_item("quizzes", quiz_id, parse_quiz)


# ---------------------------------------------------------------- scoring


def selection_set(selected: int | Iterable[int] | None) -> frozenset[int]:
    """A learner's answer as a set of option positions (``None`` means not answered)."""
    if selected is None:
        return frozenset()
    if isinstance(selected, int):
        return frozenset({selected})
    return frozenset(selected)


def score_question(question: Question, selected: int | Iterable[int] | None) -> int:
    """1 if the selection is exactly the set of correct options, else 0."""
    return int(selection_set(selected) == question.correct)


def score_quiz(quiz: Quiz, answers: Mapping[str, int | Iterable[int] | None]) -> int:
    """The number of questions answered exactly right; ``answers`` maps question id to selection."""
    return sum(score_question(question, answers.get(question.id)) for question in quiz.questions)


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


def answer_feedback(question: Question, selected: int | Iterable[int] | None) -> str:
    """HTML feedback: the verdict, each chosen option's feedback, missed correct options, the explanation."""
    chosen = selection_set(selected)
    right = score_question(question, chosen)
    verdict = "Correct" if right else ("Not answered" if not chosen else "Not quite")
    colour = "#1b7f3b" if right else "#b00020"
    parts = [f'<p style="color:{colour}"><b>{verdict}</b></p>', "<ul>"]
    for n, option in enumerate(question.options):
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
    """

    def __init__(self, quiz: Quiz, store: LearnerFile | None = None):
        self.quiz = quiz
        self.store = store
        self.answers: dict[str, frozenset[int]] = {}
        self.score: int | None = None  # the score of the submitted attempt, None until submitted
        self.record: dict[str, int] | None = saved_result(quiz.id, store) if store else None

    @property
    def submitted(self) -> bool:
        return self.score is not None

    @property
    def warning(self) -> str | None:
        """Why the learner's saved results could not be read, if they could not."""
        return self.store.warning if self.store else None

    def select(self, question_id: str, selected: int | Iterable[int] | None) -> None:
        """Record the learner's current selection for one question."""
        self.answers[question_id] = selection_set(selected)

    def submit(self) -> int:
        """Score the answers and save the attempt; returns the score."""
        self.score = score_quiz(self.quiz, self.answers)
        if self.store is not None:
            self.record = record_attempt(self.quiz.id, self.score, self.quiz.total, self.store)
        return self.score

    def feedback(self, question: Question) -> str:
        """HTML feedback on the learner's answer to ``question``."""
        return answer_feedback(question, self.answers.get(question.id))

    def retry(self) -> None:
        """Forget the answers so the quiz can be taken again (saved results are kept)."""
        self.answers.clear()
        self.score = None


# ---------------------------------------------------------------- widget


class QuestionView(widgets.VBox):
    """The controls for one question: radio buttons (single) or tick boxes (multiple)."""

    def __init__(self, question: Question, number: int):
        self.question = question
        heading = f"Question {number}" + (" (select all that apply)" if question.kind == "multiple" else "")
        self.prompt = widgets.HTML(f"<b>{heading}</b>{markdown_html(question.prompt)}")
        if question.kind == "single":
            self.radio = widgets.RadioButtons(
                options=[(option.text, n) for n, option in enumerate(question.options)], value=None,
                description="Answer", tooltip=f"Choose one answer to question {number}",
                layout=widgets.Layout(width="auto"))
            self.checks: list[widgets.Checkbox] = []
            choices = self.radio
        else:
            self.radio = None
            self.checks = [widgets.Checkbox(value=False, description=option.text, indent=False,
                                            tooltip=option.text, layout=widgets.Layout(width="auto"))
                           for option in question.options]
            choices = widgets.VBox(self.checks)
        choices.add_class("clientcare-choices")
        self.feedback = widgets.HTML()
        super().__init__([self.prompt, choices, self.feedback], layout=widgets.Layout(margin="0 0 12px 0"))

    def selection(self) -> frozenset[int]:
        """The options currently selected."""
        if self.radio is not None:
            return selection_set(self.radio.value)
        return frozenset(n for n, check in enumerate(self.checks) if check.value)

    def set_enabled(self, enabled: bool) -> None:
        for control in [self.radio, *self.checks]:
            if control is not None:
                control.disabled = not enabled

    def clear(self) -> None:
        """Remove the answer and the feedback."""
        if self.radio is not None:
            self.radio.value = None
        for check in self.checks:
            check.value = False
        self.feedback.value = ""
        self.set_enabled(True)


class QuizView(widgets.VBox):
    """A whole quiz: questions, Submit, the score, and Retry."""

    def __init__(self, session: QuizSession):
        self.session = session
        quiz = session.quiz
        self.questions = [QuestionView(question, n) for n, question in enumerate(quiz.questions, start=1)]
        self.submit_button = widgets.Button(description="Submit answers", button_style="primary",
                                            tooltip="Check your answers and see feedback")
        self.retry_button = widgets.Button(description="Retry", disabled=True,
                                           tooltip="Clear your answers and try the quiz again")
        self.score = widgets.HTML(layout=widgets.Layout(min_height="1.5em"))
        self.history = widgets.HTML(self._history_text())
        self.submit_button.on_click(lambda _button: self.submit())
        self.retry_button.on_click(lambda _button: self.retry())
        super().__init__([
            widgets.HTML(CHOICE_CSS + f"<h3>{html.escape(quiz.title)}</h3>"),
            self.history,
            *self.questions,
            widgets.HBox([self.submit_button, self.retry_button]),
            self.score,
        ])

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
        """Clear every answer and all feedback so the quiz can be taken again."""
        self.session.retry()
        for view in self.questions:
            view.clear()
        self.score.value = ""
        self.submit_button.disabled = False
        self.retry_button.disabled = True

    def _history_text(self) -> str:
        warning, record = self.session.warning, self.session.record
        note = f'<p style="color:#b00020">{html.escape(warning)}</p>' if warning else ""
        if not record:
            return note
        attempts = record.get("attempts", 0)
        return note + (f"<p><i>Your best score so far: {record.get('best', 0)} of {record.get('total', 0)} "
                       f"({attempts} attempt{'s' if attempts != 1 else ''}).</i></p>")


def show_quiz(quiz_id: str) -> QuizView:
    """The quiz widget for ``content/quizzes/<quiz_id>.yaml``, ready to display in a lesson."""
    return QuizView(QuizSession(load_quiz(quiz_id), LearnerFile("quiz")))
