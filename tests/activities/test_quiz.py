"""Quizzes: validation of quiz files, scoring, the widget, and saved results."""
import textwrap

import pytest

from clientcare import content
from clientcare.content import ContentError
from clientcare.quiz import (
    QuizSession, QuizView, answer_feedback, load_quiz, record_attempt, saved_result, score_question, score_quiz, show_quiz,
)
from clientcare.store import LearnerFile

QUIZ = """\
id: 99-test
title: Test quiz
lesson: 9
questions:
  - id: disclose
    kind: single
    prompt: A venue offers you a commission. What do you do?
    options:
      - text: Disclose it to the client in writing.
        correct: true
        feedback: Right, the client must know.
      - text: Keep quiet about it.
        correct: false
        feedback: An undisclosed incentive can bias your advice.
    explanation: Be transparent about commissions.
  - id: decline
    kind: multiple
    prompt: When should you decline an instruction?
    options:
      - text: Conflict of interest.
        correct: true
        feedback: Yes.
      - text: You cannot resource it.
        correct: true
        feedback: Yes.
      - text: The client is new.
        correct: false
        feedback: No, new clients are welcome.
"""


def write_quiz(folder, text=QUIZ, name="99-test"):
    (folder / "quizzes" / f"{name}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.fixture
def quiz(content_dir):
    write_quiz(content_dir)
    return load_quiz("99-test")


def test_loads_the_quiz(quiz):
    assert quiz.title == "Test quiz" and quiz.lesson == 9 and quiz.total == 2
    assert [q.kind for q in quiz.questions] == ["single", "multiple"]
    assert quiz.questions[1].correct == {0, 1}


# ---------------------------------------------------------------- scoring


def test_single_choice_scoring(quiz):
    question = quiz.questions[0]
    assert score_question(question, 0) == 1
    assert score_question(question, 1) == 0
    assert score_question(question, None) == 0


def test_multiple_choice_needs_exactly_the_correct_set(quiz):
    question = quiz.questions[1]
    assert score_question(question, {0, 1}) == 1
    assert score_question(question, [1, 0]) == 1
    assert score_question(question, {0}) == 0  # partly right scores 0
    assert score_question(question, {0, 1, 2}) == 0  # everything ticked scores 0
    assert score_question(question, set()) == 0


def test_quiz_score_counts_questions_answered_exactly(quiz):
    assert score_quiz(quiz, {"disclose": 0, "decline": {0, 1}}) == 2
    assert score_quiz(quiz, {"disclose": 0, "decline": {0}}) == 1
    assert score_quiz(quiz, {}) == 0


def test_feedback_covers_chosen_and_missed_options_and_explanation(quiz):
    text = answer_feedback(quiz.questions[1], {0, 2})
    assert "Not quite" in text
    assert "You chose <i>Conflict of interest.</i>" in text
    assert "You chose <i>The client is new.</i> (not right)" in text and "new clients are welcome" in text
    assert "You missed <i>You cannot resource it.</i>" in text
    single = answer_feedback(quiz.questions[0], 0)
    assert "Correct" in single and "Be transparent about commissions." in single
    assert "Keep quiet" not in single  # options neither chosen nor correct are not mentioned


# ---------------------------------------------------------------- validation


def broken(content_dir, old, new):
    assert old in QUIZ
    write_quiz(content_dir, QUIZ.replace(old, new, 1))


@pytest.mark.parametrize("old, new, message", [
    ("        correct: false\n        feedback: An undisclosed",
     "        correct: true\n        feedback: An undisclosed",
     "quizzes/99-test.yaml: question 'disclose': kind 'single' needs exactly one correct option, found 2"),
    ("        correct: true\n        feedback: Right", "        correct: false\n        feedback: Right",
     "question 'disclose': kind 'single' needs exactly one correct option, found 0"),
    ("        correct: true\n        feedback: Yes.\n      - text: You cannot resource it.\n        correct: true",
     "        correct: false\n        feedback: Yes.\n      - text: You cannot resource it.\n        correct: false",
     "question 'decline': kind 'multiple' needs at least one correct option"),
    ("        feedback: Right, the client must know.\n", "",
     "quizzes/99-test.yaml: question 'disclose', option 1: field 'feedback' is missing"),
    ("        correct: true\n        feedback: Right", "        correct: yes please\n        feedback: Right",
     "question 'disclose', option 1: field 'correct' must be true or false"),
    ("        feedback: Yes.\n      - text: You cannot", "        feedbak: Yes.\n      - text: You cannot",
     "question 'decline', option 1: unknown field 'feedbak'"),
    ("  - id: decline", "  - id: disclose", "quizzes/99-test.yaml: question id 'disclose' is used twice"),
    ("kind: multiple", "kind: several", "question 'decline': field 'kind' must be one of single, multiple"),
    ("  - id: decline\n", "  - id: Decline Question\n",
     "question 2: field 'id' must be lower-case words joined by hyphens"),
    ("lesson: 9", "lesson: nine", "quizzes/99-test.yaml: field 'lesson' must be a whole number"),
    ("    explanation: Be", "    explaination: Be", "question 'disclose': unknown field 'explaination'"),
])
def test_mistakes_name_the_file_question_and_field(content_dir, old, new, message):
    broken(content_dir, old, new)
    with pytest.raises(ContentError) as caught:
        load_quiz("99-test")
    assert message in str(caught.value)


def test_option_count_is_checked(content_dir):
    six_more = "".join(f"      - text: Extra {n}.\n        correct: false\n        feedback: No.\n" for n in range(5))
    broken(content_dir, "    explanation:", six_more + "    explanation:")
    with pytest.raises(ContentError, match="question 'disclose': field 'options' must list 2-6 options, found 7"):
        load_quiz("99-test")
    write_quiz(content_dir, QUIZ.split("      - text: Keep quiet")[0] + "    explanation: x\n")
    with pytest.raises(ContentError, match="must list 2-6 options, found 1"):
        load_quiz("99-test")


def test_id_must_match_file_name_and_missing_quiz_is_reported(content_dir):
    write_quiz(content_dir, name="other")
    with pytest.raises(ContentError, match="must equal the file name 'other'"):
        load_quiz("other")
    with pytest.raises(ContentError, match="no such .*'missing'"):
        load_quiz("missing")


def test_every_course_quiz_is_valid():
    for quiz_id in content.file_ids("quizzes"):
        assert load_quiz(quiz_id).questions


# ---------------------------------------------------------------- widget and saving


def answer(view, single=None, ticks=()):
    view.questions[0].radio.value = single
    for n, check in enumerate(view.questions[1].checks):
        check.value = n in ticks


def test_widget_uses_radio_buttons_for_single_and_checkboxes_for_multiple(quiz, learner_home):
    view = QuizView(QuizSession(quiz, LearnerFile("quiz")))
    assert view.questions[0].radio is not None and view.questions[0].radio.value is None  # nothing pre-selected
    assert [c.description for c in view.questions[1].checks] == [o.text for o in quiz.questions[1].options]
    assert view.submit_button.description and view.submit_button.tooltip
    assert view.retry_button.tooltip and view.retry_button.disabled


def test_submit_shows_score_and_feedback_and_saves(quiz, learner_home):
    view = QuizView(QuizSession(quiz, LearnerFile("quiz")))
    answer(view, single=0, ticks={0})
    view.submit_button.click()
    assert "Your score: 1 of 2" in view.score.value
    assert "Correct" in view.questions[0].feedback.value
    assert "You missed <i>You cannot resource it.</i>" in view.questions[1].feedback.value
    assert view.questions[0].radio.disabled and not view.retry_button.disabled
    assert LearnerFile("quiz").load() == {"99-test": {"last": 1, "best": 1, "total": 2, "attempts": 1}}


def test_retry_clears_answers_and_best_score_is_kept(quiz, learner_home):
    view = QuizView(QuizSession(quiz, LearnerFile("quiz")))
    answer(view, single=0, ticks={0, 1})
    assert view.submit() == 2
    view.retry_button.click()
    assert view.questions[0].radio.value is None
    assert not any(check.value for check in view.questions[1].checks)
    assert view.score.value == "" and view.questions[1].feedback.value == ""
    assert not view.submit_button.disabled and not view.questions[0].radio.disabled
    answer(view, single=1)
    assert view.submit() == 0
    assert saved_result("99-test") == {"last": 0, "best": 2, "total": 2, "attempts": 2}


def test_results_survive_a_new_widget(quiz, learner_home):
    view = QuizView(QuizSession(quiz, LearnerFile("quiz")))
    answer(view, single=0, ticks={0, 1})
    view.submit()
    again = QuizView(QuizSession(quiz, LearnerFile("quiz")))  # e.g. after a kernel restart
    assert "Your best score so far: 2 of 2 (1 attempt)" in again.history.value
    assert show_quiz("99-test").children


def test_a_changed_quiz_starts_a_fresh_best(learner_home):
    record_attempt("q", 3, 3)
    assert record_attempt("q", 1, 4) == {"last": 1, "best": 1, "total": 4, "attempts": 2}
