"""Spaced repetition for flashcards and interview questions, scheduled by FSRS (the ``fsrs`` package).

Every card and every interview question the learner has practised has a *schedule*: an
``fsrs.Card`` (its memory state and when it is next due), kept in the learner's file as the
dictionary ``fsrs.Card.to_dict()`` gives. A card never practised has no schedule and counts as
new (due now). A review takes one of FSRS's four ratings, Again, Hard, Good or Easy, and FSRS
works out when the item is due again: minutes later for Again on a card being learnt, days or
weeks later for Good and Easy once it is known.

When a review is finished the activity calls :func:`review_finished`, which passes a
:class:`ReviewFinished` to every listener added with :func:`add_review_listener` (for example a
learning record store). A listener that fails never loses the learner's review: it is saved first.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Mapping, NamedTuple

from fsrs import Card, Rating, Scheduler, State

#: The four answers a learner gives after seeing the answer, in the order they are offered.
RATINGS: tuple[tuple[str, Rating, str], ...] = (
    ("Again", Rating.Again, "I did not recall it: show it again soon"),
    ("Hard", Rating.Hard, "I recalled it with serious difficulty"),
    ("Good", Rating.Good, "I recalled it after some thought"),
    ("Easy", Rating.Easy, "I recalled it at once"),
)
RATING_NAMES = {name: rating for name, rating, _ in RATINGS}

# FSRS's default parameters, 90% desired retention. No fuzzing, so that a learner's schedule
# is reproducible (the same reviews give the same due dates on every machine).
SCHEDULER = Scheduler(desired_retention=0.9, enable_fuzzing=False)


def now() -> datetime:
    """The current time, in UTC (FSRS works in UTC)."""
    return datetime.now(timezone.utc)


def rating(name: str | Rating) -> Rating:
    """``"Good"`` -> ``Rating.Good`` (a :class:`fsrs.Rating` is returned unchanged)."""
    if isinstance(name, Rating):
        return name
    try:
        return RATING_NAMES[name]
    except KeyError:
        raise ValueError(f"a review is rated {', '.join(RATING_NAMES)}, not {name!r}") from None


def schedule_of(saved: Any) -> Card | None:
    """The ``fsrs.Card`` saved as ``saved`` (None if there is none, or it cannot be read)."""
    if not isinstance(saved, Mapping):
        return None
    try:
        card = Card.from_dict(dict(saved))
        return card if card.due.tzinfo is not None else None
    except (KeyError, TypeError, ValueError):
        return None


def readable_schedules(saved: Any, where: str) -> dict[str, Any]:
    """The schedules in ``saved`` (``{item id: schedule}``) that can be read; one warning names the others,
    which start again as new items (the rest of the learner's schedules are kept)."""
    if not isinstance(saved, Mapping):
        return {}
    good = {item: schedule for item, schedule in saved.items() if schedule_of(schedule) is not None}
    broken = sorted(str(item) for item in saved if item not in good)
    if broken:
        warnings.warn(f"{where}: the saved schedule of {', '.join(broken)} could not be read; "
                      "those items start again as new", stacklevel=2)
    return good


def review(saved: Any, answer: str | Rating, when: datetime | None = None) -> dict[str, Any]:
    """The schedule after one review rated ``answer``, as a dictionary to save."""
    card = schedule_of(saved) or Card(card_id=1)
    card, _log = SCHEDULER.review_card(card, rating(answer), review_datetime=when or now())
    return card.to_dict()


def due_at(saved: Any) -> datetime | None:
    """When the item is next due (None: never reviewed, so due now as a new item)."""
    card = schedule_of(saved)
    return card.due if card else None


def is_due(saved: Any, when: datetime | None = None) -> bool:
    """Is the item due at ``when`` (now)? A new item always is."""
    due = due_at(saved)
    return due is None or due <= (when or now())


def is_new(saved: Any) -> bool:
    return schedule_of(saved) is None


def due_by_end_of_day(saved: Any, when: datetime | None = None) -> bool:
    """Is the item due before the end of the learner's day (local midnight)? New items are."""
    due = due_at(saved)
    if due is None:
        return True
    local = (when or now()).astimezone()
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return due <= midnight


class DueToday(NamedTuple):
    """How many of a learner's items (flashcards, interview questions) are due by the end of their day."""

    due: int  # practised before and due again by the end of today
    new: int  # never practised (a new item is due now)


def due_today(schedules: Iterable[Any], when: datetime | None = None) -> DueToday:
    """Count the saved schedules (one per item; None or unreadable: never practised) that are due by
    the end of the learner's day, apart from the items never practised. The one counter behind the
    flashcards' and the interview questions' "due today" figures and progress rows."""
    due = new = 0
    for saved in schedules:
        if is_new(saved):
            new += 1
        elif due_by_end_of_day(saved, when):
            due += 1
    return DueToday(due, new)


def preview(saved: Any, when: datetime | None = None) -> dict[str, datetime]:
    """For each rating name, when the item would next be due if rated so now (shown on the rating buttons)."""
    when = when or now()
    return {name: datetime.fromisoformat(review(saved, name, when)["due"]) for name, _, _ in RATINGS}


def interval_text(due: datetime, when: datetime | None = None) -> str:
    """``in 10 minutes``, ``tomorrow``, ``in 4 days``, ``in 3 months``: how long until ``due``."""
    seconds = (due - (when or now())).total_seconds()
    if seconds < 60:
        return "now"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"in {minutes} minute{'s' if minutes != 1 else ''}"
    hours = round(seconds / 3600)
    if hours < 24:
        return f"in {hours} hour{'s' if hours != 1 else ''}"
    days = round(seconds / 86400)
    if days == 1:
        return "tomorrow"
    if days < 60:
        return f"in {days} days"
    return f"in {round(days / 30)} months"


def state_name(saved: Any) -> str:
    """``new``, ``learning``, ``review`` or ``relearning``."""
    card = schedule_of(saved)
    return "new" if card is None else {State.Learning: "learning", State.Review: "review",
                                       State.Relearning: "relearning"}[card.state]


# ---------------------------------------------------------------- the "review finished" hook


@dataclass(frozen=True)
class ReviewFinished:
    """One finished review: what was reviewed, how the learner rated it and when it is due again."""

    activity: str            # "flashcard" or "interview"
    collection: str          # the deck or question bank id
    item: str                # the card or question id
    title: str               # the card's front or the question, for records
    rating: str              # Again | Hard | Good | Easy
    reviewed_at: datetime
    due: datetime
    details: Mapping[str, Any] | None = None  # e.g. an interview's checklist points ticked
    seconds: float | None = None             # time from the item being shown to the review finishing


_LISTENERS: list[Callable[[ReviewFinished], None]] = []


def add_review_listener(listener: Callable[[ReviewFinished], None]) -> Callable[[], None]:
    """Call ``listener(event)`` after every finished review; returns a function that removes it."""
    _LISTENERS.append(listener)
    return lambda: _LISTENERS.remove(listener) if listener in _LISTENERS else None


def review_finished(event: ReviewFinished) -> None:
    """Tell every listener that a review has been saved (a failing listener only warns)."""
    for listener in list(_LISTENERS):
        try:
            listener(event)
        except Exception as error:  # a record that cannot be sent must not break the review
            warnings.warn(f"a review listener failed: {error!r}", stacklevel=2)


# Learning records (issue 18, records' hook): every finished review becomes an xAPI statement (clientcare.xapi).
from . import xapi as _xapi  # noqa: E402

add_review_listener(_xapi.review_listener)
