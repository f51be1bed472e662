"""The fee model (clientcare.fees) and the fee calculator widget built on it."""
from decimal import Decimal

import pandas as pd
import pytest

from clientcare.fee_calculator import (
    PRESET_RATES, FeeCalculator, FeeCalculatorSession, FeeCalculatorView, breakdown_html, show_fee_calculator,
)
from clientcare.fees import (
    OHP_LABEL, FeeLine, fee_breakdown, fee_totals, format_money, line_cost, to_pence,
)

LINES = [FeeLine("Director", 1, 4, 150), FeeLine("Consultant", 2, 20, 70), FeeLine("Administrator", 1, 6, 40)]


def test_line_cost_is_people_times_hours_times_rate():
    assert line_cost(FeeLine("Consultant", 2, 20, 70)) == Decimal("2800.00")
    assert line_cost(FeeLine("Surveyor", 3, 7.5, 82.5)) == Decimal("1856.25")


def test_breakdown_lists_every_line_then_subtotal_ohp_and_total():
    table = fee_breakdown(LINES, 15)
    assert list(table.columns) == ["role", "people", "hours", "rate", "cost"]
    assert list(table["role"]) == ["Director", "Consultant", "Administrator", "Subtotal",
                                   f"{OHP_LABEL} at 15%", "Total"]
    assert list(table["cost"]) == [600.0, 2800.0, 240.0, 3640.0, 546.0, 4186.0]
    # Every charge is a line: the lines add up to the subtotal, and subtotal + OH&P to the total.
    assert table["cost"].iloc[:3].sum() == table["cost"].iloc[3]
    assert table["cost"].iloc[3] + table["cost"].iloc[4] == table["cost"].iloc[5]
    assert pd.isna(table.loc[3, "people"]) and pd.isna(table.loc[5, "rate"])


def test_zero_ohp_makes_total_equal_subtotal():
    totals = fee_totals(LINES, 0)
    assert totals["ohp"] == 0 and totals["total"] == totals["subtotal"] == Decimal("3640.00")


def test_money_is_rounded_to_pence_half_up():
    assert to_pence(2.675) == Decimal("2.68")  # a float would round this down
    line = FeeLine("Consultant", 1, 1.333, 70)  # 93.31 exactly after rounding
    totals = fee_totals([line], 12.5)
    assert totals["subtotal"] == Decimal("93.31")
    assert totals["ohp"] == Decimal("11.66")  # 11.66375
    assert totals["total"] == Decimal("104.97")
    assert fee_breakdown([line], 12.5)["cost"].tolist() == [93.31, 93.31, 11.66, 104.97]


def test_line_costs_are_rounded_before_adding_so_the_table_adds_up():
    lines = [FeeLine("A", 1, 1, 0.005), FeeLine("B", 1, 1, 0.005)]
    table = fee_breakdown(lines, 0)
    assert table["cost"].iloc[:2].sum() == table["cost"].iloc[2] == 0.02


def test_money_formatting():
    assert format_money(1234.5) == "£1,234.50"
    assert format_money(Decimal("1234567.891")) == "£1,234,567.89"
    assert format_money(0) == "£0.00"
    assert format_money(-5) == "-£5.00"


@pytest.mark.parametrize("line, message", [
    (FeeLine("Consultant", -1, 10, 70), "Line 2 (Consultant): people cannot be negative"),
    (FeeLine("Consultant", 1, -10, 70), "Line 2 (Consultant): hours cannot be negative"),
    (FeeLine("Consultant", 1, 10, -70), "Line 2 (Consultant): hourly rate cannot be negative"),
    (FeeLine("Consultant", None, 10, 70), "Line 2 (Consultant): people is missing"),
    (FeeLine("Consultant", 1, None, 70), "Line 2 (Consultant): hours is missing"),
    (FeeLine("Consultant", 1, 10, float("nan")), "Line 2 (Consultant): hourly rate is missing"),
    (FeeLine("", 1, 10, 70), "Line 2: role is missing"),
    (FeeLine("Consultant", 1.5, 10, 70), "Line 2 (Consultant): people must be a whole number"),
    (FeeLine("Consultant", 1, "ten", 70), "Line 2 (Consultant): hours must be a number"),
])
def test_invalid_lines_are_reported_by_line_and_field(line, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        fee_breakdown([LINES[0], line], 10)


def test_invalid_ohp_percentage():
    with pytest.raises(ValueError, match="percentage cannot be negative"):
        fee_breakdown(LINES, -5)
    with pytest.raises(ValueError, match="cannot be more than 100"):
        fee_totals(LINES, 150)


def test_no_lines_gives_a_zero_fee():
    assert fee_breakdown([], 15)["cost"].tolist() == [0.0, 0.0, 0.0]


# ---------------------------------------------------------------- the calculator widget


def test_calculator_starts_with_preset_roles_and_a_correct_total():
    calc = FeeCalculatorView(FeeCalculatorSession(FeeCalculator()))
    assert [row.role.value for row in calc.rows] == ["Director", "Consultant", "Administrator"]
    assert calc.rows[0].rate.value == PRESET_RATES["Director"] == 150
    assert calc.session.total == 4186.0
    assert "£4,186.00" in calc.table.value
    assert calc.message.value == ""


def test_calculator_recomputes_when_an_input_changes():
    calc = FeeCalculatorView(FeeCalculatorSession(FeeCalculator()))
    calc.rows[1].hours.value = 30  # 2 consultants x 30 h x £70 = £4,200
    assert calc.session.breakdown["cost"].iloc[1] == 4200.0
    assert calc.session.total == round((600 + 4200 + 240) * 1.15, 2)
    calc.ohp.value = 0
    assert calc.session.total == 5040.0
    assert "£5,040.00" in calc.table.value


def test_choosing_a_preset_role_fills_in_its_rate():
    calc = FeeCalculatorView(FeeCalculatorSession(FeeCalculator()))
    calc.rows[2].role.value = "Senior consultant"
    assert calc.rows[2].rate.value == 95
    assert calc.session.breakdown["role"].iloc[2] == "Senior consultant"
    assert calc.session.breakdown["cost"].iloc[2] == 6 * 95


def test_adding_and_removing_lines():
    calc = FeeCalculatorView(FeeCalculatorSession(FeeCalculator(lines=(("Director", 1, 2.0),), ohp_percent=10)))
    assert calc.session.total == 330.0
    row = calc.add_row("Administrator", 2, 5.0)
    assert len(calc.rows_box.children) == 2
    assert calc.session.total == round((300 + 400) * 1.1, 2)
    assert row.remove.tooltip == "Remove line 2"
    row.remove.click()
    assert len(calc.rows) == 1 and calc.session.total == 330.0
    calc.add.click()
    assert calc.rows[-1].role.value == "Consultant" and len(calc.rows) == 2


def test_invalid_input_shows_the_message_instead_of_a_stale_fee():
    calc = FeeCalculatorView(FeeCalculatorSession(FeeCalculator()))
    calc.rows[0].hours.value = -4
    assert "Line 1 (Director): hours cannot be negative" in calc.message.value
    assert calc.session.total is None and calc.table.value == ""
    calc.rows[0].hours.value = 4
    assert calc.message.value == "" and calc.session.total == 4186.0


def test_every_control_has_a_label_or_tooltip():
    calc = FeeCalculatorView(FeeCalculatorSession(FeeCalculator()))
    row = calc.rows[0]
    for control in [row.role, row.people, row.hours, row.rate, calc.ohp]:
        assert control.description and control.tooltip
    assert calc.add.description == "Add a line"
    assert show_fee_calculator().children


def test_breakdown_html_formats_money():
    text = breakdown_html(fee_breakdown([FeeLine("Director", 1, 10, 1234.5)], 0))
    assert "£12,345.00" in text and "£1,234.50" in text and "<caption>" in text
