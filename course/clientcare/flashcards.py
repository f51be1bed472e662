"""Flashcards with spaced repetition: a lesson's deck from ``content/flashcards/<id>.yaml``
(:class:`Flashcards`), reviewing cards (:class:`FlashcardsSession`) and the widget
(:class:`FlashcardsView`).

A review shows a card's question, the learner recalls the answer, turns the card over and
rates their recall Again, Hard, Good or Easy; FSRS (:mod:`clientcare.srs`) schedules the card's
next review from that rating. A lesson ends with its own deck (``show_flashcards("<deck>")``);
``show_review()`` is one queue of every card due across the course.

Schedules are saved at once to the learner's ``flashcards.json`` as
``{deck_id: {"schedules": {card_id: <fsrs.Card as a dict>}}}`` (schema version 2). Version 1
kept ``{deck_id: {"known": [card ids]}}``; on load, each card marked known becomes a card
reviewed once and rated Easy at that moment (and a list card that was split into single cards
passes its mark to every card that names it in ``formerly``).
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
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
from .style import heading, themed

DECK_FIELDS = {"id", "title", "lesson", "cards"}
CARD_FIELDS = {"id", "front", "back", "formerly"}
LEARNER_FILE = "flashcards"
#: A card due within this time counts as due now, so a card rated Again comes back in the same sitting.
LEARN_AHEAD = timedelta(minutes=20)
#: A card's answer is one fact: a list of more points than this should be split into several cards.
MAX_LIST_POINTS = 3
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+", re.M)
_FORMERLY = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*/[a-z0-9]+(-[a-z0-9]+)*$")


# ---------------------------------------------------------------- model


@dataclass(frozen=True)
class Card:
    """A question on the front and its answer on the back; ``formerly`` names cards it replaces
    (``deck/card``), whose learners' marks it inherits."""

    id: str
    front: str
    back: str
    formerly: tuple[str, ...] = ()


@dataclass(frozen=True)
class Flashcards:
    """A titled deck of cards, belonging to a lesson (None: to no single lesson)."""

    id: str
    title: str
    cards: tuple[Card, ...]
    lesson: int | None = None


def parse_card(item: Any, path: Path, number: int) -> Card:
    """Validate the ``number``-th card (from 1) of the deck file at ``path``."""
    require_mapping(item, where(path, f"card {number}"))
    card_id = identifier(item, "id", where(path, f"card {number}"))
    at = where(path, f"card '{card_id}'")
    check_known_fields(item, CARD_FIELDS, at)
    front, back = field(item, "front", str, at), field(item, "back", str, at)
    points = len(_LIST_ITEM.findall(back))
    if points > MAX_LIST_POINTS:
        raise ContentError(f"{at}: field 'back' is a list of {points} points: a card holds one fact, so split it "
                           f"into cards of at most {MAX_LIST_POINTS} points")
    formerly = field(item, "formerly", list, at, required=False, default=[])
    for old in formerly:
        if not isinstance(old, str) or not _FORMERLY.match(old):
            raise ContentError(f"{at}: field 'formerly' lists {old!r}; write each as deck-id/card-id")
    return Card(card_id, front, back, tuple(formerly))


def parse_flashcards(data: dict[str, Any], path: Path) -> Flashcards:
    """Build a :class:`Flashcards` from a parsed YAML file, raising ``ContentError`` on any mistake."""
    at = where(path)
    check_known_fields(data, DECK_FIELDS, at)
    deck_id = identifier(data, "id", at)
    title = field(data, "title", str, at)
    lesson = field(data, "lesson", int, at, required=False)
    raw_cards = field(data, "cards", list, at)
    cards = tuple(parse_card(raw, path, n) for n, raw in enumerate(raw_cards, start=1))
    unique([card.id for card in cards], "card id", at)
    return Flashcards(deck_id, title, cards, lesson)


def load_flashcards(deck_id: str) -> Flashcards:
    """Read and validate ``content/flashcards/<deck_id>.yaml``."""
    return load_item("flashcards", deck_id, parse_flashcards)


def all_decks(problems: list[str] | None = None) -> list[Flashcards]:
    """Every deck that can be read, in file order (lesson decks are numbered); errors go to ``problems``."""
    return [deck for _, deck in loaded_items("flashcards", load_flashcards, [] if problems is None else problems)]


# ---------------------------------------------------------------- the learner's schedules


def saved_schedules(deck_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """``{card_id: saved schedule}`` for one deck, from the learner file's contents."""
    record = data.get(deck_id)
    schedules = record.get("schedules") if isinstance(record, dict) else None
    return srs.readable_schedules(schedules, f"flashcards.json: deck '{deck_id}'")


def upgrade_known_marks(data: dict[str, Any], when: datetime | None = None) -> dict[str, Any]:
    """Version 1 -> 2: each card marked "known" becomes a card reviewed once, rated Easy, now.

    A mark on a card that was split or moved (named in another card's ``formerly``) goes to
    every card that replaces it; a mark on a card that no longer exists anywhere is dropped."""
    when = when or srs.now()
    replacements: dict[str, list[tuple[str, str]]] = {}
    existing: set[tuple[str, str]] = set()
    for deck in all_decks():
        for card in deck.cards:
            existing.add((deck.id, card.id))
            for old in card.formerly:
                replacements.setdefault(old, []).append((deck.id, card.id))
    upgraded: dict[str, Any] = {}
    for deck_id, record in data.items():
        known = record.get("known") if isinstance(record, dict) else None
        for card_id in known if isinstance(known, list) else []:
            if not isinstance(card_id, str):
                continue
            targets = replacements.get(f"{deck_id}/{card_id}", [])
            if (deck_id, card_id) in existing:
                targets = [(deck_id, card_id), *targets]
            for new_deck, new_card in targets:
                schedules = upgraded.setdefault(new_deck, {}).setdefault("schedules", {})
                schedules.setdefault(new_card, srs.review(None, "Easy", when))
    return upgraded


def card_schedules(deck: Flashcards, data: dict[str, Any]) -> list[Any]:
    """Each card's saved schedule, in deck order (None for a card never studied)."""
    schedules = saved_schedules(deck.id, data)
    return [schedules.get(card.id) for card in deck.cards]


def flashcards_progress(problems: list[str]) -> list[dict[str, Any]]:
    """The progress page's rows, one per deck (see :mod:`clientcare.registry`)."""
    data, rows = LearnerFile(LEARNER_FILE).load(), []
    for deck in all_decks(problems):
        count, total = srs.due_today(card_schedules(deck, data)), len(deck.cards)
        studied = total - count.new
        rows.append(progress_row(deck.lesson, deck.id, deck.title, studied == total,
                                 f"{studied} of {total} cards studied; {count.due} due for review today"))
    return rows


def cards_due_today(when: datetime | None = None) -> srs.DueToday:
    """(cards studied before and due for review by the end of today, new cards never studied), course-wide."""
    data = LearnerFile(LEARNER_FILE).load()
    return srs.due_today((saved for deck in all_decks() for saved in card_schedules(deck, data)), when)


# ---------------------------------------------------------------- logic


@dataclass(frozen=True)
class Item:
    """One card in a review: which deck it is from, and the card."""

    deck: Flashcards
    card: Card

    @property
    def key(self) -> tuple[str, str]:
        return self.deck.id, self.card.id


class FlashcardsSession:
    """Reviewing one deck, or several (the course's review queue): no widgets.

    The queue holds the cards due now (or within :data:`LEARN_AHEAD`): cards studied before,
    earliest due first, then new cards in deck order. :meth:`show_answer` turns the current card
    over; :meth:`rate` schedules it with FSRS, saves at once and moves on. ``store=None`` keeps
    schedules in memory only; ``clock`` gives the time (tests pass their own).
    """

    def __init__(self, decks: Flashcards | Sequence[Flashcards], store: LearnerFile | None = None,
                 clock: Callable[[], datetime] = srs.now, title: str | None = None):
        self.decks: tuple[Flashcards, ...] = (decks,) if isinstance(decks, Flashcards) else tuple(decks)
        self.title = title or (self.decks[0].title if len(self.decks) == 1 else "Revision")
        self.store = store
        self.clock = clock
        data = store.load() if store else {}
        self.schedules: dict[tuple[str, str], Any] = {
            (deck.id, card_id): saved for deck in self.decks for card_id, saved in saved_schedules(deck.id, data).items()
        }
        self.items = [Item(deck, card) for deck in self.decks for card in deck.cards]
        self.showing_answer = False
        self.reviewed = 0          # reviews in this sitting
        self.last: srs.ReviewFinished | None = None
        self.current: Item | None = None
        self._advance()

    @property
    def warning(self) -> str | None:
        return self.store.warning if self.store else None

    def schedule(self, item: Item) -> Any:
        return self.schedules.get(item.key)

    def queue(self) -> list[Item]:
        """The cards to review now, in the order they come."""
        moment = self.clock()
        studied = sorted((item for item in self.items if not srs.is_new(self.schedule(item))),
                         key=lambda item: srs.due_at(self.schedule(item)))
        due = [item for item in studied if srs.due_at(self.schedule(item)) <= moment]
        ahead = [item for item in studied if moment < srs.due_at(self.schedule(item)) <= moment + LEARN_AHEAD]
        new = [item for item in self.items if srs.is_new(self.schedule(item))]
        return due + new + ahead  # a card just rated Again waits until the others have been seen

    def counts(self) -> dict[str, int]:
        """``due`` (studied, due now), ``new`` (never studied), ``total`` cards."""
        queue = self.queue()
        new = sum(1 for item in queue if srs.is_new(self.schedule(item)))
        return {"due": len(queue) - new, "new": new, "total": len(self.items)}

    def next_due(self) -> datetime | None:
        """When the next card falls due, if none is due now."""
        dues = [srs.due_at(self.schedule(item)) for item in self.items if not srs.is_new(self.schedule(item))]
        return min(dues) if dues else None

    @property
    def face(self) -> str:
        """The text on the side showing ("" when nothing is due)."""
        if self.current is None:
            return ""
        return self.current.card.back if self.showing_answer else self.current.card.front

    def _advance(self) -> None:
        queue = self.queue()
        self.current = queue[0] if queue else None
        self.showing_answer = False
        self.shown_at = self.clock()

    def show_answer(self) -> None:
        """Turn the current card over."""
        if self.current is not None:
            self.showing_answer = True

    def preview(self) -> dict[str, datetime]:
        """When the current card would be due again after each rating."""
        return srs.preview(self.schedule(self.current), self.clock()) if self.current else {}

    def comes_back(self) -> dict[str, str]:
        """Once the answer is shown, when the card would come back after each rating, in words:
        ``{"Again": "in 1 minute", "Hard": "in 6 minutes", "Good": "in 10 minutes", "Easy": "in 8 days"}``
        (empty before the answer is shown, or when nothing is due)."""
        if self.current is None or not self.showing_answer:
            return {}
        moment = self.clock()
        return {name: srs.interval_text(due, moment) for name, due in self.preview().items()}

    def rate(self, answer: str) -> srs.ReviewFinished:
        """Rate recall of the current card (after its answer is shown), save, and move on."""
        if self.current is None:
            raise ValueError("there is no card to rate: nothing is due")
        if not self.showing_answer:
            raise ValueError("show the answer before rating the card")
        item, when = self.current, self.clock()
        schedule = srs.review(self.schedule(item), answer, when)
        self.schedules[item.key] = schedule
        if self.store is not None:
            def change(data: dict[str, Any]) -> None:
                record = data.get(item.deck.id)
                record = record if isinstance(record, dict) else {}
                schedules = record.get("schedules") if isinstance(record.get("schedules"), dict) else {}
                schedules[item.card.id] = schedule
                data[item.deck.id] = {**record, "schedules": schedules}

            self.store.update(change)
        self.reviewed += 1
        self.last = srs.ReviewFinished(
            "flashcard", item.deck.id, item.card.id, item.card.front, srs.rating(answer).name, when,
            srs.due_at(schedule), seconds=(when - self.shown_at).total_seconds())
        if self.store is not None:
            from .cpd import log_practice

            log_practice(self.last)
        self._advance()
        srs.review_finished(self.last)
        return self.last


# ---------------------------------------------------------------- widget


class FlashcardsView(widgets.VBox):
    """The review widget: the card, Show answer, then Again / Hard / Good / Easy, and what is due."""

    def __init__(self, session: FlashcardsSession):
        self.session = session
        self.counts = widgets.HTML()
        self.card = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.show_button = widgets.Button(description="Show answer", icon="eye",
                                          tooltip="Turn the card over once you have recalled the answer")
        self.rating_buttons = {}
        for name, _rating, meaning in srs.RATINGS:
            button = widgets.Button(description=name, tooltip=meaning)
            button.on_click(lambda _b, name=name: self.rate(name))
            self.rating_buttons[name] = button
        self.ratings = widgets.HBox(list(self.rating_buttons.values()))
        self.ratings.add_class("cc-ratings")
        self.note = widgets.HTML()
        self.show_button.on_click(lambda _b: self.show_answer())
        warning = session.warning
        super().__init__([
            widgets.HTML(heading(session.title)
                         + (f'<p class="cc-alert" role="alert">{html.escape(warning)}</p>' if warning else "")),
            self.counts, self.card, widgets.HBox([self.show_button]), self.ratings, self.note,
        ])
        themed(self, "flashcards")
        self.refresh()

    def show_answer(self) -> None:
        self.session.show_answer()
        self.refresh()
        self.rating_buttons["Good"].focus()  # the pressed button is now inactive: keep keyboard users here

    def rate(self, answer: str) -> None:
        try:
            event = self.session.rate(answer)
        except OSError as error:
            self.note.value = (f"<p role='alert' class='cc-alert'>Could not save this review "
                               f"({html.escape(str(error))}). Please tell your instructor.</p>")
            return
        self.refresh()
        when = srs.interval_text(event.due, event.reviewed_at)
        self.note.value = f"<p role='status'>Rated {event.rating}: this card comes back {when}.</p>"
        if self.session.current is not None:
            self.show_button.focus()

    def refresh(self) -> None:
        """Show the session's current state."""
        session, counts = self.session, self.session.counts()
        self.counts.value = (f'<p class="cc-counts"><b>{counts["due"]} due for review</b>, {counts["new"]} new, '
                             f'{counts["total"]} cards in all.</p>')
        current = session.current
        if current is None:
            upcoming = session.next_due()
            when = f" The next card is due {srs.interval_text(upcoming, session.clock())}." if upcoming else ""
            self.card.value = (f'<div class="cc-card" aria-live="polite"><p>Nothing is due for review now.{when} '
                               'Well done.</p></div>')
        else:
            side = "Answer" if session.showing_answer else "Question"
            answer = (f'<div class="cc-card-question">{markdown_html(current.card.front)}</div>'
                      if session.showing_answer else "")
            self.card.value = (f'<div class="cc-card" aria-live="polite">{answer}<span class="cc-label">{side}</span>'
                               f'{markdown_html(session.face)}</div>')
        self.show_button.disabled = current is None or session.showing_answer
        comes_back = session.comes_back()
        for name, _rating, meaning in srs.RATINGS:
            button, when = self.rating_buttons[name], comes_back.get(name)
            button.disabled = when is None
            # The button's own text, so also its accessible name, says when the card would come back
            # ("Good · in 10 minutes"): a tooltip alone reaches neither keyboard, touch nor screen reader users.
            button.description = f"{name} · {when}" if when else name
            button.tooltip = f"{meaning} (due again {when})" if when else meaning


def show_flashcards(deck_id: str) -> FlashcardsView:
    """The lesson's deck ``content/flashcards/<deck_id>.yaml``: its cards due now, scheduled for the learner."""
    return FlashcardsView(FlashcardsSession(load_flashcards(deck_id), LearnerFile(LEARNER_FILE)))


def show_review() -> FlashcardsView:
    """One review queue of every card due across the course (every deck)."""
    return FlashcardsView(FlashcardsSession(all_decks(), LearnerFile(LEARNER_FILE),
                                            title="Revision: every card due across the course"))
