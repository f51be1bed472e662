"""Reflections: a prompt from ``content/reflections/`` (:class:`Reflection`), the learner's answer to it
(:class:`ReflectionSession`) and the widget (:class:`ReflectionView`).

Answers are saved to ``journal.json`` in the learner's data folder as they type
(and on the Save button), atomically, and restored whenever the prompt is shown
again, after a kernel restart or on another day.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from .content import (
    CONTENT_DIR, ContentError, check_known_fields, field, file_ids, identifier, load_item, require_mapping,
    markdown_html, unique, where,
)
from .content import loaded_items
from .registry import progress_row
from .store import LearnerFile
from .style import heading, themed

JOURNAL = "journal"


@dataclass(frozen=True)
class Reflection:
    """One reflection prompt (a file in ``content/reflections/`` holds a lesson's prompts)."""

    id: str
    title: str
    prompt: str
    lesson: int


@dataclass(frozen=True)
class ReflectionSet:
    """A lesson's reflection prompts: one file of ``content/reflections/``."""

    id: str
    lesson: int
    prompts: tuple[Reflection, ...]


def parse_reflections(data: dict[str, Any], path: Path) -> ReflectionSet:
    top = where(path)
    check_known_fields(data, {"id", "lesson", "prompts"}, top)
    lesson = field(data, "lesson", int, top)
    raw_prompts = field(data, "prompts", list, top)
    prompts = []
    for number, raw in enumerate(raw_prompts, start=1):
        at = where(path, f"prompt {number}")
        require_mapping(raw, at)
        check_known_fields(raw, {"id", "title", "prompt"}, at)
        prompt_id = identifier(raw, "id", at)
        at = where(path, f"prompt '{prompt_id}'")
        prompts.append(Reflection(prompt_id, field(raw, "title", str, at), field(raw, "prompt", str, at), lesson))
    unique([p.id for p in prompts], "prompt id", top)
    return ReflectionSet(identifier(data, "id", top), lesson, tuple(prompts))


def load_reflection_set(set_id: str) -> ReflectionSet:
    """Read and validate ``content/reflections/<set_id>.yaml``."""
    return load_item("reflections", set_id, parse_reflections)


def all_reflections() -> dict[str, Reflection]:
    """Every reflection prompt in the course by id; an id used in two files is an error."""
    found: dict[str, Reflection] = {}
    owner: dict[str, str] = {}
    for set_id in file_ids("reflections"):
        for prompt in load_reflection_set(set_id).prompts:
            if prompt.id in found:
                raise ContentError(
                    f"reflections/{set_id}.yaml: prompt id '{prompt.id}' is already used in "
                    f"reflections/{owner[prompt.id]}.yaml"
                )
            found[prompt.id], owner[prompt.id] = prompt, set_id
    return found


def load_reflection(prompt_id: str) -> Reflection:
    """The reflection prompt ``prompt_id``, from whichever file of ``content/reflections/`` holds it."""
    prompts = all_reflections()
    if prompt_id not in prompts:
        raise ContentError(
            f"{where(CONTENT_DIR / 'reflections')}: no reflection prompt '{prompt_id}' "
            f"(available: {', '.join(sorted(prompts)) or 'none'})"
        )
    return prompts[prompt_id]


class ReflectionSession:
    """The learner's answer to one prompt: pure logic, no widgets.

    With a ``store`` (the learner's journal file, one entry per prompt id) the answer is
    loaded from it and every save is written to it; without one it is kept in memory only.
    """

    def __init__(self, reflection: Reflection, store: LearnerFile | None = None):
        self.reflection = reflection
        self.store = store
        self.text: str = saved_answer(reflection.id, store).get("text", "") if store else ""
        self.restored = bool(self.text)  # an answer saved earlier was found

    @property
    def warning(self) -> str | None:
        """Why the learner's saved answers could not be read, if they could not."""
        return self.store.warning if self.store else None

    def save(self, text: str) -> str:
        """Save ``text`` as the answer; returns the time saved (ISO format)."""
        saved_at = datetime.now().isoformat(timespec="seconds")
        if self.store is not None:
            def change(data: dict[str, Any]) -> None:
                data[self.reflection.id] = {"text": text, "saved_at": saved_at}

            self.store.update(change)
        self.text = text
        return saved_at


def saved_answer(prompt_id: str, store: LearnerFile | None = None) -> dict[str, Any]:
    """The learner's saved answer to one prompt: ``{"text", "saved_at"}``, or ``{}``."""
    record = (store or LearnerFile(JOURNAL)).load().get(prompt_id)
    if not isinstance(record, dict):
        return {}
    return {key: value for key, value in record.items() if key in ("text", "saved_at") and isinstance(value, str)}


def _written_on(saved_at: Any) -> str:
    try:
        moment = datetime.fromisoformat(saved_at)
        return f"Written on {moment.day} {moment:%B %Y}"
    except (TypeError, ValueError):
        return "Written"


def reflection_progress(problems: list[str]) -> list[dict[str, Any]]:
    """The progress page's rows, one per reflection prompt (see :mod:`clientcare.registry`)."""
    store, rows = LearnerFile(JOURNAL), []
    for _, reflections in loaded_items("reflections", load_reflection_set, problems):
        for prompt in reflections.prompts:
            record = saved_answer(prompt.id, store)
            done = bool(record.get("text", "").strip())
            status = _written_on(record.get("saved_at")) if done else "Not written"
            rows.append(progress_row(prompt.lesson, prompt.id, prompt.title, done, status))
    return rows


class ReflectionView(widgets.VBox):
    """A prompt, a text area and a Save button; saves as the learner types."""

    def __init__(self, session: ReflectionSession):
        self.session = session
        reflection = session.reflection
        # An <h3>: lessons put their reflections under a "## Reflection" section heading.
        self.heading = widgets.HTML(
            heading(f"Reflection: {reflection.title}", 3, element_id=f"reflection-{reflection.id}")
            + markdown_html(reflection.prompt)
        )
        self.text = widgets.Textarea(
            value=session.text,
            placeholder="Write your reflection here. It is saved as you type.",
            description="Your answer",
            tooltip=f"Your reflection on: {reflection.title}",
            layout=widgets.Layout(width="100%"),
            style={"description_width": "initial"},
        )
        self.save_button = widgets.Button(description="Save", icon="save", tooltip="Save this reflection now")
        self.status = widgets.HTML()
        if session.warning:
            self.status.value = f"<span role='alert' class='cc-alert'>{html.escape(session.warning)}</span>"
        elif session.restored:
            self.status.value = "<span>Your saved answer has been restored.</span>"
        self.text.observe(lambda change: self.save(), names="value")
        self.save_button.on_click(lambda _: self.save(record=True))
        self._recorded: str | None = None  # the text last sent as a learning record
        super().__init__([self.heading, self.text, widgets.HBox([self.save_button, self.status])])
        themed(self, "reflection")

    def save(self, record: bool = False) -> None:
        """Save the answer; ``record`` (the Save button) also makes a learning record of it (see :mod:`.xapi`:
        the text itself only if the learner opted in to sharing it)."""
        try:
            saved_at = self.session.save(self.text.value)
        except OSError as error:
            self.status.value = (
                f"<span role='alert' class='cc-alert'>Could not save ({html.escape(str(error))}). "
                "Copy your text somewhere safe and tell your instructor.</span>"
            )
            return
        self.status.value = f"<span>Saved at {saved_at[11:16]}.</span>"
        store = self.session.store
        if record and store is not None and self.text.value.strip() and self.text.value != self._recorded:
            from . import xapi

            self._recorded = self.text.value
            xapi.record(xapi.reflection_statement, self.session.reflection, self.text.value, folder=store.folder)


def show_reflection(prompt_id: str) -> ReflectionView:
    """Display reflection prompt ``prompt_id`` with the learner's saved answer."""
    return ReflectionView(ReflectionSession(load_reflection(prompt_id), LearnerFile(JOURNAL)))
