"""Display order that carries no information: seeded shuffles per learner and per attempt.

Scenario choices and quiz options are written in some order by an author (often the
best one first). A learner sees them in an order drawn from a seed made of

* the learner's own key, a random value created once and kept in their data folder
  (``attempts.json``), so two learners see different orders;
* the activity (``scenario/venue-commission``, ``quiz/06-fees``);
* the attempt number, which moves on when an attempt is finished or abandoned
  (Restart, Retry), so a retry reshuffles, while showing the same unfinished
  attempt again (for example after a kernel restart) gives the same order;
* the item inside the activity (a node or question id).

The seed text is hashed by :class:`random.Random` (SHA-512 of the text), so orders
are the same in every process and on every machine, whatever ``PYTHONHASHSEED`` is.
"""
from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from typing import Sequence, TypeVar

from .store import LearnerFile

T = TypeVar("T")

ATTEMPTS_FILE = "attempts"
LEARNER_KEY = "learner"


@dataclass(frozen=True)
class Attempt:
    """Which learner, which activity and which attempt: everything an order depends on."""

    learner: str
    activity: str
    number: int = 1

    @property
    def seed(self) -> str:
        return f"{self.learner}/{self.activity}/{self.number}"

    def rng(self, *item: str) -> random.Random:
        """A generator for one item of this attempt (``rng("node", "call")``)."""
        return random.Random("/".join([self.seed, *item]))

    def order(self, count: int, *item: str) -> list[int]:
        """A permutation of ``range(count)``: display position -> authored position."""
        positions = list(range(count))
        self.rng(*item).shuffle(positions)
        return positions

    def shuffled(self, items: Sequence[T], *item: str) -> list[T]:
        return [items[i] for i in self.order(len(items), *item)]

    def draw(self, count: int, size: int, *item: str) -> list[int]:
        """``size`` distinct positions out of ``range(count)``, in ascending (authored) order."""
        return sorted(self.rng("draw", *item).sample(range(count), size))

    def next(self) -> "Attempt":
        return Attempt(self.learner, self.activity, self.number + 1)


def _valid_key(value: object) -> bool:
    return isinstance(value, str) and len(value) >= 16


def learner_key(store: LearnerFile | None = None) -> str:
    """This learner's random key, created on first use and kept in their data folder."""
    store = store or LearnerFile(ATTEMPTS_FILE)
    key = store.load().get(LEARNER_KEY)
    if _valid_key(key):
        return key

    def change(data: dict) -> None:
        if not _valid_key(data.get(LEARNER_KEY)):  # another notebook may have just made one
            data[LEARNER_KEY] = secrets.token_hex(16)

    return store.update(change)[LEARNER_KEY]


def _number(data: dict, activity: str) -> int:
    value = (data.get("attempts") or {}).get(activity) if isinstance(data.get("attempts"), dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else 1


def current_attempt(activity: str, store: LearnerFile | None = None) -> Attempt:
    """The attempt a learner is on (or about to start) at ``activity``."""
    store = store or LearnerFile(ATTEMPTS_FILE)
    key = learner_key(store)
    return Attempt(key, activity, _number(store.load(), activity))


def close_attempt(attempt: Attempt, store: LearnerFile | None = None) -> Attempt:
    """Finish or abandon ``attempt``: the next one shown gets a fresh order. Returns the next attempt.

    Closing an attempt that is already closed (for example by a second notebook showing
    the same activity) does not skip a number.
    """
    store = store or LearnerFile(ATTEMPTS_FILE)

    def change(data: dict) -> None:
        attempts = data.get("attempts") if isinstance(data.get("attempts"), dict) else {}
        if _number(data, attempt.activity) <= attempt.number:
            attempts[attempt.activity] = attempt.number + 1
        data["attempts"] = attempts

    data = store.update(change)
    return Attempt(attempt.learner, attempt.activity, _number(data, attempt.activity))
