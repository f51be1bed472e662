"""The course's fee model: how a fee proposal is built up, line by line.

A fee is calculated the way the course teaches it: for each role, the number of
people times the hours each works times the hourly rate; then an allowance for
overheads and profit (OH&P) as a percentage of the subtotal. Every charge is a
visible line of the breakdown, so there are no hidden fees.

Money is worked out with ``Decimal`` and rounded to the nearest penny (halves
round up), line by line, so the lines always add up to the total shown.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from numbers import Real
from typing import Iterable

import pandas as pd

OHP_LABEL = "Overheads and profit (OH&P)"
SUBTOTAL_LABEL = "Subtotal"
TOTAL_LABEL = "Total"
COLUMNS = ["role", "people", "hours", "rate", "cost"]
PENNY = Decimal("0.01")


@dataclass(frozen=True)
class FeeLine:
    """One role on the project: ``people`` people each working ``hours`` at ``hourly_rate`` pounds."""

    role: str
    people: int
    hours: float
    hourly_rate: float


def to_pence(amount: Decimal | float | int) -> Decimal:
    """``amount`` rounded to the nearest penny (halves round up, as on an invoice)."""
    return Decimal(str(amount)).quantize(PENNY, rounding=ROUND_HALF_UP)


def format_money(amount: Decimal | float | int) -> str:
    """Pounds with thousands separators and pence, e.g. ``£1,234.56`` (``-£5.00`` if negative)."""
    value = to_pence(amount)
    sign = "-" if value < 0 else ""
    return f"{sign}£{abs(value):,.2f}"


def _line_name(line: FeeLine, number: int) -> str:
    """How a message refers to a line, e.g. ``Line 2 (Consultant)``."""
    role = line.role.strip() if isinstance(line.role, str) else ""
    return f"Line {number} ({role})" if role else f"Line {number}"


def _check_number(value: object, name: str, where: str, *, whole: bool = False) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite, non-negative number."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(f"{where}: {name} is missing")
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{where}: {name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{where}: {name} is missing" if math.isnan(value) else f"{where}: {name} must be finite")
    if value < 0:
        raise ValueError(f"{where}: {name} cannot be negative, got {value:g}")
    if whole and value != int(value):
        raise ValueError(f"{where}: {name} must be a whole number, got {value:g}")


def validate_line(line: FeeLine, number: int = 1) -> None:
    """Raise ``ValueError`` naming the line and the field if ``line`` cannot be priced."""
    where = _line_name(line, number)
    if not isinstance(line.role, str) or not line.role.strip():
        raise ValueError(f"{where}: role is missing")
    _check_number(line.people, "people", where, whole=True)
    _check_number(line.hours, "hours", where)
    _check_number(line.hourly_rate, "hourly rate", where)


def validate_ohp(percent: float) -> None:
    """Raise ``ValueError`` unless the OH&P percentage is a number from 0 to 100."""
    _check_number(percent, "percentage", OHP_LABEL)
    if percent > 100:
        raise ValueError(f"{OHP_LABEL}: percentage cannot be more than 100, got {percent:g}")


def line_cost(line: FeeLine) -> Decimal:
    """people x hours x hourly rate, rounded to the penny."""
    return to_pence(Decimal(str(line.people)) * Decimal(str(line.hours)) * Decimal(str(line.hourly_rate)))


def fee_totals(lines: Iterable[FeeLine], ohp_percent: float) -> dict[str, Decimal]:
    """The subtotal, the OH&P allowance and the total, each rounded to the penny."""
    lines = list(lines)
    for number, line in enumerate(lines, start=1):
        validate_line(line, number)
    validate_ohp(ohp_percent)
    subtotal = sum((line_cost(line) for line in lines), Decimal("0.00"))
    ohp = to_pence(subtotal * Decimal(str(ohp_percent)) / 100)
    return {"subtotal": subtotal, "ohp": ohp, "total": subtotal + ohp}


def ohp_label(percent: float) -> str:
    """The label of the OH&P row, e.g. ``Overheads and profit (OH&P) at 15%``."""
    return f"{OHP_LABEL} at {percent:g}%"


def fee_breakdown(lines: Iterable[FeeLine], ohp_percent: float) -> pd.DataFrame:
    """An itemised breakdown: one row per line, then the subtotal, OH&P and total rows.

    Columns are ``role, people, hours, rate, cost``; money is in pounds rounded to
    pence. The summary rows leave ``people``, ``hours`` and ``rate`` empty. Raises
    ``ValueError`` naming the line and field when an input is missing or negative.
    """
    lines = list(lines)
    totals = fee_totals(lines, ohp_percent)
    rows = [
        {"role": line.role.strip(), "people": int(line.people), "hours": float(line.hours),
         "rate": float(line.hourly_rate), "cost": float(line_cost(line))}
        for line in lines
    ]
    rows += [
        {"role": SUBTOTAL_LABEL, "cost": float(totals["subtotal"])},
        {"role": ohp_label(ohp_percent), "cost": float(totals["ohp"])},
        {"role": TOTAL_LABEL, "cost": float(totals["total"])},
    ]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.astype({"people": "Int64", "hours": "float64", "rate": "float64", "cost": "float64"})


def cost_by_role(breakdown: pd.DataFrame) -> pd.Series:
    """Cost per role (lines with the same role added together) plus the OH&P row, in line order."""
    lines = breakdown.iloc[:-3]
    by_role = lines.groupby("role", sort=False)["cost"].sum()
    ohp_row = breakdown.iloc[-2]
    by_role[ohp_row["role"]] = ohp_row["cost"]
    return by_role.round(2)
