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
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

import ipywidgets as widgets
from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .fees import (
    EXPENSES_LABEL, TOTAL_EXCL_VAT_LABEL, TOTAL_INCL_VAT_LABEL, VAT_STANDARD_RATE, Expense, FeeLine, cost_by_role, fee_breakdown,
    fee_totals, format_money, quoted_price,
)
from .style import heading, themed

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


def parse_amount(text: str, name: str, where: str) -> float:
    """A number typed by the learner ("1,200", "£150", " 4.5 "), or ValueError naming the line and box.

    Nothing is ever filled in for the learner: a blank box is reported, not replaced. (Whether the
    number is allowed, e.g. not negative, is the fee model's rule: see :mod:`clientcare.fees`.)"""
    typed = str(text).strip()
    cleaned = typed.replace(",", "").replace("£", "").strip()
    if not cleaned:
        raise ValueError(f"{where}: {name} is missing")
    try:
        value = float(cleaned)
    except ValueError:
        raise ValueError(f"{where}: {name} must be a number, not '{typed}'") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{where}: {name} must be a number, not '{typed}'")
    return int(value) if value == int(value) else value


def _number_text(value: float | int) -> str:
    return f"{value:g}"


def _named(kind: str, text: str, number: int) -> str:
    label = text.strip() if isinstance(text, str) else ""
    return f"{kind} {number} ({label})" if label else f"{kind} {number}"


def _error_html(message: str | None) -> str:
    return f'<span class="cc-field-error" role="alert">{html.escape(message)}</span>' if message else ""


class FeeRow:
    """The inputs of one line: role, people, hours and charge-out rate, a Remove button, and beside
    them what is wrong with the line, if anything. Numbers are typed into text boxes, so a blank or
    mistyped box is reported instead of being put back to its old value."""

    def __init__(self, number: int, role: str = "Senior surveyor", people: int = 1, hours: float = 0.0,
                 rate: float | None = None):
        if rate is None:
            rate = PRESET_RATES.get(role, 0.0)
        self.role = widgets.Combobox(
            value=role, options=list(PRESET_RATES), ensure_option=False, description="Role",
            placeholder="Choose or type a role", style=LABEL_STYLE, continuous_update=False)
        self.people = widgets.Text(value=_number_text(people), description="People", style=LABEL_STYLE,
                                   continuous_update=False)
        self.hours = widgets.Text(value=_number_text(hours), description="Hours each", style=LABEL_STYLE,
                                  continuous_update=False)
        self.rate = widgets.Text(value=_number_text(rate), description="Charge-out rate (£/h)", style=LABEL_STYLE,
                                 continuous_update=False)
        self.remove = widgets.Button(description="Remove", icon="trash")
        self.error = widgets.HTML()
        self.role.add_class("cc-fee-role")
        for control in (self.people, self.hours, self.rate):
            control.add_class("cc-fee-number")
        self.box = widgets.HBox([self.role, self.people, self.hours, self.rate, self.remove, self.error])
        self.box.add_class("cc-fee-row")
        self._preset_rate = PRESET_RATES.get(role)
        self.role.observe(self._apply_preset, names="value")
        self.renumber(number)

    def renumber(self, number: int) -> None:
        """Tooltips say which line a control belongs to, for screen readers."""
        self.number = number
        self.role.tooltip = f"Role on line {number}: pick a preset or type your own"
        self.people.tooltip = f"Number of people in this role on line {number}"
        self.hours.tooltip = f"Hours each person works, line {number}"
        self.rate.tooltip = f"Charge-out rate in pounds per hour, excluding VAT, line {number}"
        self.remove.tooltip = f"Remove line {number}"

    def _apply_preset(self, change: dict) -> None:
        """Choosing a preset role fills in its charge-out rate, unless the learner typed a rate of
        their own (the rate box is then left as it is)."""
        new = PRESET_RATES.get(change["new"])
        if new is None:
            return
        typed = self.rate.value.strip()
        if not typed or (self._preset_rate is not None and typed == _number_text(self._preset_rate)):
            self.rate.value = _number_text(new)
        self._preset_rate = new

    def fee_line(self) -> FeeLine:
        """The line as the fee model sees it; ValueError naming the line and box if one cannot be read."""
        where = _named("Line", self.role.value, self.number)
        return FeeLine(self.role.value, parse_amount(self.people.value, "people", where),
                       parse_amount(self.hours.value, "hours", where),
                       parse_amount(self.rate.value, "hourly rate", where))

    def show_error(self, message: str | None) -> None:
        self.error.value = _error_html(message)

    def controls(self) -> list[widgets.Widget]:
        """The inputs whose changes trigger a recalculation."""
        return [self.role, self.people, self.hours, self.rate]


class ExpenseRow:
    """The inputs of one expense: description, amount, whether VAT applies, a Remove button, and
    beside them what is wrong with the expense, if anything."""

    def __init__(self, number: int, description: str = "", amount: float = 0.0, vat_applies: bool = True):
        self.description = widgets.Text(value=description, description="Expense", style=LABEL_STYLE,
                                        placeholder="e.g. Mileage, search fee", continuous_update=False)
        self.amount = widgets.Text(value=_number_text(amount), description="Amount (£)", style=LABEL_STYLE,
                                   continuous_update=False)
        self.vat_applies = widgets.Checkbox(value=vat_applies, description="VAT applies", indent=False,
                                            layout=widgets.Layout(width="auto"))
        self.remove = widgets.Button(description="Remove", icon="trash")
        self.error = widgets.HTML()
        self.description.add_class("cc-fee-role")
        self.amount.add_class("cc-fee-number")
        self.box = widgets.HBox([self.description, self.amount, self.vat_applies, self.remove, self.error])
        self.box.add_class("cc-fee-row")
        self.renumber(number)

    def renumber(self, number: int) -> None:
        """Tooltips say which expense a control belongs to, for screen readers."""
        self.number = number
        self.description.tooltip = f"What expense {number} is for"
        self.amount.tooltip = f"Amount of expense {number} in pounds, excluding VAT"
        self.vat_applies.tooltip = (f"Tick if expense {number} is part of your service (VAT applies); untick for a "
                                    "disbursement paid as the client's agent (no VAT)")
        self.remove.tooltip = f"Remove expense {number}"

    def expense(self) -> Expense:
        """The expense as the fee model sees it; ValueError naming the expense if its amount cannot be read."""
        where = _named("Expense", self.description.value, self.number)
        return Expense(self.description.value, parse_amount(self.amount.value, "amount", where),
                       self.vat_applies.value)

    def show_error(self, message: str | None) -> None:
        self.error.value = _error_html(message)

    def controls(self) -> list[widgets.Widget]:
        """The inputs whose changes trigger a recalculation."""
        return [self.description, self.amount, self.vat_applies]


_COLUMNS = [("Item", "cc-text-cell"), ("People", "cc-num"), ("Hours each", "cc-num"),
            ("Charge-out rate", "cc-num"), ("Amount", "cc-num")]


def breakdown_html(breakdown) -> str:
    """The breakdown as an accessible HTML table with money formatted as £1,234.56. Each column's
    header is aligned as its figures are (items left, numbers right); the table scrolls sideways
    in a narrow window instead of being cut off."""
    header = "".join(f'<th scope="col" class="{css}">{name}</th>' for name, css in _COLUMNS)
    body = []
    for row in breakdown.itertuples(index=False):
        summary = row.kind != "fee"
        cells = [
            f'<th scope="row" class="cc-text-cell">{html.escape(row.role)}</th>',
            '<td class="cc-num"></td>' if summary else f'<td class="cc-num">{row.people}</td>',
            '<td class="cc-num"></td>' if summary else f'<td class="cc-num">{row.hours:g}</td>',
            '<td class="cc-num"></td>' if summary else f'<td class="cc-num">{format_money(row.rate)}</td>',
            f'<td class="cc-num">{format_money(row.cost)}</td>',
        ]
        css = ' class="cc-total"' if row.role in (TOTAL_EXCL_VAT_LABEL, TOTAL_INCL_VAT_LABEL) else ""
        body.append(f"<tr{css}>{''.join(cells)}</tr>")
    return (
        '<div class="cc-table-scroll" role="region" aria-label="Itemised fee breakdown" tabindex="0">'
        '<table class="cc-table cc-fees-table">'
        "<caption>Itemised fee breakdown</caption>"
        f"<thead><tr>{header}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


# Drawn in this colour, then replaced by the theme's text colour (SVG currentColor).
_INK = "#010203"


def cost_chart(breakdown) -> Figure:
    """A horizontal bar chart of fees by role, plus the expenses (VAT is not the firm's income),
    on a transparent background with text and axes in one ink colour (see :func:`figure_svg`)."""
    costs = cost_by_role(breakdown)
    figure = Figure(figsize=(8, 1 + 0.5 * max(len(costs), 1)))
    figure.patch.set_alpha(0)
    axes = figure.subplots()
    axes.set_facecolor("none")
    colours = ["#c05621" if name == EXPENSES_LABEL else "#2b6cb0" for name in costs.index]  # expenses stand out
    bars = axes.barh(list(costs.index)[::-1], list(costs.values)[::-1], color=colours[::-1])
    axes.bar_label(bars, labels=[format_money(value) for value in costs.values[::-1]], padding=3, color=_INK)
    axes.set_xlabel("Amount excl. VAT (£)", color=_INK)
    axes.set_title("Where the fee goes", color=_INK)
    axes.tick_params(colors=_INK)
    for spine in axes.spines.values():
        spine.set_color(_INK)
    axes.xaxis.set_major_formatter(lambda value, _pos: format_money(value).split(".")[0])
    axes.xaxis.set_major_locator(MaxNLocator(5))
    axes.margins(x=0.2)
    figure.tight_layout()
    return figure


def figure_svg(figure: Figure) -> str:
    """The figure as inline SVG whose text and axes take the theme's text colour (no pyplot state)."""
    buffer = io.StringIO()
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "clientcare-fees"}):
        figure.savefig(buffer, format="svg", transparent=True)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]  # drop the XML declaration and doctype
    return svg.replace(_INK, "currentColor")


def chart_description(breakdown) -> str:
    """The chart in words, for screen readers (its text equivalent; the table has every figure)."""
    costs = cost_by_role(breakdown)
    parts = [f"{role} {format_money(cost)}" for role, cost in costs.items()]
    return "Bar chart, where the fee goes, excluding VAT: " + "; ".join(parts) + "."


def chart_html(breakdown) -> str:
    """The chart as an inline SVG image named by :func:`chart_description`, as wide as it fits."""
    svg = figure_svg(cost_chart(breakdown))
    label = html.escape(chart_description(breakdown), quote=True)
    size = re.search(r'<svg[^>]*?\swidth="([\d.]+)pt" height="([\d.]+)pt"', svg)
    svg = re.sub(r'(<svg[^>]*?)\swidth="[\d.]+pt" height="[\d.]+pt"', r"\1", svg, count=1)
    max_width = f"max-width:{size.group(1)}pt;" if size else ""
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{label}" width="100%" style="{max_width}height:auto" ', 1)
    return f'<figure class="cc-chart" style="margin:0">{svg}</figure>'


class FeeCalculatorView(widgets.VBox):
    """Rows of fee lines and expenses, a client-type switch, a breakdown table, the quoted price
    and a chart, kept in step.

    A value that cannot be used is reported beside its line (and above the table), and the last
    valid breakdown stays on screen, marked as such, until it is corrected: the table and chart
    never vanish and the page does not jump. No box is ever changed behind the learner's back.
    """

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
        self.message = widgets.HTML()
        self.quote = widgets.HTML()
        self.table = widgets.HTML()
        self.chart = widgets.HTML()
        self.rows_box = widgets.VBox(layout=widgets.Layout(width="100%"))
        self.expenses_box = widgets.VBox(layout=widgets.Layout(width="100%"))
        super().__init__([
            widgets.HTML(heading("Fee calculator")
                         + "<p>For each role, enter the people, the hours each works and the charge-out rate; "
                         "then any expenses and disbursements.</p>"),
            self.rows_box, self.add, self.expenses_box, self.add_expense, self.consumer,
            self.message, self.quote, self.table, self.chart,
        ])
        themed(self, "fees")
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

    def _read(self, rows, read) -> tuple[list, list[str]]:
        """Each row's value as the fee model sees it, with what could not be read shown beside its row."""
        values, problems = [], []
        for row in rows:
            try:
                values.append(read(row))
                row.show_error(None)
            except ValueError as error:
                row.show_error(str(error))
                problems.append(str(error))
        return values, problems

    def recalculate(self, _change: dict | None = None) -> None:
        """Rebuild the breakdown, quote and chart; if an input cannot be used, say so beside it and
        keep showing the last valid breakdown."""
        lines, problems = self._read(self.rows, FeeRow.fee_line)
        expenses, expense_problems = self._read(self.expense_rows, ExpenseRow.expense)
        problems += expense_problems
        if not problems:
            self.session.update(lines, expenses, self.consumer.value)
            if self.session.error:
                problems.append(self.session.error)
                self._show_model_error(self.session.error)
        if problems:
            self.session.breakdown, self.session.quote = None, None  # the current inputs have no fee
            shown = ("the fee below is the last one that could be worked out" if self.table.value
                     else "the fee appears once every line can be worked out")
            self.message.value = (f'<p class="cc-alert" role="alert">{html.escape(problems[0])}. '
                                  f"Correct it: {shown}.</p>")
            return
        self.message.value = ""
        self.quote.value = f"<p><b>Price to quote:</b> {html.escape(self.session.quote)}</p>"
        self.table.value = breakdown_html(self.session.breakdown)
        self.chart.value = chart_html(self.session.breakdown)

    def _show_model_error(self, message: str) -> None:
        """Put the fee model's message beside the line or expense it names (e.g. "Line 2 (Director): ...")."""
        for kind, rows in (("Line", self.rows), ("Expense", self.expense_rows)):
            for row in rows:
                if re.match(rf"{kind} {row.number}\b", message):
                    row.show_error(message)


def show_fee_calculator() -> FeeCalculatorView:
    """The fee calculator, ready to display in a lesson."""
    return FeeCalculatorView(FeeCalculatorSession(load_fee_calculator()))
