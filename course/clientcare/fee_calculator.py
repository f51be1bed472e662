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
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

import ipywidgets as widgets
from IPython.display import Image, display
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .fees import FeeLine, fee_breakdown, cost_by_role, format_money, SUBTOTAL_LABEL, TOTAL_LABEL

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


class FeeRow:
    """The inputs of one line: role, people, hours and hourly rate, and a Remove button."""

    def __init__(self, number: int, role: str = "Consultant", people: int = 1, hours: float = 0.0,
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
        self.rate = widgets.FloatText(value=rate, description="Rate (£ per hour)", style=LABEL_STYLE,
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
        self.rate.tooltip = f"Hourly rate in pounds, line {number}"
        self.remove.tooltip = f"Remove line {number}"

    def _apply_preset(self, change: dict) -> None:
        """Choosing a preset role fills in its standard hourly rate."""
        if change["new"] in PRESET_RATES:
            self.rate.value = PRESET_RATES[change["new"]]

    def fee_line(self) -> FeeLine:
        """The line as the fee model sees it."""
        return FeeLine(self.role.value, self.people.value, self.hours.value, self.rate.value)

    def controls(self) -> list[widgets.Widget]:
        """The inputs whose changes trigger a recalculation."""
        return [self.role, self.people, self.hours, self.rate]


def breakdown_html(breakdown) -> str:
    """The breakdown as an accessible HTML table with money formatted as £1,234.56."""
    header = "".join(f'<th scope="col">{name}</th>' for name in
                     ["Role", "People", "Hours each", "Hourly rate", "Cost"])
    body = []
    for row in breakdown.itertuples(index=False):
        summary = row.role in (SUBTOTAL_LABEL, TOTAL_LABEL) or row.role.startswith("Overheads")
        cells = [
            f'<th scope="row">{html.escape(row.role)}</th>',
            "<td></td>" if summary else f"<td>{row.people}</td>",
            "<td></td>" if summary else f"<td>{row.hours:g}</td>",
            "<td></td>" if summary else f"<td>{format_money(row.rate)}</td>",
            f"<td>{format_money(row.cost)}</td>",
        ]
        weight = ' style="font-weight:bold"' if row.role == TOTAL_LABEL else ""
        body.append(f"<tr{weight}>{''.join(cells)}</tr>")
    return (
        '<table class="clientcare-fees" style="border-collapse:collapse">'
        "<caption>Itemised fee breakdown</caption>"
        f"<thead><tr>{header}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        "<style>.clientcare-fees th,.clientcare-fees td{padding:2px 10px;text-align:right}"
        ".clientcare-fees th[scope=row]{text-align:left}</style>"
    )


def cost_chart(breakdown) -> Figure:
    """A horizontal bar chart of cost by role, plus the OH&P allowance."""
    costs = cost_by_role(breakdown)
    figure = Figure(figsize=(8, 1 + 0.5 * max(len(costs), 1)))
    axes = figure.subplots()
    colours = ["#2b6cb0"] * (len(costs) - 1) + ["#c05621"]  # OH&P stands out from the roles
    bars = axes.barh(list(costs.index)[::-1], list(costs.values)[::-1], color=colours[::-1])
    axes.bar_label(bars, labels=[format_money(value) for value in costs.values[::-1]], padding=3)
    axes.set_xlabel("Cost (£)")
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
    """Rows of inputs, an OH&P slider, a breakdown table and a chart, kept in step."""

    def __init__(self, session: FeeCalculatorSession):
        self.session = session
        self.rows: list[FeeRow] = []
        self.ohp = widgets.FloatSlider(
            value=session.ohp_percent, min=0, max=30, step=0.5, description="Overheads and profit (OH&P) %",
            tooltip="Allowance for overheads and profit, as a percentage of the subtotal",
            readout_format=".1f", style=LABEL_STYLE, layout=widgets.Layout(width="450px"))
        self.add = widgets.Button(description="Add a line", icon="plus", tooltip="Add another role to the fee")
        self.message = widgets.HTML(layout=widgets.Layout(min_height="1.5em"))
        self.table = widgets.HTML()
        self.chart = widgets.Output()
        self.rows_box = widgets.VBox()
        super().__init__([
            widgets.HTML("<b>Fee calculator</b>: for each role, enter the people, the hours each "
                         "works and the hourly rate."),
            self.rows_box, self.add, self.ohp, self.message, self.table, self.chart,
        ])
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
        """Rebuild the breakdown and chart; show the problem instead if an input is invalid."""
        self.session.update([row.fee_line() for row in self.rows], self.ohp.value)
        if self.session.breakdown is None:
            self.message.value = (f'<span role="alert" style="color:#b00020">{html.escape(self.session.error)}. '
                                  "Correct it to see the fee.</span>")
            self.table.value = ""
            self.chart.clear_output()
            return
        self.message.value = ""
        self.table.value = breakdown_html(self.session.breakdown)
        self._draw(self.session.breakdown)

    def _draw(self, breakdown) -> None:
        png = figure_png(cost_chart(breakdown))
        with self.chart:
            self.chart.clear_output(wait=True)
            display(Image(data=png, format="png", alt="Bar chart of cost by role and OH&P"))


def show_fee_calculator() -> FeeCalculatorView:
    """The fee calculator, ready to display in a lesson."""
    return FeeCalculatorView(FeeCalculatorSession(load_fee_calculator()))
