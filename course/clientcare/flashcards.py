"""Flashcards: the deck read from ``content/flashcards/<id>.yaml`` (:class:`Flashcards`), studying it
(:class:`FlashcardsSession`) and the widget (:class:`FlashcardsView`).

:class:`FlashcardsSession` holds everything a learner does with a deck (which card
is showing, which side, the order, which cards they know) with no widgets, so it
can be tested directly. The cards a learner knows are saved straight away to
their ``flashcards.json`` as ``{deck_id: {"known": [card ids]}}``.
"""
from __future__ import annotations

import html
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from .content import (
    check_known_fields, field, identifier, load_item, markdown_html, require_mapping, unique, where,
)
from .content import loaded_items
from .registry import progress_row
from .store import LearnerFile
from .style import heading, themed

DECK_FIELDS = {"id", "title", "cards"}
CARD_FIELDS = {"id", "front", "back"}


# ---------------------------------------------------------------- model


@dataclass(frozen=True)
class Card:
    """A question on the front and its answer on the back."""

    id: str
    front: str
    back: str


@dataclass(frozen=True)
class Flashcards:
    """A titled deck of cards."""

    id: str
    title: str
    cards: tuple[Card, ...]


def parse_card(item: Any, path: Path, number: int) -> Card:
    """Validate the ``number``-th card (from 1) of the deck file at ``path``."""
    require_mapping(item, where(path, f"card {number}"))
    card_id = identifier(item, "id", where(path, f"card {number}"))
    at = where(path, f"card '{card_id}'")
    check_known_fields(item, CARD_FIELDS, at)
    return Card(card_id, field(item, "front", str, at), field(item, "back", str, at))


def parse_flashcards(data: dict[str, Any], path: Path) -> Flashcards:
    """Build a :class:`Flashcards` from a parsed YAML file, raising ``ContentError`` on any mistake."""
    at = where(path)
    check_known_fields(data, DECK_FIELDS, at)
    deck_id = identifier(data, "id", at)
    title = field(data, "title", str, at)
    raw_cards = field(data, "cards", list, at)
    cards = tuple(parse_card(raw, path, n) for n, raw in enumerate(raw_cards, start=1))
    unique([card.id for card in cards], "card id", at)
    return Flashcards(deck_id, title, cards)


def load_flashcards(deck_id: str) -> Flashcards:
    """Read and validate ``content/flashcards/<deck_id>.yaml``."""
    return load_item("flashcards", deck_id, parse_flashcards)


def saved_known(deck_id: str, store: LearnerFile | None = None) -> set[str]:
    """The ids of the cards the learner has marked as known in this deck."""
    record = (store or LearnerFile("flashcards")).load().get(deck_id)
    known = record.get("known") if isinstance(record, dict) else None
    return {card_id for card_id in known if isinstance(card_id, str)} if isinstance(known, list) else set()


def flashcards_progress(problems: list[str]) -> list[dict[str, Any]]:
    """The progress page's rows, one per deck, course-wide (see :mod:`clientcare.registry`)."""
    store, rows = LearnerFile("flashcards"), []
    for deck_id, deck in loaded_items("flashcards", load_flashcards, problems):
        known = saved_known(deck_id, store) & {card.id for card in deck.cards}
        total = len(deck.cards)
        rows.append(progress_row(None, deck_id, deck.title, len(known) == total, f"{len(known)} of {total} cards known"))
    return rows


# ---------------------------------------------------------------- logic


class FlashcardsSession:
    """Studying one deck: navigation (wrapping round at either end), flipping, shuffling, known cards.

    With ``only_unknown`` on, navigation skips the cards already known. Pass
    ``store=None`` to keep progress in memory only (e.g. in tests of the logic);
    pass a :class:`LearnerFile` to load and save it.
    """

    def __init__(self, deck: Flashcards, store: LearnerFile | None = None, rng: random.Random | None = None):
        self.deck = deck
        self.store = store
        self.rng = rng or random.Random()
        self.order: list[int] = list(range(len(deck.cards)))
        self.position = 0
        self.showing_back = False
        self.only_unknown = False
        ids = {card.id for card in deck.cards}
        self.known: set[str] = saved_known(deck.id, store) & ids if store else set()

    # -- what is showing
    @property
    def current(self) -> Card:
        """The card on screen."""
        return self.deck.cards[self.order[self.position]]

    @property
    def face(self) -> str:
        """The text on the side showing."""
        return self.current.back if self.showing_back else self.current.front

    @property
    def all_known(self) -> bool:
        return len(self.known) == len(self.deck.cards)

    def is_known(self, card: Card | None = None) -> bool:
        return (card or self.current).id in self.known

    def progress(self) -> tuple[int, int]:
        """(cards known, cards in the deck)."""
        return len(self.known), len(self.deck.cards)

    def progress_text(self) -> str:
        known, total = self.progress()
        return f"{known} of {total} known"

    def position_text(self) -> str:
        return f"Card {self.position + 1} of {len(self.order)}"

    # -- actions
    def flip(self) -> None:
        """Turn the card over."""
        self.showing_back = not self.showing_back

    def _step(self, direction: int) -> None:
        """Move one card forwards (1) or back (-1), wrapping round, skipping known cards if filtered."""
        for _ in range(len(self.order)):
            self.position = (self.position + direction) % len(self.order)
            if not (self.only_unknown and self.is_known()):
                break
        self.showing_back = False

    def next(self) -> None:
        """Go to the next card (after the last comes the first)."""
        self._step(1)

    def previous(self) -> None:
        """Go to the previous card (before the first comes the last)."""
        self._step(-1)

    def shuffle(self) -> None:
        """Put the cards in a new random order and start again from the first."""
        self.rng.shuffle(self.order)
        self.position = 0
        self.showing_back = False
        if self.only_unknown and self.is_known():
            self._step(1)

    def set_only_unknown(self, only_unknown: bool) -> None:
        """Show only the cards not yet known (moving on if the current card is known)."""
        self.only_unknown = only_unknown
        if only_unknown and self.is_known() and not self.all_known:
            self._step(1)

    def mark(self, known: bool) -> None:
        """Mark the current card as known or not known, and save at once."""
        if known:
            self.known.add(self.current.id)
        else:
            self.known.discard(self.current.id)
        self._save()

    def _save(self) -> None:
        if self.store is None:
            return
        known = [card.id for card in self.deck.cards if card.id in self.known]  # deck order

        def change(data: dict[str, Any]) -> None:
            data[self.deck.id] = {"known": known}

        self.store.update(change)


# ---------------------------------------------------------------- widget


class FlashcardsView(widgets.VBox):
    """The flashcard widget: the card, Flip, Previous, Next, Shuffle, "I know this" and progress."""

    def __init__(self, session: FlashcardsSession):
        self.session = session
        self.card = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.flip_button = widgets.Button(description="Show answer", icon="refresh",
                                          tooltip="Turn the card over")
        self.previous_button = widgets.Button(description="Previous card", icon="arrow-left",
                                              tooltip="Show the previous card")
        self.next_button = widgets.Button(description="Next card", icon="arrow-right",
                                          tooltip="Show the next card")
        self.shuffle_button = widgets.Button(description="Shuffle", icon="random",
                                             tooltip="Put the cards in a random order and start again")
        self.known_toggle = widgets.ToggleButton(description="I know this", icon="check",
                                                 tooltip="Mark this card as known; choose again to unmark it")
        self.filter_box = widgets.Checkbox(description="Only show cards I don't know yet", indent=False,
                                           tooltip="Skip the cards you have marked as known")
        self.position = widgets.Label()
        self.progress = widgets.HTML()
        self.note = widgets.HTML()
        self._refreshing = False
        self.flip_button.on_click(lambda _b: self._act(session.flip))
        self.previous_button.on_click(lambda _b: self._act(session.previous))
        self.next_button.on_click(lambda _b: self._act(session.next))
        self.shuffle_button.on_click(lambda _b: self._act(session.shuffle))
        self.known_toggle.observe(self._on_known, names="value")
        self.filter_box.observe(lambda change: self._act(lambda: session.set_only_unknown(change["new"])),
                                names="value")
        warning = session.store.warning if session.store else None
        super().__init__([
            widgets.HTML(heading(session.deck.title)
                         + (f'<p class="cc-alert" role="alert">{html.escape(warning)}</p>' if warning else "")),
            self.position, self.card,
            widgets.HBox([self.previous_button, self.flip_button, self.next_button]),
            widgets.HBox([self.known_toggle, self.shuffle_button, self.filter_box]),
            self.progress, self.note,
        ])
        themed(self, "flashcards")
        self.refresh()

    def _act(self, action) -> None:
        action()
        self.refresh()

    def _on_known(self, change: dict) -> None:
        if not self._refreshing:
            self.session.mark(change["new"])
            self.refresh()

    def refresh(self) -> None:
        """Show the session's current state."""
        session = self.session
        self._refreshing = True
        try:
            side = "Answer" if session.showing_back else "Question"
            self.card.value = (f'<div class="cc-card" aria-live="polite"><span class="cc-label">{side}</span>'
                               f'{markdown_html(session.face)}</div>')
            self.flip_button.description = "Show question" if session.showing_back else "Show answer"
            self.known_toggle.value = session.is_known()
            self.position.value = session.position_text()
            self.progress.value = f'<p role="status"><b>{session.progress_text()}</b></p>'
            done = session.only_unknown and session.all_known
            self.note.value = "<p>You know every card in this deck. Well done.</p>" if done else ""
        finally:
            self._refreshing = False


def show_flashcards(deck_id: str) -> FlashcardsView:
    """The flashcards for ``content/flashcards/<deck_id>.yaml``, with progress saved for the learner."""
    return FlashcardsView(FlashcardsSession(load_flashcards(deck_id), LearnerFile("flashcards")))
