"""The reflection journal: prompts from ``content/reflections/`` and the learner's saved answers.

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

from .content import (
    CONTENT_DIR, ContentError, check_known_fields, field, file_ids, identifier, load_item, require_mapping,
    unique, where,
)
from .store import LearnerFile

JOURNAL = "journal"


@dataclass(frozen=True)
class Prompt:
    id: str
    title: str
    prompt: str
    lesson: int


@dataclass(frozen=True)
class ReflectionSet:
    id: str
    lesson: int
    prompts: tuple[Prompt, ...]


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
        prompts.append(Prompt(prompt_id, field(raw, "title", str, at), field(raw, "prompt", str, at), lesson))
    unique([p.id for p in prompts], "prompt id", top)
    return ReflectionSet(identifier(data, "id", top), lesson, tuple(prompts))


def load_reflections(set_id: str) -> ReflectionSet:
    return load_item("reflections", set_id, parse_reflections)


def all_prompts() -> dict[str, Prompt]:
    """Every reflection prompt in the course by id; an id used in two files is an error."""
    found: dict[str, Prompt] = {}
    owner: dict[str, str] = {}
    for set_id in file_ids("reflections"):
        for prompt in load_reflections(set_id).prompts:
            if prompt.id in found:
                raise ContentError(
                    f"reflections/{set_id}.yaml: prompt id '{prompt.id}' is already used in "
                    f"reflections/{owner[prompt.id]}.yaml"
                )
            found[prompt.id], owner[prompt.id] = prompt, set_id
    return found


def find_prompt(prompt_id: str) -> Prompt:
    prompts = all_prompts()
    if prompt_id not in prompts:
        raise ContentError(
            f"{where(CONTENT_DIR / 'reflections')}: no reflection prompt '{prompt_id}' "
            f"(available: {', '.join(sorted(prompts)) or 'none'})"
        )
    return prompts[prompt_id]


class Journal:
    """The learner's answers, one entry per prompt id: pure logic over a LearnerFile."""

    def __init__(self, store: LearnerFile | None = None):
        self.store = store or LearnerFile(JOURNAL)

    def answer(self, prompt_id: str) -> str:
        return self.store.load().get(prompt_id, {}).get("text", "")

    def save(self, prompt_id: str, text: str) -> str:
        """Save ``text`` as the answer; returns the time saved (ISO format)."""
        saved_at = datetime.now().isoformat(timespec="seconds")

        def change(data: dict[str, Any]) -> None:
            data[prompt_id] = {"text": text, "saved_at": saved_at}

        self.store.update(change)
        return saved_at


class ReflectionBox:
    """A prompt, a text area and a Save button; saves as the learner types."""

    def __init__(self, prompt: Prompt, journal: Journal | None = None):
        import ipywidgets as widgets

        self.prompt = prompt
        self.journal = journal or Journal()
        saved = self.journal.answer(prompt.id)
        self.heading = widgets.HTML(
            f"<h4 id='reflection-{prompt.id}'>Reflection: {html.escape(prompt.title)}</h4>"
            f"<p>{html.escape(prompt.prompt)}</p>"
        )
        self.text = widgets.Textarea(
            value=saved,
            placeholder="Write your reflection here. It is saved as you type.",
            description="Your answer",
            tooltip=f"Your reflection on: {prompt.title}",
            layout=widgets.Layout(width="100%", height="140px"),
            style={"description_width": "initial"},
        )
        self.save_button = widgets.Button(description="Save", icon="save", tooltip="Save this reflection now")
        self.status = widgets.HTML()
        if self.journal.store.warning:
            self.status.value = f"<span role='alert' style='color:#b71c1c'>{html.escape(self.journal.store.warning)}</span>"
        elif saved:
            self.status.value = "<span>Your saved answer has been restored.</span>"
        self.text.observe(lambda change: self.save(), names="value")
        self.save_button.on_click(lambda _: self.save())
        self.view = widgets.VBox([self.heading, self.text, widgets.HBox([self.save_button, self.status])])
        self.view.add_class("clientcare-reflection")

    def save(self) -> None:
        try:
            saved_at = self.journal.save(self.prompt.id, self.text.value)
        except OSError as error:
            self.status.value = (
                f"<span role='alert' style='color:#b71c1c'>Could not save ({html.escape(str(error))}). "
                "Copy your text somewhere safe and tell your instructor.</span>"
            )
            return
        self.status.value = f"<span>Saved at {saved_at[11:16]}.</span>"


def show_reflection(prompt_id: str):
    """Display reflection prompt ``prompt_id`` with the learner's saved answer."""
    return ReflectionBox(find_prompt(prompt_id)).view
