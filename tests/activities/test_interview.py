"""Mock interview practice: question banks validated, answers saved like reflections, the checklist
self-rating scheduled by FSRS, and the widget."""
import json
import textwrap
from datetime import datetime, timedelta, timezone

import pytest

from clientcare import srs
from clientcare.content import ContentError
from clientcare.interview import (
    Interview, InterviewSession, InterviewView, Question, all_interviews, interview_questions_due, load_interview,
    rating_for,
)
from clientcare.store import CorruptFileWarning, LearnerFile

POINTS = ("Point one", "Point two", "Point three", "Point four")
BANK = Interview("bank", "Practice bank", 6, tuple(
    Question(f"q{n}", f"Question {n}?", (("knowing", "K."), ("applying", "A."), ("advising", "V.")), POINTS)
    for n in (1, 2)))
START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def session(store=None, moment=START):
    return InterviewSession(BANK, store, lambda: moment)


def test_every_lesson_has_a_valid_question_bank_at_three_levels():
    banks = all_interviews(problems := [])
    assert problems == [] and sorted(bank.lesson for bank in banks) == list(range(1, 10))
    for bank in banks:
        assert len(bank.questions) >= 2, bank.id
        for question in bank.questions:
            assert [level for level, _ in question.answers] == ["knowing", "applying", "advising"]
            assert 3 <= len(question.checklist) <= 8
    questions = " ".join(q.question.lower() for bank in banks for q in bank.questions)
    assert "complaints procedure" in questions and "cut your fee by 20%" in questions


@pytest.mark.parametrize("points, expected", [(0, "Again"), (1, "Again"), (2, "Hard"), (3, "Good"), (4, "Easy")])
def test_the_checklist_share_is_the_self_rating(points, expected):
    assert rating_for(points, 4) == expected


def test_more_points_made_bring_the_question_back_later():
    weak, strong = session(), session()
    for practice, ticked in ((weak, []), (strong, list(POINTS))):
        practice.save_draft("My answer.")
        practice.reveal()
        practice.finish(ticked)
    assert weak.last.rating == "Again" and strong.last.rating == "Easy"
    assert weak.last.due < START + timedelta(hours=1) < START + timedelta(days=2) < strong.last.due


def test_the_model_answers_come_after_the_learners_own_answer():
    practice = session()
    with pytest.raises(ValueError, match="model answers"):
        practice.finish(list(POINTS))
    practice.save_draft("I would ask why first.")
    practice.reveal()
    event = practice.finish(["Point one", "not a point"])
    assert event.activity == "interview"
    assert event.details == {"points_made": 1, "points": 4, "answer": "I would ask why first."}
    assert practice.current.question.id == "q2" and practice.text == "" and not practice.revealed


def test_answers_are_saved_as_typed_and_survive_a_kernel_restart(learner_home):
    practice = session(LearnerFile("interviews"))
    practice.save_draft("Half an answer")
    again = session(LearnerFile("interviews"))  # a new kernel
    assert again.current.question.id == "q1" and again.text == "Half an answer"
    again.reveal()
    again.finish(["Point one", "Point two", "Point three"])
    record = LearnerFile("interviews").load()["bank"]["q1"]
    assert [a["text"] for a in record["attempts"]] == ["Half an answer"] and "draft" not in record
    assert record["attempts"][0]["rating"] == "Good" and record["attempts"][0]["points_made"] == list(POINTS[:3])
    later = session(LearnerFile("interviews"), START + timedelta(days=60))
    assert later.current.question.id == "q1" and later.attempts()[0]["text"] == "Half an answer"  # due again


def test_a_corrupt_file_is_set_aside_and_nothing_is_lost(learner_home):
    learner_home.mkdir(parents=True)
    (learner_home / "interviews.json").write_text('{"bank": {"q1": ')
    with pytest.warns(CorruptFileWarning):
        practice = session(LearnerFile("interviews"))
    assert "could not be read" in practice.warning
    assert [p.read_text() for p in learner_home.glob("interviews.json.corrupt-*")] == ['{"bank": {"q1": ']
    view = InterviewView(practice)
    assert "could not be read" in view.children[1].value
    view.answer.value = "A fresh answer"
    assert LearnerFile("interviews").load()["bank"]["q1"]["draft"]["text"] == "A fresh answer"


def test_interview_reviews_reach_the_review_listeners(learner_home):
    seen = []
    remove = srs.add_review_listener(seen.append)
    try:
        practice = session(LearnerFile("interviews"))
        practice.reveal()
        practice.finish(["Point two"])
    finally:
        remove()
    assert [(e.activity, e.collection, e.item, e.rating) for e in seen] == [("interview", "bank", "q1", "Again")]


def test_questions_due_today_count_across_the_course(learner_home):
    total = sum(len(bank.questions) for bank in all_interviews())
    assert interview_questions_due() == (0, total)
    bank = all_interviews()[0]
    LearnerFile("interviews").save({bank.id: {bank.questions[0].id: {"schedule": srs.review(None, "Again")}}})
    assert interview_questions_due() == (1, total - 1)


# ---------------------------------------------------------------- widget


def test_widget_answer_then_models_and_checklist_then_schedule(learner_home):
    view = InterviewView(session(LearnerFile("interviews")))
    assert "Question 1?" in view.question.value and view.after.layout.display == "none"
    assert "0 due again</b>, 2 not practised yet" in view.counts.value
    view.answer.value = "We would reduce the scope, not the quality."
    view.reveal_button.click()
    assert view.reveal_button.disabled and view.after.layout.display == ""
    for level in ("Knowing", "Applying", "Advising"):
        assert level in view.models.value
    boxes = view.checklist.children[1:]
    assert [box.description for box in boxes] == list(POINTS)
    # the tick boxes are a group named by the heading above them (accessibility.js gives the role)
    assert {"cc-group", f"cc-name-{view.points_id}"} <= set(view.checklist._dom_classes)
    assert f'id="{view.points_id}">Tick the points your answer made</h4>' in view.checklist.children[0].value
    for box in boxes[:3]:
        box.value = True
    view.finish_button.click()
    assert "You made 3 of 4 points: rated Good" in view.note.value
    assert "Question 2?" in view.question.value and view.answer.value == ""
    saved = json.loads((learner_home / "interviews.json").read_text())
    assert saved["bank"]["q1"]["attempts"][0]["text"] == "We would reduce the scope, not the quality."


def test_widget_controls_are_labelled():
    view = InterviewView(session())
    for control in (view.answer, view.reveal_button, view.finish_button):
        assert control.description and control.tooltip


# ---------------------------------------------------------------- the bank file


BANK_YAML = """\
id: tiny
title: Tiny bank
lesson: 2
questions:
  - id: one
    question: What do you do?
    answers:
      knowing: The rule.
      applying: An example.
      advising: Advice.
    checklist:
      - First point
      - Second point
      - Third point
"""


@pytest.mark.parametrize("old, new, message", [
    ("      advising: Advice.\n", "", "interviews/tiny.yaml: question 'one': answers: field 'advising' is missing"),
    ("      knowing:", "      knowng:", "interviews/tiny.yaml: question 'one': answers: unknown field 'knowng'"),
    ("      - Third point\n", "", "interviews/tiny.yaml: question 'one': field 'checklist' has 2 points"),
    ("      - Third point", "      - First point", "question 'one': field 'checklist': checklist point 'First point' is used twice"),
    ("    question: What do you do?\n", "", "interviews/tiny.yaml: question 'one': field 'question' is missing"),
    ("  - id: one", "  - id: One", "interviews/tiny.yaml: question 1: field 'id' must be lower-case words"),
])
def test_bank_mistakes_name_the_file_question_and_field(content_dir, old, new, message):
    (content_dir / "interviews" / "tiny.yaml").write_text(textwrap.dedent(BANK_YAML).replace(old, new, 1))
    with pytest.raises(ContentError) as caught:
        load_interview("tiny")
    assert message in str(caught.value)


def test_valid_small_bank_loads(content_dir):
    (content_dir / "interviews" / "tiny.yaml").write_text(BANK_YAML)
    bank = load_interview("tiny")
    assert bank.lesson == 2 and bank.questions[0].checklist == ("First point", "Second point", "Third point")
