"""Numeric quiz questions (tolerance, unit, likely mistakes) and question banks (`draw`)."""
import textwrap

import pytest

from clientcare.content import ContentError
from clientcare.quiz import answer_feedback, load_quiz, parse_number, score_question, score_quiz

BANK = textwrap.dedent("""\
    id: 98-bank
    title: Fees bank
    lesson: 6
    draw: 2
    questions:
      - id: vat-total
        kind: numeric
        prompt: A fee of £4,150 plus VAT at 20%. What does the client pay?
        answer: 4980
        tolerance: 1
        unit: "£"
        mistakes:
          - value: 4150
            tolerance: 1
            feedback: That is the fee before VAT; add 20% of it.
          - value: 830
            feedback: That is the VAT alone; add it to the fee.
        feedback: Right, £4,150 + £830.
        explanation: VAT is 20% of the fee, added to it.
      - id: kpi-rate
        kind: numeric
        prompt: 45 of 60 clients answered the survey. What is the response rate?
        answer: 75
        unit: "%"
      - id: disclose
        kind: single
        prompt: A venue offers you a commission. What do you do?
        options:
          - text: Disclose it to the client in writing.
            correct: true
            feedback: Right.
          - text: Accept it; the client's price does not change.
            correct: false
            feedback: Your advice might.
""")


def write(content_dir, text=BANK):
    (content_dir / "quizzes" / "98-bank.yaml").write_text(text, encoding="utf-8")


@pytest.fixture
def bank(content_dir):
    write(content_dir)
    return load_quiz("98-bank")


def test_a_bank_asks_draw_questions_per_attempt(bank):
    assert bank.draw == 2 and bank.total == 2 and len(bank.questions) == 3


@pytest.mark.parametrize("typed, number", [
    ("4980", 4980.0), ("£4,980", 4980.0), (" 4,980.00 ", 4980.0), ("75%", 75.0), ("-12.5", -12.5),
    (4979, 4979.0), ("4980 GBP", 4980.0), ("", None), ("about 5000", None), ("1,2,3.4.5", None), (None, None),
    (True, None), ("1e3", 1000.0),
])
def test_typed_numbers_are_read_as_a_learner_would_write_them(typed, number):
    assert parse_number(typed) == number


def test_numeric_answers_are_right_within_the_tolerance(bank):
    vat = bank.questions[0]
    assert [score_question(vat, typed) for typed in ("4980", "£4,979", "4981", "4982", "4,150", "", None)] == \
           [1, 1, 1, 0, 0, 0, 0]
    rate = bank.questions[1]  # no tolerance given: exact
    assert score_question(rate, "75") == 1 and score_question(rate, "75.5") == 0


def test_a_likely_mistake_gets_feedback_naming_it(bank):
    vat = bank.questions[0]
    assert "before VAT" in answer_feedback(vat, "4150") and "Not quite" in answer_feedback(vat, "4150")
    assert "VAT alone" in answer_feedback(vat, "830")
    assert "VAT alone" not in answer_feedback(vat, "831")  # a mistake without tolerance matches exactly
    other = answer_feedback(vat, "5000")
    assert "You entered 5,000" in other and "VAT is 20% of the fee" in other
    right = answer_feedback(vat, "4,980")
    assert "Correct" in right and "£4,150 + £830" in right and "before VAT" not in right
    assert "is not a number" in answer_feedback(vat, "lots")
    assert "Not answered" in answer_feedback(vat, "")


def test_a_quiz_is_scored_on_the_questions_asked(bank):
    answers = {"vat-total": "4980", "kpi-rate": "75", "disclose": 0}
    assert score_quiz(bank, answers) == 3
    assert score_quiz(bank, answers, [bank.questions[0], bank.questions[2]]) == 2


@pytest.mark.parametrize("old, new, message", [
    ("draw: 2", "draw: 4", "quizzes/98-bank.yaml: field 'draw' must be from 1 to the 3 questions in the bank, got 4"),
    ("draw: 2", "draw: 0", "field 'draw' must be from 1 to the 3 questions"),
    ("answer: 4980", "answer: lots", "question 'vat-total': field 'answer' must be a number, got 'lots'"),
    ("    answer: 4980\n", "", "question 'vat-total': field 'answer' is missing"),
    ("tolerance: 1\n    unit", "tolerance: -1\n    unit", "question 'vat-total': field 'tolerance' must not be negative"),
    ("      - value: 4150", "      - value: 4979", "question 'vat-total', mistake 1: value 4979 overlaps the right answer"),
    ("feedback: That is the VAT alone", "feedbak: That is the VAT alone", "mistake 2: unknown field 'feedbak'"),
    ("    unit: \"%\"", "    options: []", "question 'kpi-rate': unknown field 'options'"),
    ("    answer: 75\n", "    answer: 75\n    correct: true\n", "question 'kpi-rate': unknown field 'correct'"),
])
def test_mistakes_in_numeric_questions_and_banks_are_named(content_dir, old, new, message):
    assert old in BANK
    write(content_dir, BANK.replace(old, new, 1))
    with pytest.raises(ContentError) as caught:
        load_quiz("98-bank")
    assert message in str(caught.value)
