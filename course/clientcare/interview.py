"""Mock interview practice: a topic's bank of competency-interview questions from
``content/interviews/<id>.yaml`` (:class:`Interview`), practising them (:class:`InterviewSession`)
and the widget (:class:`InterviewView`).

The learner types an answer to a question, then sees model answers at three levels (knowing,
applying, advising: the levels of a competency interview such as the RICS APC) and a checklist
of the points a strong answer makes, ticks the points they made, and finishes. The share of
points made is their self-rating (:func:`rating_for`), from which FSRS (:mod:`clientcare.srs`)
schedules when the question comes back.

Answers are saved like reflections: as the learner types (a draft), and with every finished
attempt, atomically, in ``interviews.json``:
``{bank_id: {question_id: {"draft": {"text", "saved_at"}, "attempts": [{"text", "saved_at",
"points_made", "points", "rating"}], "schedule": <fsrs.Card as a dict>}}}``.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Sequence

import ipywidgets as widgets

from . import srs
from .content import (
    ContentError, check_known_fields, field, identifier, load_item, loaded_items, markdown_html, require_mapping,
    unique, where,
)
from .registry import progress_row
from .store import LearnerFile
from .style import heading, name_group, new_id, themed

LEARNER_FILE = "interviews"
LEVELS = (("knowing", "Knowing"), ("applying", "Applying"), ("advising", "Advising"))
LEVEL_MEANING = {
    "knowing": "states the facts and rules accurately",
    "applying": "shows how you have used them on real work",
    "advising": "gives reasoned advice, weighing the options and the risks for the client",
}
MIN_POINTS, MAX_POINTS = 3, 8


# ---------------------------------------------------------------- model


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[tuple[str, str], ...]   # (level, model answer) for knowing, applying, advising
    checklist: tuple[str, ...]


@dataclass(frozen=True)
class Interview:
    """One topic's bank of interview questions."""

    id: str
    title: str
    lesson: int | None
    questions: tuple[Question, ...]


def parse_question(raw: Any, path: Path, number: int) -> Question:
    require_mapping(raw, where(path, f"question {number}"))
    question_id = identifier(raw, "id", where(path, f"question {number}"))
    at = where(path, f"question '{question_id}'")
    check_known_fields(raw, {"id", "question", "answers", "checklist"}, at)
    text = field(raw, "question", str, at)
    answers = field(raw, "answers", dict, at)
    check_known_fields(answers, {level for level, _ in LEVELS}, f"{at}: answers")
    models = tuple((level, field(answers, level, str, f"{at}: answers")) for level, _ in LEVELS)
    checklist = field(raw, "checklist", list, at)
    if not MIN_POINTS <= len(checklist) <= MAX_POINTS:
        raise ContentError(f"{at}: field 'checklist' has {len(checklist)} points; give {MIN_POINTS} to {MAX_POINTS}")
    for position, point in enumerate(checklist, start=1):
        if not isinstance(point, str) or not point.strip():
            raise ContentError(f"{at}: field 'checklist', point {position} must be text, got {point!r}")
    unique([point.strip() for point in checklist], "checklist point", f"{at}: field 'checklist'")
    return Question(question_id, text, models, tuple(point.strip() for point in checklist))


def parse_interview(data: dict[str, Any], path: Path) -> Interview:
    at = where(path)
    check_known_fields(data, {"id", "title", "lesson", "questions"}, at)
    bank_id = identifier(data, "id", at)
    questions = tuple(parse_question(raw, path, n) for n, raw in enumerate(field(data, "questions", list, at), 1))
    unique([q.id for q in questions], "question id", at)
    return Interview(bank_id, field(data, "title", str, at), field(data, "lesson", int, at, required=False), questions)


def load_interview(bank_id: str) -> Interview:
    """Read and validate ``content/interviews/<bank_id>.yaml``."""
    return load_item("interviews", bank_id, parse_interview)


def all_interviews(problems: list[str] | None = None) -> list[Interview]:
    return [bank for _, bank in loaded_items("interviews", load_interview, [] if problems is None else problems)]


def rating_for(points_made: int, points: int) -> str:
    """The self-rating from the checklist: every point made is Easy, at least 70% Good, at least 40% Hard,
    fewer Again."""
    share = points_made / points if points else 0
    if share >= 1:
        return "Easy"
    if share >= 0.7:
        return "Good"
    if share >= 0.4:
        return "Hard"
    return "Again"


# ---------------------------------------------------------------- the learner's record


def _records(data: dict[str, Any], bank_id: str) -> dict[str, Any]:
    records = data.get(bank_id)
    return records if isinstance(records, dict) else {}


def saved_record(data: dict[str, Any], bank_id: str, question_id: str) -> dict[str, Any]:
    record = _records(data, bank_id).get(question_id)
    return record if isinstance(record, dict) else {}


def question_schedules(bank: Interview, data: dict[str, Any]) -> list[Any]:
    """Each question's saved schedule, in bank order (None for a question never practised)."""
    return [saved_record(data, bank.id, question.id).get("schedule") for question in bank.questions]


def interviews_progress(problems: list[str]) -> list[dict[str, Any]]:
    """The progress page's rows, one per question bank (see :mod:`clientcare.registry`)."""
    data, rows = LearnerFile(LEARNER_FILE).load(), []
    for bank in all_interviews(problems):
        count, total = srs.due_today(question_schedules(bank, data)), len(bank.questions)
        practised = total - count.new
        rows.append(progress_row(bank.lesson, bank.id, bank.title, practised == total,
                                 f"{practised} of {total} questions practised; {count.due} due again today"))
    return rows


def interview_questions_due(when: datetime | None = None) -> srs.DueToday:
    """(questions practised before and due again by the end of today, questions never practised)."""
    data = LearnerFile(LEARNER_FILE).load()
    return srs.due_today((saved for bank in all_interviews() for saved in question_schedules(bank, data)), when)


# ---------------------------------------------------------------- logic


@dataclass(frozen=True)
class Item:
    bank: Interview
    question: Question


class InterviewSession:
    """Practising one bank (or several): the question due, the learner's answer, the checklist. No widgets.

    :meth:`save_draft` keeps the answer as it is typed; :meth:`reveal` shows the model answers;
    :meth:`finish` takes the checklist points ticked, schedules the question with FSRS, saves the
    attempt and moves to the next question due. ``store=None`` keeps everything in memory.
    """

    def __init__(self, banks: Interview | Sequence[Interview], store: LearnerFile | None = None,
                 clock: Callable[[], datetime] = srs.now, title: str | None = None):
        self.banks = (banks,) if isinstance(banks, Interview) else tuple(banks)
        self.title = title or (self.banks[0].title if len(self.banks) == 1 else "Interview practice")
        self.store = store
        self.clock = clock
        self.data: dict[str, Any] = store.load() if store else {}
        self.items = [Item(bank, question) for bank in self.banks for question in bank.questions]
        self.revealed = False
        self.last: srs.ReviewFinished | None = None
        self.current: Item | None = None
        self._advance()

    @property
    def warning(self) -> str | None:
        return self.store.warning if self.store else None

    def record(self, item: Item) -> dict[str, Any]:
        return saved_record(self.data, item.bank.id, item.question.id)

    def schedule(self, item: Item) -> Any:
        schedule = self.record(item).get("schedule")
        return schedule if srs.schedule_of(schedule) is not None else None

    def queue(self) -> list[Item]:
        """Questions due now: practised ones due again (earliest first), then those never practised."""
        moment = self.clock()
        practised = sorted((i for i in self.items if self.schedule(i) is not None), key=lambda i: srs.due_at(self.schedule(i)))
        return [i for i in practised if srs.due_at(self.schedule(i)) <= moment] + \
            [i for i in self.items if self.schedule(i) is None]

    def next_due(self) -> datetime | None:
        dues = [srs.due_at(self.schedule(i)) for i in self.items if self.schedule(i) is not None]
        return min(dues) if dues else None

    def _advance(self) -> None:
        queue = self.queue()
        self.current = queue[0] if queue else None
        self.revealed = False
        self.shown_at = self.clock()
        draft = self.record(self.current).get("draft") if self.current else None
        self.text = draft.get("text", "") if isinstance(draft, dict) and isinstance(draft.get("text"), str) else ""

    def _change(self, item: Item, change: Callable[[dict[str, Any]], None]) -> None:
        def apply(data: dict[str, Any]) -> None:
            records = data.get(item.bank.id)
            records = records if isinstance(records, dict) else {}
            record = records.get(item.question.id)
            record = dict(record) if isinstance(record, dict) else {}
            change(record)
            records[item.question.id] = record
            data[item.bank.id] = records

        if self.store is not None:
            self.data = self.store.update(apply)
        else:
            apply(self.data)

    def save_draft(self, text: str) -> str:
        """Keep the answer being typed (restored if the notebook is closed); returns the time saved."""
        if self.current is None:
            raise ValueError("there is no question due")
        saved_at = self.clock().astimezone().isoformat(timespec="seconds")
        self.text = text
        self._change(self.current, lambda record: record.update(draft={"text": text, "saved_at": saved_at}))
        return saved_at

    def reveal(self) -> None:
        """Show the model answers and the checklist (the answer typed so far is saved first)."""
        if self.current is None:
            raise ValueError("there is no question due")
        self.save_draft(self.text)
        self.revealed = True

    def finish(self, ticked: Sequence[str]) -> srs.ReviewFinished:
        """Record the points made (checklist texts ticked), schedule the question, save, move on."""
        if self.current is None or not self.revealed:
            raise ValueError("see the model answers and the checklist before you finish")
        item, when = self.current, self.clock()
        points = item.question.checklist
        made = [point for point in points if point in set(ticked)]
        answer = rating_for(len(made), len(points))
        schedule = srs.review(self.schedule(item), answer, when)
        attempt = {"text": self.text, "saved_at": when.astimezone().isoformat(timespec="seconds"),
                   "points_made": made, "points": len(points), "rating": answer}

        def change(record: dict[str, Any]) -> None:
            attempts = record.get("attempts") if isinstance(record.get("attempts"), list) else []
            record.update(attempts=[*attempts, attempt], schedule=schedule)
            record.pop("draft", None)

        self._change(item, change)
        self.last = srs.ReviewFinished("interview", item.bank.id, item.question.id, item.question.question, answer,
                                       when, srs.due_at(schedule), {"points_made": len(made), "points": len(points),
                                                                  "answer": self.text},
                                       seconds=(when - self.shown_at).total_seconds())
        if self.store is not None:
            from .cpd import log_practice

            log_practice(self.last)
        self._advance()
        srs.review_finished(self.last)
        return self.last

    def attempts(self, item: Item | None = None) -> list[dict[str, Any]]:
        item = item or self.current
        attempts = self.record(item).get("attempts") if item else None
        return [a for a in attempts if isinstance(a, dict)] if isinstance(attempts, list) else []


def saved_attempts() -> list[dict[str, Any]]:
    """Every finished attempt the learner saved, with its bank and question (for the CPD record)."""
    data, found = LearnerFile(LEARNER_FILE).load(), []
    for bank in all_interviews():
        for question in bank.questions:
            attempts = saved_record(data, bank.id, question.id).get("attempts")
            for attempt in attempts if isinstance(attempts, list) else []:
                if isinstance(attempt, dict) and isinstance(attempt.get("saved_at"), str):
                    found.append({**attempt, "bank": bank, "question": question})
    return found


# ---------------------------------------------------------------- widget


def models_html(question: Question) -> str:
    parts = []
    for level, label in LEVELS:
        text = dict(question.answers)[level]
        parts.append(f'<div class="cc-model"><h5 class="cc-subtitle">{label}: {html.escape(LEVEL_MEANING[level])}'
                     f"</h5>{markdown_html(text)}</div>")
    return "<h4 class='cc-subtitle'>Model answers</h4>" + "".join(parts)


class InterviewView(widgets.VBox):
    """A question, a box for the answer, then the model answers, the checklist and Finish."""

    def __init__(self, session: InterviewSession):
        self.session = session
        self.counts = widgets.HTML()
        self.question = widgets.HTML()
        self.answer = widgets.Textarea(
            placeholder="Answer as you would in the interview: what you know, how you have applied it, what "
                        "you would advise. It is saved as you type.",
            description="Your answer", rows=6, layout=widgets.Layout(width="100%"),
            style={"description_width": "initial"}, tooltip="Your answer to the interview question")
        self.reveal_button = widgets.Button(description="Show model answers", icon="eye",
                                            tooltip="Compare your answer with model answers and a checklist")
        self.models = widgets.HTML()
        self.checklist = widgets.VBox()
        self.points_id = new_id("points")  # the checklist is a group named by its heading
        name_group(self.checklist, self.points_id)
        self.finish_button = widgets.Button(description="Finish and schedule", icon="check",
                                            tooltip="Save the points you made; the question comes back when it is due")
        self.note = widgets.HTML()
        self.answer.observe(lambda change: self._save_draft(change["new"]), names="value")
        self.reveal_button.on_click(lambda _b: self.reveal())
        self.finish_button.on_click(lambda _b: self.finish())
        warning = session.warning
        self.after = widgets.VBox([self.models, self.checklist, self.finish_button])
        super().__init__([
            widgets.HTML(heading(session.title)
                         + (f'<p class="cc-alert" role="alert">{html.escape(warning)}</p>' if warning else "")),
            self.counts, self.question, self.answer, widgets.HBox([self.reveal_button]), self.after, self.note,
        ])
        themed(self, "interview")
        self._loading = False
        self.render()

    def _save_draft(self, text: str) -> None:
        if self._loading or self.session.current is None:
            return
        try:
            self.session.save_draft(text)
        except OSError as error:
            self.note.value = (f"<p role='alert' class='cc-alert'>Could not save ({html.escape(str(error))}). "
                               "Copy your answer somewhere safe and tell your instructor.</p>")

    def reveal(self) -> None:
        self.session.reveal()
        self.render()
        if self.checklist.children:
            self.checklist.children[1].focus()

    def finish(self) -> None:
        ticked = [box.description for box in self.checklist.children[1:] if box.value]
        event = self.session.finish(ticked)
        details = event.details or {}
        self.render()
        self.note.value = (f"<p role='status'>You made {details.get('points_made')} of {details.get('points')} points: "
                           f"rated {event.rating}. This question comes back "
                           f"{srs.interval_text(event.due, event.reviewed_at)}.</p>")
        if self.session.current is not None:
            self.answer.focus()  # the next question: keyboard users start typing at once

    def render(self) -> None:
        session = self.session
        queue = session.queue()
        new = sum(1 for item in queue if session.schedule(item) is None)
        self.counts.value = (f'<p class="cc-counts"><b>{len(queue) - new} due again</b>, {new} not practised yet, '
                             f'{len(session.items)} questions in all.</p>')
        current = session.current
        self._loading = True
        try:
            self.answer.value = session.text if current else ""
        finally:
            self._loading = False
        self.answer.disabled = current is None
        self.reveal_button.disabled = current is None or session.revealed
        if current is None:
            upcoming = session.next_due()
            when = f" The next is due {srs.interval_text(upcoming, session.clock())}." if upcoming else ""
            self.question.value = f"<p>No interview question is due now.{when}</p>"
            self.after.layout.display = "none"
            return
        tried = len(session.attempts())
        self.question.value = (f'<h4 class="cc-subtitle">{html.escape(current.question.question)}</h4>'
                               + (f"<p>You have answered this question {tried} time{'s' if tried != 1 else ''} "
                                  "before.</p>" if tried else ""))
        self.after.layout.display = "" if session.revealed else "none"
        if session.revealed:
            self.models.value = models_html(current.question)
            intro = widgets.HTML(heading("Tick the points your answer made", 4, element_id=self.points_id,
                                         css="cc-subtitle"))
            boxes = [widgets.Checkbox(description=point, indent=False, value=False,
                                      layout=widgets.Layout(width="100%")) for point in current.question.checklist]
            self.checklist.children = [intro, *boxes]
        else:
            self.models.value, self.checklist.children = "", []


def show_interview(bank_id: str | None = None) -> InterviewView:
    """Interview practice: one topic's questions (``content/interviews/<bank_id>.yaml``), or every question
    due across the course."""
    if bank_id is None:
        return InterviewView(InterviewSession(all_interviews(), LearnerFile(LEARNER_FILE),
                                              title="Interview practice: every question due"))
    return InterviewView(InterviewSession(load_interview(bank_id), LearnerFile(LEARNER_FILE)))
