"""Due dates and the late-work policy: one course file, ``content/due-dates.yaml``.

::

    timezone: Europe/London          # the course's clock: due times are read in it
    late_policy:
      grace_minutes: 15              # submissions this late count as on time
      percent_per_day: 5             # marks lost per day (or part of a day) late, as % of the mark earned
      zero_after_days: 5             # later than this, the submission scores 0
    assignments:
      fee-proposals: 2027-02-05 17:00

The file is validated on load (:class:`~clientcare.content.ContentError` names the file,
the assignment and the field). Learners see the due dates on their progress page and in
each assignment's introduction; ``clientcare release`` writes the introduction's line and
the gradebook's due dates from this file, and nbgrader applies the policy through the
course's late submission plugin (``c.AssignLatePenalties.plugin_class`` in ``nbgrader_config.py``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import content
from .content import ContentError, check_known_fields, field, read_yaml, require_mapping, where

FILE = "due-dates.yaml"
_TOP = {"timezone", "late_policy", "assignments"}
_POLICY = {"grace_minutes", "percent_per_day", "zero_after_days"}
_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S")
DAY = 24 * 3600


@dataclass(frozen=True)
class LatePolicy:
    grace_minutes: float = 0
    percent_per_day: float = 0
    zero_after_days: float | None = None

    def days_late(self, seconds_late: float) -> int:
        """Days (or parts of a day) late, after the grace period; 0 when on time."""
        if seconds_late <= self.grace_minutes * 60:
            return 0
        return math.ceil(seconds_late / DAY)

    def penalty(self, score: float, seconds_late: float) -> float:
        """The marks taken off ``score`` for a submission ``seconds_late`` after the due time."""
        days = self.days_late(seconds_late)
        if not days:
            return 0.0
        if self.zero_after_days is not None and seconds_late > self.zero_after_days * DAY:
            return float(score)
        return round(min(1.0, days * self.percent_per_day / 100) * score, 2)

    def describe(self) -> str:
        """The policy in one sentence for learners."""
        if not self.percent_per_day and self.zero_after_days is None:
            return "Work submitted after the due time is marked late, with no marks taken off."
        grace = (f" (up to {self.grace_minutes:g} minutes after the due time counts as on time)"
                 if self.grace_minutes else "")
        text = f"Work submitted late loses {self.percent_per_day:g}% of its mark for each day or part of a day late{grace}"
        if self.zero_after_days is not None:
            text += f"; work more than {self.zero_after_days:g} days late scores 0"
        return text + "."


@dataclass(frozen=True)
class Schedule:
    timezone: str
    policy: LatePolicy
    due: Mapping[str, datetime]  # assignment -> due time (aware, in the course's time zone)

    def due_utc(self, assignment: str) -> datetime | None:
        """The due time as nbgrader's gradebook keeps it: naive UTC."""
        moment = self.due.get(assignment)
        return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment else None

    def due_text(self, assignment: str) -> str:
        """``Friday 5 February 2027 at 17:00 (UK time)``, or "" for an assignment with no due date."""
        moment = self.due.get(assignment)
        if moment is None:
            return ""
        zone = "UK time" if self.timezone == "Europe/London" else self.timezone
        return f"{moment:%A} {moment.day} {moment:%B %Y} at {moment:%H:%M} ({zone})"


def _number(raw: dict[str, Any], name: str, at: str, *, allow_none: bool = False) -> float | None:
    value = raw.get(name)
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ContentError(f"{at}: field '{name}' must be a number, 0 or more, got {value!r}")
    return float(value)


def parse_schedule(data: dict[str, Any], path: Path) -> Schedule:
    at = where(path)
    check_known_fields(data, _TOP, at)
    zone_name = field(data, "timezone", str, at)
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ContentError(f"{at}: field 'timezone' must be a time zone such as Europe/London, got {zone_name!r}")
    raw_policy = require_mapping(data.get("late_policy") or {}, f"{at}: late_policy")
    check_known_fields(raw_policy, _POLICY, f"{at}: late_policy")
    policy_at = f"{at}: late_policy"
    policy = LatePolicy(
        grace_minutes=_number({"grace_minutes": raw_policy.get("grace_minutes", 0)}, "grace_minutes", policy_at),
        percent_per_day=_number({"percent_per_day": raw_policy.get("percent_per_day", 0)}, "percent_per_day",
                                policy_at),
        zero_after_days=_number(raw_policy, "zero_after_days", policy_at, allow_none=True),
    )
    if policy.percent_per_day > 100:
        raise ContentError(f"{policy_at}: field 'percent_per_day' must be at most 100, got {policy.percent_per_day:g}")
    due = {}
    for name, value in require_mapping(field(data, "assignments", dict, at), f"{at}: assignments").items():
        item_at = where(path, f"assignment '{name}'")
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, str):
            moment = next((parsed for parsed in (_parse(value.strip(), f) for f in _FORMATS) if parsed), None)
            if moment is None:
                raise ContentError(f"{item_at}: field 'due' must be a date and time such as 2027-02-05 17:00, "
                                   f"got {value!r}")
        elif isinstance(value, date):
            raise ContentError(f"{item_at}: field 'due' needs a time as well as the date, such as {value} 17:00")
        else:
            raise ContentError(f"{item_at}: field 'due' must be a date and time such as 2027-02-05 17:00, got {value!r}")
        due[str(name)] = moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)
    return Schedule(zone_name, policy, due)


def _parse(text: str, pattern: str) -> datetime | None:
    try:
        return datetime.strptime(text, pattern)
    except ValueError:
        return None


def load_schedule(path: Path | None = None) -> Schedule:
    """The course's due dates and late policy (``content/due-dates.yaml``), validated."""
    path = Path(path) if path else content.CONTENT_DIR / FILE
    if not path.is_file():
        raise ContentError(f"{where(path)}: the course's due dates file is missing")
    return parse_schedule(read_yaml(path), path)


def check_against(schedule: Schedule, assignments: list[str], path: Path | None = None) -> list[str]:
    """Problems between the due dates and the course's assignments: one missing, or one not in the course."""
    path = Path(path) if path else content.CONTENT_DIR / FILE
    problems = [f"{where(path, f'assignment {name!r}')}: no due date (add '{name}: YYYY-MM-DD HH:MM')"
                for name in assignments if name not in schedule.due]
    problems += [f"{where(path, f'assignment {name!r}')}: not an assignment of the course "
                 f"(assignments: {', '.join(assignments)})" for name in schedule.due if name not in assignments]
    return problems
