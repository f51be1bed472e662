"""The end-of-course test: drawn from every lesson quiz, retried with a new draw, best score kept."""
import textwrap

import pytest

from clientcare import show_final_test
from clientcare.content import ContentError
from clientcare.quiz import FINAL_TEST_ID, final_test_status, load_final_test
from clientcare.store import LearnerFile


def quiz_file(content_dir, quiz_id, lesson, count, draw=None):
    questions = "".join(textwrap.dedent(f"""\
      - id: q{n}
        kind: numeric
        prompt: Lesson {lesson}, question {n}. Type {lesson * 100 + n}.
        answer: {lesson * 100 + n}
    """) for n in range(count))
    head = f"id: {quiz_id}\ntitle: Quiz {lesson}\nlesson: {lesson}\n" + (f"draw: {draw}\n" if draw else "")
    (content_dir / "quizzes" / f"{quiz_id}.yaml").write_text(head + "questions:\n" + questions, encoding="utf-8")


@pytest.fixture
def course(content_dir, learner_home):
    quiz_file(content_dir, "02-second", 2, 5, draw=3)
    quiz_file(content_dir, "01-first", 1, 4)
    quiz_file(content_dir, "03-third", 3, 1)
    return content_dir


def lessons_of(view):
    return [q.question.id.split("/")[0] for q in view.questions]


def answer_all(view, right=True):
    for q in view.questions:
        q.number.value = str(int(q.question.answer) + (0 if right else 1))


def test_two_questions_from_every_lesson_quiz_in_lesson_order(course):
    final = load_final_test()
    assert final.id == FINAL_TEST_ID and final.total == 5  # 2 + 2 + 1 (lesson 3 has only one question)
    view = show_final_test()
    assert lessons_of(view) == ["01-first", "01-first", "02-second", "02-second", "03-third"]
    assert len({q.question.id for q in view.questions}) == 5


def test_each_attempt_draws_again_and_the_best_score_is_kept(course):
    view = show_final_test()
    assert show_final_test().session.questions == view.session.questions  # restored: the same draw
    draws = set()
    for attempt in range(6):
        draws.add(tuple(q.question.id for q in view.questions))
        answer_all(view, right=attempt == 1)
        view.submit_button.click()
        view.retry_button.click()
    assert len(draws) > 1
    status = final_test_status()
    assert (status["best"], status["total"], status["attempts"], status["done"]) == (5, 5, 6, True)
    assert status["status"] == "Best score 5 of 5 (6 attempts)"
    assert LearnerFile("quiz").load()[FINAL_TEST_ID]["last"] == 0


def test_status_before_any_attempt(course):
    assert final_test_status() == {"id": "final-test", "title": "End-of-course test", "done": False, "best": 0,
                                   "total": 0, "attempts": 0, "status": "Not attempted"}


def test_no_quizzes_no_test(content_dir):
    with pytest.raises(ContentError, match="draws from the lesson quizzes, and there are none"):
        load_final_test()
