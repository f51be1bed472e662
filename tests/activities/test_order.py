"""Order carries no information: choices and options shuffled per learner and attempt, restored attempts kept."""
import shutil
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from clientcare.order import ATTEMPTS_FILE, Attempt, close_attempt, current_attempt, learner_key
from clientcare.quiz import QuizSession, load_quiz, show_quiz
from clientcare.scenario import ScenarioSession, load_scenario, show_scenario
from clientcare.store import LearnerFile

TINY = Path(__file__).parent / "data" / "tiny-scenario.yaml"

QUIZ = textwrap.dedent("""\
    id: 97-order
    title: Order quiz
    lesson: 1
    draw: 3
    questions:
""") + "".join(textwrap.dedent(f"""\
      - id: q{n}
        kind: {"single" if n % 2 else "multiple"}
        prompt: Question {n}?
        options:
          - text: Right answer {n}.
            correct: true
            feedback: Yes.
          - text: Near miss {n}.
            correct: {"false" if n % 2 else "true"}
            feedback: Close.
          - text: Another near miss {n}.
            correct: false
            feedback: No.
          - text: A fourth option {n}.
            correct: false
            feedback: No.
""") for n in range(1, 7))


@pytest.fixture
def tiny(content_dir):
    shutil.copy(TINY, content_dir / "scenarios" / "tiny-scenario.yaml")
    return load_scenario("tiny-scenario")


@pytest.fixture
def quiz(content_dir):
    (content_dir / "quizzes" / "97-order.yaml").write_text(QUIZ, encoding="utf-8")
    return load_quiz("97-order")


def test_an_order_depends_on_learner_activity_attempt_and_item_and_nothing_else():
    base = Attempt("a" * 32, "quiz/x", 1)
    assert base.order(4, "q1") == Attempt("a" * 32, "quiz/x", 1).order(4, "q1")  # same in every process
    others = [Attempt("b" * 32, "quiz/x", 1), Attempt("a" * 32, "quiz/y", 1), base.next()]
    orders = {tuple(base.order(6, "q1")), tuple(base.order(6, "q2"))} | {tuple(o.order(6, "q1")) for o in others}
    assert len(orders) == 5  # 720 orders of six: five equal ones would be a broken seed
    assert sorted(base.order(6, "q1")) == list(range(6))


def test_every_written_position_is_shown_first_about_equally_often():
    firsts = Counter(Attempt(f"learner-{n:04d}-xxxxxxxx", "scenario/s").order(3, "node", "call")[0]
                     for n in range(3000))
    assert all(900 < firsts[i] < 1100 for i in range(3)), firsts


def test_a_learner_key_is_made_once_and_kept(learner_home):
    key = learner_key()
    assert len(key) == 32 and learner_key() == key
    assert LearnerFile(ATTEMPTS_FILE).load()["learner"] == key


def test_closing_an_attempt_moves_on_once(learner_home):
    first = current_attempt("quiz/x")
    assert first.number == 1 and current_attempt("quiz/x") == first  # showing it again: the same attempt
    second = close_attempt(first)
    assert second.number == 2 and current_attempt("quiz/x") == second
    assert close_attempt(first) == second  # a second notebook closing the same attempt skips nothing
    assert current_attempt("quiz/y").number == 1


def labels(view):
    return [button.description for button in view.choices.children]


def test_a_scenario_shown_again_before_it_is_finished_keeps_its_order_and_a_retry_reshuffles(tiny, learner_home):
    orders = set()
    for _ in range(12):
        view = show_scenario("tiny-scenario")
        again = show_scenario("tiny-scenario")  # e.g. after a kernel restart
        assert labels(view) == labels(again)
        orders.add(tuple(labels(view)))
        view.choose(0)
        view.restart_button.click()  # abandoning the attempt: the next one is shuffled afresh
        assert current_attempt("scenario/tiny-scenario").number == view.session.attempt.number
    assert len(orders) == 2  # both orders of the two choices were shown over twelve attempts


def test_buttons_are_numbered_by_place_on_screen_and_the_choice_under_a_button_is_taken(tiny, learner_home):
    for n in range(8):
        session = ScenarioSession(tiny, attempt=Attempt(f"learner-{n}-0123456789abcdef", "scenario/tiny"))
        shown = session.displayed()
        assert {c.text for c in shown} == {c.text for c in tiny.nodes["call"].choices}
        assert session.choose_displayed(1) is shown[1]


def test_the_view_never_shows_the_written_order(tiny, learner_home):
    written = [c.text for c in tiny.nodes["call"].choices]
    seen_first = Counter()
    for n in range(20):
        LearnerFile(ATTEMPTS_FILE).save({"learner": f"learner-{n:02d}-0123456789abcdef"})
        view = show_scenario("tiny-scenario")
        buttons = view.choices.children
        assert [b.description for b in buttons] == [f"{i + 1}. {c.text}" for i, c in enumerate(view.session.displayed())]
        assert all(b.tooltip == c.text for b, c in zip(buttons, view.session.displayed()))
        seen_first[written.index(view.session.displayed()[0].text)] += 1
        buttons[0].click()
        assert view.session.steps[0].choice.text == buttons[0].tooltip
    assert seen_first[0] and seen_first[1]


def test_a_finished_scenario_starts_a_new_attempt_next_time(tiny, learner_home):
    view = show_scenario("tiny-scenario")
    number = view.session.attempt.number
    while not view.session.finished:
        view.choose(0)
    assert current_attempt("scenario/tiny-scenario").number == number + 1
    view.restart_button.click()  # restarting after the end does not skip an attempt
    assert view.session.attempt.number == number + 1 == current_attempt("scenario/tiny-scenario").number


def shown(view):
    """Each question as the learner sees it: its id and its option labels from top to bottom."""
    return [(q.question.id, [c.description for c in q.checks] or [label for label, _ in q.radio.options])
            for q in view.questions]


def test_a_quiz_shown_again_keeps_its_draw_and_order_and_a_retry_draws_again(quiz, learner_home):
    view = show_quiz("97-order")
    assert len(view.questions) == 3 and view.session.quiz.total == 3
    assert shown(show_quiz("97-order")) == shown(view)  # restored before submitting: the same attempt
    draws, orders = set(), set()
    for _ in range(10):
        draws.add(tuple(q.question.id for q in view.questions))
        orders.add(tuple(shown(view)[0][1]))
        before = shown(view)
        view.submit_button.click()
        assert shown(view) == before  # feedback is given on the questions and order just answered
        assert [q.question.id for q in view.questions] == [q.id for q in view.session.questions]
        view.retry_button.click()
    assert len(draws) > 3 and len(orders) > 3


def test_quiz_feedback_discusses_options_in_the_order_shown(quiz, learner_home):
    view = show_quiz("97-order")
    question = view.questions[0]
    for check in question.checks:
        check.value = True
    if question.radio is not None:
        question.radio.value = question.order[0]
    view.submit()
    feedback = question.feedback.value
    texts = [question.question.options[n].text for n in question.order]
    mentioned = [t for t in texts if t in feedback]
    assert mentioned == sorted(mentioned, key=feedback.index)


def test_answers_are_scored_by_option_not_by_place(quiz, learner_home):
    for n in range(10):
        session = QuizSession(quiz, attempt=Attempt(f"learner-{n}-0123456789abcdef", "quiz/97-order"))
        for question in session.questions:
            right = {session.option_order(question).index(i) for i in question.correct}
            session.select_displayed(question.id, right)
        assert session.submit() == 3


def test_what_the_browser_receives_is_in_the_order_shown(quiz, learner_home):
    """The widget state sent to the page (labels, their order, the selected index) follows the screen."""
    view = show_quiz("97-order")
    for question_view in view.questions:
        shown_texts = [o.text for o in view.session.displayed_options(question_view.question)]
        if question_view.radio is not None:
            state = question_view.radio.get_state()
            assert list(state["_options_labels"]) == shown_texts and state["index"] is None
            question_view.radio.value = question_view.order[2]  # the learner picks the third option shown
            assert question_view.radio.get_state()["index"] == 2
        else:
            assert [c.get_state()["description"] for c in question_view.checks] == shown_texts
