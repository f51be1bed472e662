"""Branching client dialogues: the scenario (:class:`Scenario`), a learner's attempt (:class:`ScenarioSession`)
and the widget (:class:`ScenarioView`).

A scenario is a graph of nodes read from ``content/scenarios/<id>.yaml``: a
decision node offers choices, each with feedback, points (0-2) and the next node;
an ending node closes the dialogue. The learner's score is the sum of the points
of their choices out of 2 for every decision they took, so a detour through a
weak choice and a recovery never beats the best path.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field as dataclass_field
from datetime import datetime
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from .content import (
    ContentError, markdown_html, check_known_fields, field, identifier, load_item, require_mapping, unique, where,
)
from .store import LearnerFile

ENDINGS = ("strong", "mixed", "poor")
MAX_POINTS = 2


@dataclass(frozen=True)
class Choice:
    text: str
    feedback: str
    points: int
    next: str


@dataclass(frozen=True)
class Node:
    id: str
    text: str
    speaker: str | None = None
    choices: tuple[Choice, ...] = ()
    ending: str | None = None

    @property
    def is_ending(self) -> bool:
        return not self.choices


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    lesson: int
    setting: str
    start: str
    nodes: dict[str, Node]


# ---------------------------------------------------------------- validation

_SCENARIO_FIELDS = {"id", "title", "lesson", "setting", "start", "nodes"}
_NODE_FIELDS = {"speaker", "text", "choices", "ending"}
_CHOICE_FIELDS = {"text", "feedback", "points", "next"}


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
    return scenario


def _parse_node(node_id: str, raw: Any, at: str, path: Path) -> Node:
    require_mapping(raw, at)
    check_known_fields(raw, _NODE_FIELDS, at)
    raw_choices = field(raw, "choices", list, at, required=False, default=[])
    if not raw_choices:
        ending = field(raw, "ending", str, at)
        if ending not in ENDINGS:
            raise ContentError(f"{at}: field 'ending' must be one of {', '.join(ENDINGS)}, got {ending!r}")
        return Node(node_id, field(raw, "text", str, at), field(raw, "speaker", str, at, required=False), (), ending)
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
            next=field(raw_choice, "next", str, choice_at),
        ))
    if not any(c.points == MAX_POINTS for c in choices):
        raise ContentError(f"{at}: no choice is worth {MAX_POINTS} points; every decision needs a best answer")
    unique([c.text for c in choices], "choice text", at)
    return Node(node_id, field(raw, "text", str, at), field(raw, "speaker", str, at, required=False), tuple(choices))


def _check_graph(scenario: Scenario, path: Path) -> None:
    """Every choice points at a real node; every node is reachable; no loops."""
    if scenario.start not in scenario.nodes:
        raise ContentError(f"{where(path)}: field 'start' points at missing node '{scenario.start}'")
    for node in scenario.nodes.values():
        for number, choice in enumerate(node.choices, start=1):
            if choice.next not in scenario.nodes:
                raise ContentError(
                    f"{where(path, f'node {node.id!r}', f'choice {number}')}: "
                    f"'next' points at missing node '{choice.next}'"
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
            visit(choice.next, trail + [node_id])
        state[node_id] = "done"

    visit(scenario.start, [])
    unreachable = sorted(set(scenario.nodes) - set(state))
    if unreachable:
        raise ContentError(f"{where(path, f'node {unreachable[0]!r}')}: cannot be reached from '{scenario.start}'")


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
    """

    scenario: Scenario
    store: LearnerFile | None = None
    steps: list[Step] = dataclass_field(default_factory=list)
    current_id: str = ""

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
    def percent(self) -> int:
        return round(100 * self.score / self.max_score) if self.steps else 0

    def choose(self, index: int) -> Choice:
        """Take choice number ``index`` (0-based) at the current node; returns it for its feedback."""
        if self.finished:
            raise ValueError(f"scenario '{self.scenario.id}' has ended; restart to play again")
        choices = self.current.choices
        if not 0 <= index < len(choices):
            raise ValueError(f"choice {index + 1} does not exist at node '{self.current_id}' (1-{len(choices)})")
        choice = choices[index]
        self.steps.append(Step(self.current, choice))
        self.current_id = choice.next
        if self.finished and self.store is not None:
            record_result(self, self.store)
        return choice

    def restart(self) -> None:
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


# ---------------------------------------------------------------- the widget


# Long choices wrap inside their buttons instead of being cut off with an ellipsis.
_STYLE = """<style>
.clientcare-choice { white-space: normal !important; height: auto !important; text-align: left !important;
  line-height: 1.4 !important; padding: 6px 10px !important; margin: 2px 0 !important; }
.clientcare-scenario p { margin: 0.3em 0; }
</style>"""


_ENDING_LABELS = {"strong": "A strong outcome", "mixed": "A mixed outcome", "poor": "A poor outcome"}


class ScenarioView(widgets.VBox):
    """The interactive dialogue: choices as buttons, feedback after each, a summary at the end."""

    def __init__(self, session: ScenarioSession):
        self.session = session
        scenario = session.scenario
        self.title = widgets.HTML(
            f"{_STYLE}<h3>{html.escape(scenario.title)}</h3><div><em>{markdown_html(scenario.setting)}</em></div>"
        )
        self.feedback = widgets.HTML(layout=widgets.Layout(margin="0 0 8px 0"))
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
            layout=widgets.Layout(border="1px solid #ccc", padding="8px 12px"),
        )
        self.add_class("clientcare-scenario")
        self._render()

    def choose(self, index: int) -> None:
        choice = self.session.choose(index)
        verdict = {2: "Good choice", 1: "Partly right", 0: "Not the best choice"}[choice.points]
        colour = {2: "#1b5e20", 1: "#8a6d00", 0: "#b71c1c"}[choice.points]
        self.feedback.value = (
            f"<div role='status' style='border-left:4px solid {colour};padding-left:8px'>"
            f"<strong style='color:{colour}'>{verdict} (+{choice.points})</strong>{markdown_html(choice.feedback)}</div>"
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
        speaker = f"<strong>{html.escape(node.speaker)}:</strong>" if node.speaker else ""
        self.dialogue.value = f"<div class='clientcare-dialogue'>{speaker}{markdown_html(node.text)}</div>"
        self.score.value = f"<span role='status'>Score: {self.session.score} of {self.session.max_score}</span>&nbsp;"
        if self.session.finished:
            self.choices.children = [widgets.HTML(self._summary())]
            return
        buttons = []
        for index, choice in enumerate(node.choices):
            button = widgets.Button(
                description=f"{index + 1}. {choice.text}",
                tooltip=choice.text,
                layout=widgets.Layout(width="100%", height="auto"),
            )
            button.style.text_align = "left"
            button.add_class("clientcare-choice")
            button.on_click(lambda _, i=index: self.choose(i))
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
            f"<div class='clientcare-summary'><h4>{label}: you scored {run.score} of {run.max_score} "
            f"({run.percent}%)</h4>"
            f"<p>Your choices:</p><ol>{rows}</ol>"
            f"<p>Use <em>Restart scenario</em> to try a different path.</p></div>"
        )


def show_scenario(scenario_id: str) -> ScenarioView:
    """Display the branching scenario ``scenario_id`` (a file in content/scenarios/)."""
    return ScenarioView(ScenarioSession(load_scenario(scenario_id), LearnerFile("scenarios")))
