"""The fee calculator: build a fee proposal line by line and see it add up.

:class:`FeeCalculator` is the starting point (preset charge-out rates, starting lines and
expenses, the VAT rate), :class:`FeeCalculatorSession` the learner's current lines, expenses
and client type with their breakdown (no widgets),
:class:`FeeCalculatorView` the widget. All the arithmetic lives in :mod:`clientcare.fees`;
this module only collects the inputs, shows the itemised breakdown and a bar chart, and
updates both on every change.
"""
from __future__ import annotations

import html
import io
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

import ipywidgets as widgets
from IPython.display import Image, display
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .fees import (
    EXPENSES_LABEL, TOTAL_EXCL_VAT_LABEL, TOTAL_INCL_VAT_LABEL, VAT_STANDARD_RATE, Expense, FeeLine, cost_by_role, fee_breakdown,
    fee_totals, format_money, quoted_price,
)

# Charge-out rates (pounds per hour, excl. VAT) of a regional surveying practice in 2026. Each
# already recovers the firm's overheads and profit, so nothing is added on top.
PRESET_RATES = {
    "Director": 185.0,
    "Senior surveyor": 125.0,
    "Assistant surveyor": 85.0,
    "Administrator": 50.0,
}
# Lesson 6's worked calculation: a two-day building survey of an office building.
STARTING_LINES = [("Director", 1, 6.0), ("Senior surveyor", 1, 32.0), ("Assistant surveyor", 1, 20.0)]
STARTING_EXPENSES = [("Mileage, 180 miles at 45p a mile", 81.0, True)]
LABEL_STYLE = {"description_width": "initial"}


@dataclass(frozen=True)
class FeeCalculator:
    """What the calculator starts with: preset charge-out rates by role, the starting lines and
    expenses (description, amount, whether VAT applies), the VAT rate and the client type."""

    rates: Mapping[str, float] = field(default_factory=lambda: MappingProxyType(dict(PRESET_RATES)))
    lines: tuple[tuple[str, int, float], ...] = tuple(STARTING_LINES)
    expenses: tuple[tuple[str, float, bool], ...] = tuple(STARTING_EXPENSES)
    vat_rate: float = VAT_STANDARD_RATE
    consumer: bool = False


def load_fee_calculator() -> FeeCalculator:
    """The course's fee calculator (the same for every lesson that shows it)."""
    return FeeCalculator()


class FeeCalculatorSession:
    """The learner's fee: its lines, expenses and client type, the last valid breakdown and the
    price as quoted to the client, or why there is none; no widgets."""

    def __init__(self, calculator: FeeCalculator):
        self.calculator = calculator
        self.lines: list[FeeLine] = [FeeLine(role, people, hours, calculator.rates.get(role, 0.0))
                                     for role, people, hours in calculator.lines]
        self.expenses: list[Expense] = [Expense(*expense) for expense in calculator.expenses]
        self.vat_rate = calculator.vat_rate
        self.consumer = calculator.consumer
        self.breakdown = None  # the last valid breakdown (a DataFrame)
        self.quote: str | None = None  # the price as stated to this client
        self.error: str | None = None  # why the current inputs give no fee
        self.calculate()

    def update(self, lines: list[FeeLine], expenses: list[Expense] | None = None,
               consumer: bool | None = None) -> None:
        """Take the learner's current inputs and recalculate."""
        self.lines = list(lines)
        if expenses is not None:
            self.expenses = list(expenses)
        if consumer is not None:
            self.consumer = bool(consumer)
        self.calculate()

    def calculate(self) -> None:
        """Rebuild the breakdown and quote; on an invalid input keep the reason and no breakdown."""
        try:
            self.breakdown = fee_breakdown(self.lines, self.expenses, self.vat_rate)
            self.quote = quoted_price(fee_totals(self.lines, self.expenses, self.vat_rate), self.consumer)
            self.error = None
        except ValueError as error:
            self.breakdown, self.quote, self.error = None, None, str(error)  # never leave a stale total

    def _total(self, label: str) -> float | None:
        if self.breakdown is None:
            return None
        return float(self.breakdown.loc[self.breakdown["role"] == label, "cost"].iloc[0])

    @property
    def total(self) -> float | None:
        """The total including VAT of the last valid breakdown (what the client pays)."""
        return self._total(TOTAL_INCL_VAT_LABEL)

    @property
    def total_excl_vat(self) -> float | None:
        """The total excluding VAT of the last valid breakdown."""
        return self._total(TOTAL_EXCL_VAT_LABEL)


class FeeRow:
    """The inputs of one line: role, people, hours and hourly rate, and a Remove button."""

    def __init__(self, number: int, role: str = "Senior surveyor", people: int = 1, hours: float = 0.0,
                 rate: float | None = None):
        if rate is None:
            rate = PRESET_RATES.get(role, 0.0)
        self.role = widgets.Combobox(
            value=role, options=list(PRESET_RATES), ensure_option=False, description="Role",
            placeholder="Choose or type a role", style=LABEL_STYLE, layout=widgets.Layout(width="250px"))
        self.people = widgets.IntText(value=people, description="People", style=LABEL_STYLE,
                                      layout=widgets.Layout(width="120px"))
        self.hours = widgets.FloatText(value=hours, description="Hours each", style=LABEL_STYLE,
                                       layout=widgets.Layout(width="160px"))
        self.rate = widgets.FloatText(value=rate, description="Charge-out rate (£/h)", style=LABEL_STYLE,
                                      layout=widgets.Layout(width="200px"))
        self.remove = widgets.Button(description="Remove", icon="trash", layout=widgets.Layout(width="auto"))
        self.box = widgets.HBox([self.role, self.people, self.hours, self.rate, self.remove])
        self.role.observe(self._apply_preset, names="value")
        self.renumber(number)

    def renumber(self, number: int) -> None:
        """Tooltips say which line a control belongs to, for screen readers."""
        self.role.tooltip = f"Role on line {number}: pick a preset or type your own"
        self.people.tooltip = f"Number of people in this role on line {number}"
        self.hours.tooltip = f"Hours each person works, line {number}"
        self.rate.tooltip = f"Charge-out rate in pounds per hour, excluding VAT, line {number}"
        self.remove.tooltip = f"Remove line {number}"

    def _apply_preset(self, change: dict) -> None:
        """Choosing a preset role fills in its charge-out rate."""
        if change["new"] in PRESET_RATES:
            self.rate.value = PRESET_RATES[change["new"]]

    def fee_line(self) -> FeeLine:
        """The line as the fee model sees it."""
        return FeeLine(self.role.value, self.people.value, self.hours.value, self.rate.value)

    def controls(self) -> list[widgets.Widget]:
        """The inputs whose changes trigger a recalculation."""
        return [self.role, self.people, self.hours, self.rate]


class ExpenseRow:
    """The inputs of one expense: description, amount, whether VAT applies, and a Remove button."""

    def __init__(self, number: int, description: str = "", amount: float = 0.0, vat_applies: bool = True):
        self.description = widgets.Text(value=description, description="Expense", style=LABEL_STYLE,
                                        placeholder="e.g. Mileage, search fee", layout=widgets.Layout(width="330px"))
        self.amount = widgets.FloatText(value=amount, description="Amount (£)", style=LABEL_STYLE,
                                        layout=widgets.Layout(width="170px"))
        self.vat_applies = widgets.Checkbox(value=vat_applies, description="VAT applies", indent=False,
                                            layout=widgets.Layout(width="auto"))
        self.remove = widgets.Button(description="Remove", icon="trash", layout=widgets.Layout(width="auto"))
        self.box = widgets.HBox([self.description, self.amount, self.vat_applies, self.remove])
        self.renumber(number)

    def renumber(self, number: int) -> None:
        """Tooltips say which expense a control belongs to, for screen readers."""
        self.description.tooltip = f"What expense {number} is for"
        self.amount.tooltip = f"Amount of expense {number} in pounds, excluding VAT"
        self.vat_applies.tooltip = (f"Tick if expense {number} is part of your service (VAT applies); untick for a "
                                    "disbursement paid as the client's agent (no VAT)")
        self.remove.tooltip = f"Remove expense {number}"

    def expense(self) -> Expense:
        """The expense as the fee model sees it."""
        return Expense(self.description.value, self.amount.value, self.vat_applies.value)

    def controls(self) -> list[widgets.Widget]:
        """The inputs whose changes trigger a recalculation."""
        return [self.description, self.amount, self.vat_applies]


def breakdown_html(breakdown) -> str:
    """The breakdown as an accessible HTML table with money formatted as £1,234.56."""
    header = "".join(f'<th scope="col">{name}</th>' for name in
                     ["Item", "People", "Hours each", "Charge-out rate", "Amount"])
    body = []
    for row in breakdown.itertuples(index=False):
        summary = row.kind != "fee"
        cells = [
            f'<th scope="row">{html.escape(row.role)}</th>',
            "<td></td>" if summary else f"<td>{row.people}</td>",
            "<td></td>" if summary else f"<td>{row.hours:g}</td>",
            "<td></td>" if summary else f"<td>{format_money(row.rate)}</td>",
            f"<td>{format_money(row.cost)}</td>",
        ]
        weight = ' style="font-weight:bold"' if row.role in (TOTAL_EXCL_VAT_LABEL, TOTAL_INCL_VAT_LABEL) else ""
        body.append(f"<tr{weight}>{''.join(cells)}</tr>")
    return (
        '<table class="clientcare-fees" style="border-collapse:collapse">'
        "<caption>Itemised fee breakdown</caption>"
        f"<thead><tr>{header}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        "<style>.clientcare-fees th,.clientcare-fees td{padding:2px 10px;text-align:right}"
        ".clientcare-fees th[scope=row]{text-align:left}</style>"
    )


def cost_chart(breakdown) -> Figure:
    """A horizontal bar chart of fees by role, plus the expenses (VAT is not the firm's income)."""
    costs = cost_by_role(breakdown)
    figure = Figure(figsize=(8, 1 + 0.5 * max(len(costs), 1)))
    axes = figure.subplots()
    colours = ["#c05621" if name == EXPENSES_LABEL else "#2b6cb0" for name in costs.index]  # expenses stand out
    bars = axes.barh(list(costs.index)[::-1], list(costs.values)[::-1], color=colours[::-1])
    axes.bar_label(bars, labels=[format_money(value) for value in costs.values[::-1]], padding=3)
    axes.set_xlabel("Amount excl. VAT (£)")
    axes.set_title("Where the fee goes")
    axes.xaxis.set_major_formatter(lambda value, _pos: format_money(value).split(".")[0])
    axes.xaxis.set_major_locator(MaxNLocator(5))
    axes.margins(x=0.2)
    figure.tight_layout()
    return figure


def figure_png(figure: Figure) -> bytes:
    """The figure as PNG bytes (no pyplot state, so nothing leaks between redraws)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


class FeeCalculatorView(widgets.VBox):
    """Rows of fee lines and expenses, a client-type switch, a breakdown table, the quoted price
    and a chart, kept in step."""

    def __init__(self, session: FeeCalculatorSession):
        self.session = session
        self.rows: list[FeeRow] = []
        self.expense_rows: list[ExpenseRow] = []
        self.consumer = widgets.Checkbox(
            value=session.consumer, description="The client is a consumer (quote the price including VAT)",
            tooltip="Consumers must be shown the full price including VAT; business clients are usually quoted "
                    "excluding VAT", indent=False, layout=widgets.Layout(width="auto"))
        self.add = widgets.Button(description="Add a line", icon="plus", tooltip="Add another role to the fee")
        self.add_expense = widgets.Button(description="Add an expense", icon="plus",
                                          tooltip="Add an expense or disbursement")
        self.message = widgets.HTML(layout=widgets.Layout(min_height="1.5em"))
        self.quote = widgets.HTML()
        self.table = widgets.HTML()
        self.chart = widgets.Output()
        self.rows_box = widgets.VBox()
        self.expenses_box = widgets.VBox()
        super().__init__([
            widgets.HTML("<b>Fee calculator</b>: for each role, enter the people, the hours each "
                         "works and the charge-out rate; then any expenses and disbursements."),
            self.rows_box, self.add, self.expenses_box, self.add_expense, self.consumer,
            self.message, self.quote, self.table, self.chart,
        ])
        self.consumer.observe(self.recalculate, names="value")
        self.add.on_click(lambda _button: self.add_row())
        self.add_expense.on_click(lambda _button: self.add_expense_row())
        for line in session.lines:
            self.add_row(line.role, line.people, line.hours, line.hourly_rate, refresh=False)
        for expense in session.expenses:
            self.add_expense_row(expense.description, expense.amount, expense.vat_applies, refresh=False)
        self.recalculate()

    def add_row(self, role: str = "Senior surveyor", people: int = 1, hours: float = 0.0,
                rate: float | None = None, *, refresh: bool = True) -> FeeRow:
        """Append a line (a Senior surveyor at the preset rate unless told otherwise)."""
        row = FeeRow(len(self.rows) + 1, role, people, hours, rate)
        for control in row.controls():
            control.observe(self.recalculate, names="value")
        row.remove.on_click(lambda _button: self.remove_row(row))
        self.rows.append(row)
        self._layout_rows(refresh)
        return row

    def remove_row(self, row: FeeRow) -> None:
        """Take a line out of the fee."""
        self.rows.remove(row)
        self._layout_rows(refresh=True)

    def add_expense_row(self, description: str = "", amount: float = 0.0, vat_applies: bool = True,
                        *, refresh: bool = True) -> ExpenseRow:
        """Append an expense (VAT applies unless told otherwise)."""
        row = ExpenseRow(len(self.expense_rows) + 1, description, amount, vat_applies)
        for control in row.controls():
            control.observe(self.recalculate, names="value")
        row.remove.on_click(lambda _button: self.remove_expense_row(row))
        self.expense_rows.append(row)
        self._layout_rows(refresh)
        return row

    def remove_expense_row(self, row: ExpenseRow) -> None:
        """Take an expense out of the fee."""
        self.expense_rows.remove(row)
        self._layout_rows(refresh=True)

    def _layout_rows(self, refresh: bool) -> None:
        for rows in (self.rows, self.expense_rows):
            for number, row in enumerate(rows, start=1):
                row.renumber(number)
        self.rows_box.children = [row.box for row in self.rows]
        self.expenses_box.children = [row.box for row in self.expense_rows]
        if refresh:
            self.recalculate()

    def recalculate(self, _change: dict | None = None) -> None:
        """Rebuild the breakdown and chart; show the problem instead if an input is invalid."""
        self.session.update([row.fee_line() for row in self.rows], [row.expense() for row in self.expense_rows],
                            self.consumer.value)
        if self.session.breakdown is None:
            self.message.value = (f'<span role="alert" style="color:#b00020">{html.escape(self.session.error)}. '
                                  "Correct it to see the fee.</span>")
            self.quote.value = ""
            self.table.value = ""
            self.chart.clear_output()
            return
        self.message.value = ""
        self.quote.value = f"<p><b>Price to quote:</b> {html.escape(self.session.quote)}</p>"
        self.table.value = breakdown_html(self.session.breakdown)
        self._draw(self.session.breakdown)

    def _draw(self, breakdown) -> None:
        png = figure_png(cost_chart(breakdown))
        with self.chart:
            self.chart.clear_output(wait=True)
            display(Image(data=png, format="png", alt="Bar chart of fees by role and expenses, excluding VAT"))


def show_fee_calculator() -> FeeCalculatorView:
    """The fee calculator, ready to display in a lesson."""
    return FeeCalculatorView(FeeCalculatorSession(load_fee_calculator()))
