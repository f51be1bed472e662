"""The course's fee model: how a fee proposal is built up, line by line.

A professional firm prices its time at **charge-out rates**. A charge-out rate already
recovers the firm's overheads and its profit (see :func:`rate_build_up`), so a fee is
people × hours × charge-out rate for each role, with **no** further "overheads and profit"
(OH&P) percentage on top: that would make the client pay for the overheads twice.
Percentage additions for overheads and profit belong where the rates are cost rates, for
example a building contractor's daywork.

Costs other than the firm's time are their own lines (:class:`Expense`): recharged expenses
that are part of the firm's service (mileage, a subcontractor the firm engages) carry VAT
like the fee; true disbursements, paid as the client's agent, are passed on at cost without
VAT (HMRC VAT Notice 700, section 25). VAT is its own line at the standard rate of 20%
(Value Added Tax Act 1994, s.2), and each total says whether it includes VAT. Consumers are
quoted the VAT-inclusive price (Consumer Contracts Regulations 2013; Digital Markets,
Competition and Consumers Act 2024, Part 4: no drip pricing).

Money is worked out with ``Decimal`` and rounded to the nearest penny (halves round up),
line by line, so the lines always add up to the totals shown.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from numbers import Real
from typing import Iterable

import pandas as pd

VAT_STANDARD_RATE = 0.20  # Value Added Tax Act 1994, s.2 (20% since 4 January 2011)
TOTAL_EXCL_VAT_LABEL = "Total excl. VAT"
TOTAL_INCL_VAT_LABEL = "Total incl. VAT"
EXPENSES_LABEL = "Expenses and disbursements"
COLUMNS = ["role", "people", "hours", "rate", "cost", "kind"]  # kind: fee | expense | total
PENNY = Decimal("0.01")


@dataclass(frozen=True)
class FeeLine:
    """One role on the project: ``people`` people each working ``hours`` at ``hourly_rate``.

    ``hourly_rate`` is the role's charge-out rate in pounds, excluding VAT.
    """

    role: str
    people: int
    hours: float
    hourly_rate: float


@dataclass(frozen=True)
class Expense:
    """A cost other than the firm's time, in pounds excluding VAT.

    ``vat_applies`` is True for a recharged expense that is part of the firm's own service
    (mileage, printing, a subcontractor the firm engages) and False for a true disbursement
    paid as the client's agent (HMRC VAT Notice 700, section 25).
    """

    description: str
    amount: float
    vat_applies: bool = True


def to_pence(amount: Decimal | float | int) -> Decimal:
    """``amount`` rounded to the nearest penny (halves round up, as on an invoice)."""
    return Decimal(str(amount)).quantize(PENNY, rounding=ROUND_HALF_UP)


def format_money(amount: Decimal | float | int) -> str:
    """Pounds with thousands separators and pence, e.g. ``£1,234.56`` (``-£5.00`` if negative)."""
    value = to_pence(amount)
    sign = "-" if value < 0 else ""
    return f"{sign}£{abs(value):,.2f}"


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


def _named(kind: str, text: object, number: int) -> str:
    """How a message refers to a line, e.g. ``Line 2 (Consultant)`` or ``Expense 1 (Mileage)``."""
    label = text.strip() if isinstance(text, str) else ""
    return f"{kind} {number} ({label})" if label else f"{kind} {number}"


def validate_line(line: FeeLine, number: int = 1) -> None:
    """Raise ``ValueError`` naming the line and the field if ``line`` cannot be priced."""
    where = _named("Line", line.role, number)
    if not isinstance(line.role, str) or not line.role.strip():
        raise ValueError(f"{where}: role is missing")
    _check_number(line.people, "people", where, whole=True)
    _check_number(line.hours, "hours", where)
    _check_number(line.hourly_rate, "hourly rate", where)


def validate_expense(expense: Expense, number: int = 1) -> None:
    """Raise ``ValueError`` naming the expense and the field if it cannot be charged."""
    where = _named("Expense", expense.description, number)
    if not isinstance(expense.description, str) or not expense.description.strip():
        raise ValueError(f"{where}: description is missing")
    _check_number(expense.amount, "amount", where)


def validate_vat_rate(vat_rate: float) -> None:
    """Raise ``ValueError`` unless the VAT rate is a fraction from 0 to 1 (0.2 means 20%)."""
    _check_number(vat_rate, "rate", "VAT")
    if vat_rate > 1:
        raise ValueError(f"VAT: rate is a fraction (0.2 means 20%), got {vat_rate:g}")


def line_cost(line: FeeLine) -> Decimal:
    """people × hours × charge-out rate, rounded to the penny."""
    return to_pence(Decimal(str(line.people)) * Decimal(str(line.hours)) * Decimal(str(line.hourly_rate)))


def vat_label(vat_rate: float) -> str:
    """The label of the VAT line, e.g. ``VAT at 20%``."""
    return f"VAT at {vat_rate * 100:g}%"


def fee_totals(lines: Iterable[FeeLine], expenses: Iterable[Expense] = (),
               vat_rate: float = VAT_STANDARD_RATE) -> dict[str, Decimal]:
    """The fees, the expenses, the total excl. VAT, the VAT and the total incl. VAT, to the penny.

    VAT is charged on the fees and on the expenses where ``vat_applies``; a true
    disbursement carries none. There is no OH&P: charge-out rates already include it.
    """
    lines, expenses = list(lines), list(expenses)
    for number, line in enumerate(lines, start=1):
        validate_line(line, number)
    for number, expense in enumerate(expenses, start=1):
        validate_expense(expense, number)
    validate_vat_rate(vat_rate)
    fees = sum((line_cost(line) for line in lines), Decimal("0.00"))
    costs = [to_pence(expense.amount) for expense in expenses]
    vatable = fees + sum((cost for cost, expense in zip(costs, expenses) if expense.vat_applies), Decimal("0.00"))
    excl = fees + sum(costs, Decimal("0.00"))
    vat = to_pence(vatable * Decimal(str(vat_rate)))
    return {"fees": fees, "expenses": excl - fees, "total_excl_vat": excl, "vat": vat, "total_incl_vat": excl + vat}


def fee_breakdown(lines: Iterable[FeeLine], expenses: Iterable[Expense] = (),
                  vat_rate: float = VAT_STANDARD_RATE) -> pd.DataFrame:
    """An itemised breakdown: one row per fee line, one per expense, then the three totals.

    Columns are ``role, people, hours, rate, cost, kind``; ``kind`` is ``fee``, ``expense``
    or ``total``. An expense's description is in ``role`` (marked when no VAT applies), and
    expense and total rows leave ``people``, ``hours`` and ``rate`` empty. Raises
    ``ValueError`` naming the line and field when an input is missing or negative.
    """
    lines, expenses = list(lines), list(expenses)
    totals = fee_totals(lines, expenses, vat_rate)
    rows = [
        {"role": line.role.strip(), "people": int(line.people), "hours": float(line.hours),
         "rate": float(line.hourly_rate), "cost": float(line_cost(line)), "kind": "fee"}
        for line in lines
    ]
    rows += [
        {"role": expense.description.strip() + ("" if expense.vat_applies else " (disbursement, no VAT)"),
         "cost": float(to_pence(expense.amount)), "kind": "expense"}
        for expense in expenses
    ]
    rows += [
        {"role": TOTAL_EXCL_VAT_LABEL, "cost": float(totals["total_excl_vat"]), "kind": "total"},
        {"role": vat_label(vat_rate), "cost": float(totals["vat"]), "kind": "total"},
        {"role": TOTAL_INCL_VAT_LABEL, "cost": float(totals["total_incl_vat"]), "kind": "total"},
    ]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.astype({"people": "Int64", "hours": "float64", "rate": "float64", "cost": "float64"})


def cost_by_role(breakdown: pd.DataFrame) -> pd.Series:
    """Fees per role (lines with the same role added together), in line order, then the
    expenses as one entry if there are any. VAT is not included: it is not the firm's income."""
    fees = breakdown[breakdown["kind"] == "fee"].groupby("role", sort=False)["cost"].sum()
    expenses = breakdown.loc[breakdown["kind"] == "expense", "cost"]
    if len(expenses):
        fees[EXPENSES_LABEL] = expenses.sum()
    return fees.round(2)


def quoted_price(totals: dict[str, Decimal], consumer: bool) -> str:
    """How the price is stated to the client.

    A consumer is quoted the total including VAT (and every unavoidable charge): consumers
    must be given the total price inclusive of taxes before they are bound (Consumer
    Contracts Regulations 2013, Schedules 1 and 2), and a headline price that leaves out
    unavoidable charges is drip pricing, a misleading action under the Digital Markets,
    Competition and Consumers Act 2024 (Part 4, in force 6 April 2025). A business client,
    which can usually recover VAT, is quoted the price excluding VAT with the VAT alongside.
    """
    incl = format_money(totals["total_incl_vat"])
    if consumer:
        return f"{incl} including VAT"
    return f"{format_money(totals['total_excl_vat'])} plus VAT of {format_money(totals['vat'])} ({incl} including VAT)"


def rate_build_up(salary: float, on_cost_rate: float, chargeable_hours: float,
                  overhead_per_hour: float, margin: float) -> dict[str, Decimal]:
    """From a salary to a charge-out rate, each step rounded to the penny.

    * cost rate = salary × (1 + on-costs) ÷ chargeable hours a year (the hours that can be
      billed, not the hours paid for);
    * full cost rate = cost rate + overhead recovery rate (the firm's overheads ÷ all fee
      earners' chargeable hours);
    * charge-out rate = full cost rate ÷ (1 − margin), where the margin is profit as a share
      of the charge-out rate (× (1 + margin) would give a smaller profit than planned).
    """
    where = "Rate build-up"
    for name, value in [("salary", salary), ("on-cost rate", on_cost_rate),
                        ("overhead per hour", overhead_per_hour), ("margin", margin)]:
        _check_number(value, name, where)
    _check_number(chargeable_hours, "chargeable hours", where)
    if chargeable_hours == 0:
        raise ValueError(f"{where}: chargeable hours must be more than zero")
    if margin >= 1:
        raise ValueError(f"{where}: margin is a fraction below 1 (0.15 means 15%), got {margin:g}")
    cost = to_pence(Decimal(str(salary)) * (1 + Decimal(str(on_cost_rate))) / Decimal(str(chargeable_hours)))
    full = to_pence(cost + Decimal(str(overhead_per_hour)))
    charge_out = to_pence(full / (1 - Decimal(str(margin))))
    return {"cost_rate": cost, "full_cost_rate": full, "charge_out_rate": charge_out}
