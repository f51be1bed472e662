"""The fee calculator: build a fee proposal line by line and see it add up.

:class:`FeeCalculator` is the starting point (preset rates, starting lines, OH&P),
:class:`FeeCalculatorSession` the learner's current lines and their breakdown (no widgets),
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

from .fees import FeeLine, fee_breakdown, cost_by_role, format_money, SUBTOTAL_LABEL, TOTAL_LABEL
from .style import heading, name_group, new_id, themed

PRESET_RATES = {
    "Director": 150.0,
    "Senior consultant": 95.0,
    "Consultant": 70.0,
    "Administrator": 40.0,
}
STARTING_LINES = [("Director", 1, 4.0), ("Consultant", 2, 20.0), ("Administrator", 1, 6.0)]
DEFAULT_OHP = 15.0
LABEL_STYLE = {"description_width": "initial"}


@dataclass(frozen=True)
class FeeCalculator:
    """What the calculator starts with: preset hourly rates by role, the starting lines, OH&P %."""

    rates: Mapping[str, float] = field(default_factory=lambda: MappingProxyType(dict(PRESET_RATES)))
    lines: tuple[tuple[str, int, float], ...] = tuple(STARTING_LINES)
    ohp_percent: float = DEFAULT_OHP


def load_fee_calculator() -> FeeCalculator:
    """The course's fee calculator (the same for every lesson that shows it)."""
    return FeeCalculator()


class FeeCalculatorSession:
    """The learner's fee: its lines and OH&P, the last valid breakdown or why there is none; no widgets."""

    def __init__(self, calculator: FeeCalculator):
        self.calculator = calculator
        self.lines: list[FeeLine] = [FeeLine(role, people, hours, calculator.rates.get(role, 0.0))
                                     for role, people, hours in calculator.lines]
        self.ohp_percent = calculator.ohp_percent
        self.breakdown = None  # the last valid breakdown (a DataFrame)
        self.error: str | None = None  # why the current inputs give no fee
        self.calculate()

    def update(self, lines: list[FeeLine], ohp_percent: float) -> None:
        """Take the learner's current inputs and recalculate."""
        self.lines, self.ohp_percent = list(lines), ohp_percent
        self.calculate()

    def calculate(self) -> None:
        """Rebuild the breakdown; on an invalid input keep the reason and no breakdown."""
        try:
            self.breakdown, self.error = fee_breakdown(self.lines, self.ohp_percent), None
        except ValueError as error:
            self.breakdown, self.error = None, str(error)  # never leave a stale total

    @property
    def total(self) -> float | None:
        """The total of the last valid breakdown."""
        return None if self.breakdown is None else float(self.breakdown["cost"].iloc[-1])


def parse_amount(text: str, name: str, where: str) -> float:
    """A number typed by the learner ("1,200", "£150", " 4.5 "), or ValueError naming the line and box.

    Nothing is ever filled in for the learner: a blank box is reported, not replaced. (Whether
    the number is allowed, e.g. not negative, is the fee model's rule: :func:`clientcare.fees.validate_line`.)"""
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


class FeeRow:
    """The inputs of one line: role, people, hours and hourly rate, a Remove button, and beside them
    what is wrong with the line, if anything."""

    def __init__(self, number: int, role: str = "Consultant", people: int = 1, hours: float = 0.0,
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
        self.rate = widgets.Text(value=_number_text(rate), description="Rate (£ per hour)", style=LABEL_STYLE,
                                 continuous_update=False)
        self.remove = widgets.Button(description="Remove", icon="trash")
        self.error = widgets.HTML()
        for control, css in [(self.role, "cc-fee-role"), (self.people, "cc-fee-number"),
                             (self.hours, "cc-fee-number"), (self.rate, "cc-fee-number")]:
            control.add_class(css)
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
        self.rate.tooltip = f"Hourly rate in pounds, line {number}"
        self.remove.tooltip = f"Remove line {number}"

    def _apply_preset(self, change: dict) -> None:
        """Choosing a preset role fills in its standard hourly rate, unless the learner typed a rate of
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
        role = self.role.value.strip()
        where = f"Line {self.number} ({role})" if role else f"Line {self.number}"
        return FeeLine(self.role.value, parse_amount(self.people.value, "people", where),
                       parse_amount(self.hours.value, "hours", where),
                       parse_amount(self.rate.value, "hourly rate", where))

    def show_error(self, message: str | None) -> None:
        self.error.value = (f'<span class="cc-field-error" role="alert">{html.escape(message)}</span>'
                            if message else "")

    def controls(self) -> list[widgets.Widget]:
        """The inputs whose changes trigger a recalculation."""
        return [self.role, self.people, self.hours, self.rate]


_COLUMNS = [("Role", "cc-text-cell"), ("People", "cc-num"), ("Hours each", "cc-num"),
            ("Hourly rate", "cc-num"), ("Cost", "cc-num")]


def breakdown_html(breakdown) -> str:
    """The breakdown as an accessible HTML table with money formatted as £1,234.56. Each column's
    header is aligned as its figures are (roles left, numbers right); the table scrolls sideways
    in a narrow window instead of being cut off."""
    header = "".join(f'<th scope="col" class="{css}">{name}</th>' for name, css in _COLUMNS)
    body = []
    for row in breakdown.itertuples(index=False):
        summary = row.role in (SUBTOTAL_LABEL, TOTAL_LABEL) or row.role.startswith("Overheads")
        cells = [
            f'<th scope="row" class="cc-text-cell">{html.escape(row.role)}</th>',
            '<td class="cc-num"></td>' if summary else f'<td class="cc-num">{row.people}</td>',
            '<td class="cc-num"></td>' if summary else f'<td class="cc-num">{row.hours:g}</td>',
            '<td class="cc-num"></td>' if summary else f'<td class="cc-num">{format_money(row.rate)}</td>',
            f'<td class="cc-num">{format_money(row.cost)}</td>',
        ]
        css = ' class="cc-total"' if row.role == TOTAL_LABEL else ""
        body.append(f"<tr{css}>{''.join(cells)}</tr>")
    return (
        '<div class="cc-table-scroll" role="region" aria-label="Itemised fee breakdown" tabindex="0">'
        '<table class="cc-table clientcare-fees">'
        "<caption>Itemised fee breakdown</caption>"
        f"<thead><tr>{header}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


# Drawn in this colour, then replaced by the theme's text colour (SVG currentColor).
_INK = "#010203"


def cost_chart(breakdown) -> Figure:
    """A horizontal bar chart of cost by role, plus the OH&P allowance, on a transparent background."""
    costs = cost_by_role(breakdown)
    figure = Figure(figsize=(8, 1 + 0.5 * max(len(costs), 1)))
    figure.patch.set_alpha(0)
    axes = figure.subplots()
    axes.set_facecolor("none")
    colours = ["#2b6cb0"] * (len(costs) - 1) + ["#c05621"]  # OH&P stands out from the roles
    bars = axes.barh(list(costs.index)[::-1], list(costs.values)[::-1], color=colours[::-1])
    axes.bar_label(bars, labels=[format_money(value) for value in costs.values[::-1]], padding=3, color=_INK)
    axes.set_xlabel("Cost (£)", color=_INK)
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
    return "Bar chart, where the fee goes: " + "; ".join(parts) + "."


def chart_html(breakdown) -> str:
    svg = figure_svg(cost_chart(breakdown))
    label = html.escape(chart_description(breakdown), quote=True)
    size = re.search(r'<svg[^>]*?\swidth="([\d.]+)pt" height="([\d.]+)pt"', svg)
    svg = re.sub(r'(<svg[^>]*?)\swidth="[\d.]+pt" height="[\d.]+pt"', r"\1", svg, count=1)
    max_width = f"max-width:{size.group(1)}pt;" if size else ""
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{label}" width="100%" style="{max_width}height:auto" ', 1)
    return f'<figure class="cc-chart" style="margin:0">{svg}</figure>'


class FeeCalculatorView(widgets.VBox):
    """Rows of inputs, an OH&P slider, a breakdown table and a chart, kept in step.

    A value that cannot be used is reported beside its line (and above the table), and the
    last valid breakdown stays on screen, marked as such, until it is corrected: the table and
    chart never vanish and the page does not jump. No box is ever changed behind the learner's back.
    """

    def __init__(self, session: FeeCalculatorSession):
        self.session = session
        self.rows: list[FeeRow] = []
        ohp_label_id = new_id("ohp")
        self.ohp_label = widgets.HTML(f'<span id="{ohp_label_id}">Overheads and profit (OH&amp;P), '
                                      "% of the subtotal</span>")
        self.ohp = widgets.FloatSlider(
            value=session.ohp_percent, min=0, max=30, step=0.5, description="OH&P %",
            tooltip="Allowance for overheads and profit, as a percentage of the subtotal",
            readout_format=".1f", style=LABEL_STYLE, layout=widgets.Layout(width="100%", max_width="450px"))
        name_group(self.ohp, ohp_label_id)
        self.add = widgets.Button(description="Add a line", icon="plus", tooltip="Add another role to the fee")
        self.message = widgets.HTML()
        self.table = widgets.HTML()
        self.chart = widgets.HTML()
        self.rows_box = widgets.VBox(layout=widgets.Layout(width="100%"))
        super().__init__([
            widgets.HTML(heading("Fee calculator", 3)
                         + "<p>For each role, enter the people, the hours each works and the hourly rate.</p>"),
            self.rows_box, self.add, self.ohp_label, self.ohp, self.message, self.table, self.chart,
        ])
        themed(self, "fees")
        self.ohp.observe(self.recalculate, names="value")
        self.add.on_click(lambda _button: self.add_row())
        for line in session.lines:
            self.add_row(line.role, line.people, line.hours, line.hourly_rate, refresh=False)
        self.recalculate()

    def add_row(self, role: str = "Consultant", people: int = 1, hours: float = 0.0,
                rate: float | None = None, *, refresh: bool = True) -> FeeRow:
        """Append a line (a Consultant at the preset rate unless told otherwise)."""
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

    def _layout_rows(self, refresh: bool) -> None:
        for number, row in enumerate(self.rows, start=1):
            row.renumber(number)
        self.rows_box.children = [row.box for row in self.rows]
        if refresh:
            self.recalculate()

    def recalculate(self, _change: dict | None = None) -> None:
        """Rebuild the breakdown and chart; if an input cannot be used, say so beside it and keep
        showing the last valid breakdown."""
        lines, problems = [], []
        for row in self.rows:
            try:
                lines.append(row.fee_line())
                row.show_error(None)
            except ValueError as error:
                row.show_error(str(error))
                problems.append(str(error))
        if not problems:
            self.session.update(lines, self.ohp.value)
            if self.session.error:
                problems.append(self.session.error)
                self._show_model_error(self.session.error)
        if problems:
            self.session.breakdown = None  # the current inputs have no fee
            shown = "the fee below is the last one that could be worked out" if self.table.value else \
                "the fee appears once every line can be worked out"
            self.message.value = (f'<p class="cc-alert" role="alert">{html.escape(problems[0])}. '
                                  f"Correct it: {shown}.</p>")
            return
        self.message.value = ""
        self.table.value = breakdown_html(self.session.breakdown)
        self.chart.value = chart_html(self.session.breakdown)

    def _show_model_error(self, message: str) -> None:
        """Put the fee model's message beside the line it names (e.g. "Line 2 (Consultant): ...")."""
        for row in self.rows:
            if message.startswith(f"Line {row.number} ") or message.startswith(f"Line {row.number}:"):
                row.show_error(message)


def show_fee_calculator() -> FeeCalculatorView:
    """The fee calculator, ready to display in a lesson."""
    return FeeCalculatorView(FeeCalculatorSession(load_fee_calculator()))
