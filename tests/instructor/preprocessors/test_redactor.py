"""``Redactor``: which hidden test inputs are hidden in learner-made text, and where a number counts as one."""
import pytest

from clientcare.instructor.preprocessors._trusted import WITHHELD, RedactionTime, Redactor

HIDDEN = "[hidden test input]"
SECRETS = {"4980", "4,980.00", "Zanzibar-7781"}


@pytest.mark.parametrize(("text", "shown"), [
    ("total 4980", f"total {HIDDEN}"),
    ("it was 4980.", f"it was {HIDDEN}."),              # a full stop after it is not a decimal part
    ("-4980 and (4980)", f"-{HIDDEN} and ({HIDDEN})"),
    ("£4,980.00 due", f"£{HIDDEN} due"),
    ("ZANZIBAR-7781 and zanzibar-7781", f"{HIDDEN} and {HIDDEN}"),   # strings whatever their case
    ("14980", "14980"),                                 # part of a larger number
    ("49801", "49801"),
    ("1.4980", "1.4980"),                               # the decimals of another number
    ("4980.5 and 4980,5", "4980.5 and 4980,5"),         # a number with decimals of its own
    ("\u06634980", "\u06634980"),                       # after a digit of another script
])
def test_a_hidden_number_is_redacted_only_where_it_stands_as_a_whole_number(text, shown):
    assert Redactor(SECRETS, visible="")(text) == shown


def test_what_the_learner_can_read_in_the_notebook_is_left_alone():
    redact = Redactor(SECRETS, visible="assert price(4980) == 5976  # see the Zanzibar-7781 brief")
    assert redact("got 4980 for zanzibar-7781, 4,980.00 in all") == f"got 4980 for zanzibar-7781, {HIDDEN} in all"


def test_case_is_ignored_letter_by_letter_even_beside_letters_whose_lower_case_is_longer():
    redact = Redactor({"Zanzibar-7781"}, visible="")
    assert redact("İstanbul, ZANZIBAR-7781 and İZANZIBAR-7781İ") == f"İstanbul, {HIDDEN} and İ{HIDDEN}İ"


def test_inputs_a_learner_function_chose_cannot_make_redacting_slow():
    """What a learner function does to its arguments can become inputs to look for (a hidden test passes the
    changed value on); 40 long near-misses in 100 KB of output took 40 s as case-insensitive regular
    expressions (found by an adversarial review); a string search takes milliseconds."""
    import signal

    def too_slow(*_):
        raise TimeoutError("redacting took more than 20 s")

    secrets = {"a" * 4000 + f"b{i}" for i in range(40)}
    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(20)
    try:
        assert Redactor(secrets, visible="")("a" * 100_000 + "A" * 4000 + "B7") == "a" * 100_000 + HIDDEN
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_once_a_notebooks_time_for_redacting_is_spent_its_remaining_text_is_withheld_whole():
    spent = RedactionTime(seconds=-1)
    assert Redactor(SECRETS, visible="", time_left=spent)("total 4980") == WITHHELD


def test_the_time_for_redacting_counts_redacting_only_not_the_grading_before_it():
    """A notebook that took longer to grade than redacting may take still has its outputs redacted, not withheld."""
    import time

    time_left = RedactionTime(seconds=0.2)
    time.sleep(0.3)  # grading
    assert Redactor(SECRETS, visible="", time_left=time_left)("total 4980") == f"total {HIDDEN}"
