"""The fee model (clientcare.fees) and the fee calculator widget built on it."""
import html
from decimal import Decimal

import pandas as pd
import pytest

from clientcare.fee_calculator import (
    PRESET_RATES, FeeCalculator, FeeCalculatorSession, FeeCalculatorView, breakdown_html, cost_chart,
    show_fee_calculator,
)
from clientcare.fees import (
    EXPENSES_LABEL, TOTAL_EXCL_VAT_LABEL, TOTAL_INCL_VAT_LABEL, Expense, FeeLine, cost_by_role, fee_breakdown,
    fee_totals, format_money, line_cost, quoted_price, rate_build_up, to_pence,
)

# Lesson 6's worked calculation: charge-out rates, a recharged mileage expense, a disbursement.
LINES = [FeeLine("Director", 1, 6, 185), FeeLine("Senior surveyor", 1, 32, 125), FeeLine("Assistant surveyor", 1, 20, 85)]
MILEAGE = Expense("Mileage, 180 miles at 45p a mile", 81.00, True)
SEARCH = Expense("Planning application fee paid in the client's name", 120.00, False)


def test_line_cost_is_people_times_hours_times_charge_out_rate():
    assert line_cost(FeeLine("Senior surveyor", 1, 32, 125)) == Decimal("4000.00")
    assert line_cost(FeeLine("Surveyor", 3, 7.5, 82.5)) == Decimal("1856.25")


def test_no_overheads_and_profit_are_added_to_charge_out_rates():
    """Charge-out rates already recover overheads and profit: the fee is the sum of the lines."""
    totals = fee_totals(LINES, [], 0.20)
    assert totals["fees"] == totals["total_excl_vat"] == Decimal("6810.00")
    table = fee_breakdown(LINES, [], 0.20)
    assert not table["role"].str.contains("OH&P|verhead").any()


def test_breakdown_lists_fee_lines_expenses_then_totals_labelled_excl_and_incl_vat():
    table = fee_breakdown(LINES, [MILEAGE, SEARCH], 0.20)
    assert list(table.columns) == ["role", "people", "hours", "rate", "cost", "kind"]
    assert list(table["role"]) == ["Director", "Senior surveyor", "Assistant surveyor", MILEAGE.description,
                                   SEARCH.description + " (disbursement, no VAT)",
                                   TOTAL_EXCL_VAT_LABEL, "VAT at 20%", TOTAL_INCL_VAT_LABEL]
    assert list(table["kind"]) == ["fee"] * 3 + ["expense"] * 2 + ["total"] * 3
    # 6,810 fees + 81 mileage + 120 search; VAT on fees and mileage only: 20% of 6,891 = 1,378.20
    assert list(table["cost"]) == [1110.0, 4000.0, 1700.0, 81.0, 120.0, 7011.0, 1378.2, 8389.2]
    assert table["cost"].iloc[:5].sum() == table["cost"].iloc[5]
    assert table["cost"].iloc[5] + table["cost"].iloc[6] == table["cost"].iloc[7]
    assert pd.isna(table.loc[3, "people"]) and pd.isna(table.loc[7, "rate"])


def test_vat_is_charged_on_recharged_expenses_but_not_on_true_disbursements():
    with_mileage = fee_totals(LINES, [MILEAGE], 0.20)
    with_search = fee_totals(LINES, [SEARCH], 0.20)
    assert with_mileage["vat"] == Decimal("1378.20")  # 20% of 6,810 + 81
    assert with_search["vat"] == Decimal("1362.00")   # 20% of 6,810 only
    assert with_search["expenses"] == Decimal("120.00")


def test_zero_vat_rate_makes_totals_equal():
    totals = fee_totals(LINES, [MILEAGE], 0)
    assert totals["vat"] == 0 and totals["total_incl_vat"] == totals["total_excl_vat"] == Decimal("6891.00")


def test_consumers_are_quoted_the_vat_inclusive_price_businesses_excl_vat_with_the_vat_shown():
    totals = fee_totals(LINES, [MILEAGE], 0.20)
    assert quoted_price(totals, consumer=True) == "£8,269.20 including VAT"
    business = quoted_price(totals, consumer=False)
    assert business == "£6,891.00 plus VAT of £1,378.20 (£8,269.20 including VAT)"


def test_rate_build_up_from_salary_to_charge_out_rate():
    # A building surveyor on £46,000 with 22% on-costs and 1,320 chargeable hours; overheads £58/h; 15% margin.
    rates = rate_build_up(46000, 0.22, 1320, 58, 0.15)
    assert rates == {"cost_rate": Decimal("42.52"), "full_cost_rate": Decimal("100.52"),
                     "charge_out_rate": Decimal("118.26")}
    # Lesson 6's table: a senior surveyor on £52,000, 22% on-costs, 1,300 hours, £55 overheads, 17% margin.
    assert rate_build_up(52000, 0.22, 1300, 55, 0.17) == {
        "cost_rate": Decimal("48.80"), "full_cost_rate": Decimal("103.80"), "charge_out_rate": Decimal("125.06")}
    # The margin is a share of the charge-out rate, not a mark-up on cost.
    assert rate_build_up(0, 0, 1, 80, 0.2)["charge_out_rate"] == Decimal("100.00")


@pytest.mark.parametrize("args, message", [
    ((46000, 0.22, 0, 58, 0.15), "chargeable hours must be more than zero"),
    ((46000, 0.22, 1320, 58, 1), "margin is a fraction below 1"),
    ((-1, 0.22, 1320, 58, 0.15), "salary cannot be negative"),
])
def test_rate_build_up_rejects_impossible_inputs(args, message):
    with pytest.raises(ValueError, match=message):
        rate_build_up(*args)


def test_money_is_rounded_to_pence_half_up():
    assert to_pence(2.675) == Decimal("2.68")  # a float would round this down
    line = FeeLine("Consultant", 1, 1.333, 70)  # 93.31 after rounding
    totals = fee_totals([line], [], 0.20)
    assert totals["total_excl_vat"] == Decimal("93.31")
    assert totals["vat"] == Decimal("18.66")  # 18.662
    assert totals["total_incl_vat"] == Decimal("111.97")
    assert fee_breakdown([line], [], 0.175)["cost"].tolist() == [93.31, 93.31, 16.33, 109.64]  # 16.32925


def test_line_costs_are_rounded_before_adding_so_the_table_adds_up():
    lines = [FeeLine("A", 1, 1, 0.005), FeeLine("B", 1, 1, 0.005)]
    table = fee_breakdown(lines, [], 0)
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
        fee_breakdown([LINES[0], line])


@pytest.mark.parametrize("expense, message", [
    (Expense("Mileage", -5), r"Expense 1 \(Mileage\): amount cannot be negative"),
    (Expense("", 5), "Expense 1: description is missing"),
    (Expense("Mileage", float("nan")), r"Expense 1 \(Mileage\): amount is missing"),
])
def test_invalid_expenses_are_reported_by_number_and_field(expense, message):
    with pytest.raises(ValueError, match=message):
        fee_totals(LINES, [expense])


def test_invalid_vat_rate():
    with pytest.raises(ValueError, match="VAT: rate cannot be negative"):
        fee_breakdown(LINES, [], -0.2)
    with pytest.raises(ValueError, match="0.2 means 20%"):
        fee_totals(LINES, [], 20)


def test_no_lines_gives_a_zero_fee():
    assert fee_breakdown([])["cost"].tolist() == [0.0, 0.0, 0.0]


def test_cost_by_role_adds_lines_of_a_role_and_shows_expenses_without_vat():
    table = fee_breakdown(LINES + [FeeLine("Director", 1, 1, 185)], [MILEAGE, SEARCH])
    by_role = cost_by_role(table)
    assert by_role.to_dict() == {"Director": 1295.0, "Senior surveyor": 4000.0, "Assistant surveyor": 1700.0,
                                 EXPENSES_LABEL: 201.0}
    assert list(cost_by_role(fee_breakdown(LINES)).index) == ["Director", "Senior surveyor", "Assistant surveyor"]


# ---------------------------------------------------------------- the calculator session and widget


def test_session_starts_with_the_lesson_worked_calculation():
    session = FeeCalculatorSession(FeeCalculator())
    assert session.total_excl_vat == 6891.0 and session.total == 8269.2
    assert session.quote == "£6,891.00 plus VAT of £1,378.20 (£8,269.20 including VAT)"
    session.update(session.lines, consumer=True)
    assert session.quote == "£8,269.20 including VAT"


def test_calculator_starts_with_preset_roles_and_a_correct_total():
    calc = FeeCalculatorView(FeeCalculatorSession(FeeCalculator()))
    assert [row.role.value for row in calc.rows] == ["Director", "Senior surveyor", "Assistant surveyor"]
    assert calc.rows[0].rate.value == "185" and PRESET_RATES["Director"] == 185
    assert [row.description.value for row in calc.expense_rows] == ["Mileage, 180 miles at 45p a mile"]
    assert calc.session.total == 8269.2
    assert "£8,269.20" in calc.table.value and "Total excl. VAT" in calc.table.value
    assert "plus VAT" in calc.quote.value
    assert calc.message.value == ""


def test_calculator_recomputes_when_an_input_changes():
    calc = FeeCalculatorView(FeeCalculatorSession(FeeCalculator()))
    calc.rows[1].hours.value = "40"  # 40 h x £125 = £5,000
    assert calc.session.breakdown["cost"].iloc[1] == 5000.0
    assert calc.session.total_excl_vat == 1110 + 5000 + 1700 + 81
    calc.expense_rows[0].vat_applies.value = False
    assert calc.session.total == round(7891 + 0.2 * 7810, 2)
    calc.consumer.value = True
    assert "including VAT" in calc.quote.value and "plus VAT" not in calc.quote.value


def test_choosing_a_preset_role_fills_in_its_rate():
    calc = FeeCalculatorView(FeeCalculatorSession(FeeCalculator()))
    calc.rows[2].role.value = "Administrator"
    assert calc.rows[2].rate.value == "50"
    assert calc.session.breakdown["role"].iloc[2] == "Administrator"
    assert calc.session.breakdown["cost"].iloc[2] == 20 * 50


def test_adding_and_removing_lines_and_expenses():
    calc = FeeCalculatorView(FeeCalculatorSession(FeeCalculator(lines=(("Director", 1, 2.0),), expenses=())))
    assert calc.session.total == 444.0  # 370 + 20% VAT
    row = calc.add_row("Administrator", 2, 5.0)
    assert len(calc.rows_box.children) == 2
    assert calc.session.total_excl_vat == 370 + 500
    assert row.remove.tooltip == "Remove line 2"
    row.remove.click()
    assert len(calc.rows) == 1 and calc.session.total == 444.0
    expense = calc.add_expense_row("Search fee", 60.0, vat_applies=False)
    assert calc.session.total_excl_vat == 430.0 and calc.session.total == 504.0
    expense.remove.click()
    assert calc.expense_rows == [] and calc.session.total == 444.0
    calc.add.click()
    assert calc.rows[-1].role.value == "Senior surveyor" and len(calc.rows) == 2


def test_invalid_input_is_named_beside_its_line_and_the_last_valid_fee_stays():
    # issue 14: a bad value no longer empties the table and chart (the page jumped); the last
    # valid breakdown stays on screen, and the session reports no total for the current inputs.
    calc = FeeCalculatorView(FeeCalculatorSession(FeeCalculator()))
    calc.rows[0].hours.value = "-4"
    assert "Line 1 (Director): hours cannot be negative" in calc.message.value
    assert "hours cannot be negative" in calc.rows[0].error.value and calc.rows[1].error.value == ""
    assert calc.session.total is None
    assert "£8,269.20" in calc.table.value and "<svg" in calc.chart.value
    assert "last one that could be worked out" in calc.message.value
    calc.rows[0].hours.value = "6"
    calc.expense_rows[0].amount.value = "-1"
    assert "Expense 1" in calc.message.value and "Expense 1" in calc.expense_rows[0].error.value
    assert calc.session.total is None
    calc.expense_rows[0].amount.value = "81"
    assert calc.message.value == "" and calc.rows[0].error.value == "" and calc.session.total == 8269.2


def test_a_blank_or_unreadable_box_is_reported_and_never_replaced():
    calc = FeeCalculatorView(FeeCalculatorSession(FeeCalculator()))
    calc.rows[0].rate.value = ""
    assert calc.rows[0].rate.value == ""  # not put back to the preset rate
    assert "Line 1 (Director): hourly rate is missing" in calc.rows[0].error.value
    assert calc.session.total is None and "£8,269.20" in calc.table.value
    calc.rows[1].people.value = "two"
    assert "Line 2 (Senior surveyor): people must be a number, not 'two'" in html.unescape(calc.rows[1].error.value)
    calc.rows[0].rate.value, calc.rows[1].people.value = "£185", "1"
    assert calc.session.total == 8269.2 and calc.message.value == ""


def test_a_preset_role_does_not_overwrite_a_rate_the_learner_typed():
    calc = FeeCalculatorView(FeeCalculatorSession(FeeCalculator()))
    calc.rows[2].rate.value = "90"
    calc.rows[2].role.value = "Director"
    assert calc.rows[2].rate.value == "90"


def test_the_chart_has_a_text_equivalent_and_follows_the_theme():
    calc = FeeCalculatorView(FeeCalculatorSession(FeeCalculator()))
    chart = calc.chart.value
    assert 'role="img"' in chart and "Director £1,110.00" in chart and "Senior surveyor £4,000.00" in chart
    assert "currentColor" in chart and "#ffffff" not in chart.lower()  # transparent, drawn in the text colour


def test_every_control_has_a_label_or_tooltip():
    calc = FeeCalculatorView(FeeCalculatorSession(FeeCalculator()))
    row, expense = calc.rows[0], calc.expense_rows[0]
    for control in [row.role, row.people, row.hours, row.rate, expense.description, expense.amount,
                    expense.vat_applies, calc.consumer]:
        assert control.description and control.tooltip
    assert calc.add.description == "Add a line" and calc.add_expense.description == "Add an expense"
    assert show_fee_calculator().children


def test_breakdown_html_formats_money_and_chart_draws():
    table = fee_breakdown([FeeLine("Director", 1, 10, 1234.5)], [MILEAGE], 0)
    text = breakdown_html(table)
    assert "£12,345.00" in text and "£1,234.50" in text and "<caption>" in text
    assert len(cost_chart(table).axes[0].patches) == 2
