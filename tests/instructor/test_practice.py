"""The cohort report's practice section, from a synthetic cohort's xAPI statements (made by the
course's own statement builders); tests/instructor/test_lrs.py reads the same from a real LRS."""
import shutil
import textwrap
from pathlib import Path

import pytest

from clientcare import xapi
from clientcare.instructor import practice
from clientcare.lrs import LrsSettings
from clientcare.quiz import QuizSession, load_quiz
from clientcare.scenario import ScenarioSession, load_scenario

DATA = Path(__file__).parents[1] / "activities" / "data"
SETTINGS = LrsSettings(course_iri="https://courses.example.org/clientcare")
QUIZ = """\
id: 99-practice
title: Practice quiz
lesson: 2
questions:
  - id: disclose
    kind: single
    prompt: A venue offers you a commission. What do you do?
    options:
      - {text: Disclose it to the client in writing., correct: true, feedback: Right.}
      - {text: Keep quiet about it., correct: false, feedback: It can bias your advice.}
  - id: decline
    kind: single
    prompt: When should you decline an instruction?
    options:
      - {text: When you have a conflict of interest., correct: true, feedback: Yes.}
      - {text: When the client is new., correct: false, feedback: No.}
"""
# learner -> (scenario choices as written, quiz answers as option indexes)
COHORT = {
    "l1": ([1], {"disclose": 0, "decline": 1}),      # poor reply at 'call'; misses 'decline'
    "l2": ([1], {"disclose": 0, "decline": 1}),
    "l3": ([0, 1], {"disclose": 0, "decline": 1}),   # best at 'call', then the surprise fee at 'follow-up'
    "l4": ([0, 0], {"disclose": 0, "decline": 0}),
    "l5": ([0, 0], {"disclose": 0, "decline": 0}),
    "l6": ([1], {"disclose": 1, "decline": 1}),
}


def synthetic_cohort(monkeypatch, settings=SETTINGS):
    """Every learner's statements, as their own lessons would have made them."""
    scenario, quiz = load_scenario("tiny-scenario"), load_quiz("99-practice")
    statements = []
    for learner, (choices, answers) in COHORT.items():
        monkeypatch.setenv("CLIENTCARE_LEARNER_ID", learner)
        session = ScenarioSession(scenario)
        for index in choices:
            session.choose(index)
        statements.append(xapi.scenario_statement(session, settings))
        attempt = QuizSession(quiz)
        for question, index in answers.items():
            attempt.select(question, index)
        attempt.submit()
        statements += xapi.quiz_statements(attempt, settings)
    monkeypatch.setenv("CLIENTCARE_LEARNER_ID", "l1")
    statements.append(xapi.review_statement("interview", "why-us", "Why us?", text="My private answer.",
                                            settings=settings))
    return statements


@pytest.fixture
def cohort_content(content_dir):
    shutil.copy(DATA / "tiny-scenario.yaml", content_dir / "scenarios" / "tiny-scenario.yaml")
    (content_dir / "quizzes" / "99-practice.yaml").write_text(textwrap.dedent(QUIZ), encoding="utf-8")
    return content_dir


def check_practice(frame):
    """What the report's practice section must say about COHORT."""
    decisions = practice.decisions_missed(frame)
    top = decisions.iloc[0]
    assert (top["scenario"], top["decision"]) == ("tiny-scenario", "call")
    assert (top["times_taken"], top["learners"], top["percent_missed"]) == (6, 6, 50.0)  # l1, l2, l6
    assert top["most_chosen_instead"] == 2  # 'Say it is nearly done.', the second choice as written
    follow = decisions.set_index("decision").loc["follow-up"]
    assert (follow["times_taken"], follow["percent_missed"]) == (3, pytest.approx(33.3))
    missed = practice.questions_missed(frame).set_index("question")
    assert missed.index[0] == "decline" and missed.loc["decline", "percent_missed"] == 66.7
    assert missed.loc["disclose", "percent_missed"] == pytest.approx(16.7)
    active = practice.active_learners(frame).set_index("lesson")["active_learners"].to_dict()
    assert active == {1: 6, 2: 6}


def test_the_practice_section_from_a_synthetic_cohort(cohort_content, monkeypatch):
    frame = practice.practice_frame(synthetic_cohort(monkeypatch), SETTINGS.course_iri)
    check_practice(frame)


def test_no_written_text_reaches_the_report(cohort_content, monkeypatch, learner_home):
    xapi.set_share_text(True)  # even a learner who opted in to sharing their answer
    frame = practice.practice_frame(synthetic_cohort(monkeypatch), SETTINGS.course_iri)
    interview = frame[frame["kind"] == "interview"]
    assert len(interview) == 1 and interview["response"].isna().all()
    assert "My private answer." not in frame.to_string()


def test_other_courses_statements_are_left_out(cohort_content, monkeypatch):
    other = LrsSettings(course_iri="https://courses.example.org/another-course")
    statements = synthetic_cohort(monkeypatch) + synthetic_cohort(monkeypatch, other)
    check_practice(practice.practice_frame(statements, SETTINGS.course_iri))
