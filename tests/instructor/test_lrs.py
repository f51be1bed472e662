"""Learning records reach a real LRS: Ralph (ralph-malph), started on loopback by the test and stopped after.

A scenario played in its widget sends its statement in the background; with the LRS down
the widget works as before and the statements wait in the learner's file; when the LRS
is back they arrive.
"""
import json
import os
import shutil
import time
from pathlib import Path

import pytest

from clientcare import content, xapi
from clientcare.instructor.ralph import RalphLRS
from clientcare.lrs import fetch_statements, post_statements
from clientcare.quiz import QuizSession, load_quiz
from clientcare.scenario import ScenarioSession, ScenarioView, load_scenario
from clientcare.store import LearnerFile

DATA = Path(__file__).parents[1] / "activities" / "data"
COURSE_QUIZ = content.CONTENT_DIR / "quizzes" / "01-responsibility-to-clients.yaml"


@pytest.fixture(scope="module")
def ralph(tmp_path_factory):
    with RalphLRS(tmp_path_factory.mktemp("ralph")) as lrs:
        yield lrs


@pytest.fixture
def course_lrs(tmp_path, monkeypatch, learner_home):
    """Point the learner's activities at an LRS setting file the test fills in."""
    setting = tmp_path / "clientcare_lrs.json"
    monkeypatch.setenv("CLIENTCARE_LRS_CONFIG", str(setting))
    monkeypatch.setenv("CLIENTCARE_LEARNER_ID", f"learner-{tmp_path.name[-8:]}")

    def use(lrs: RalphLRS, **extra) -> Path:
        setting.write_text(json.dumps({**lrs.config(), "timeout": 2, "retry_seconds": 0.5, **extra}))
        return setting

    return use


@pytest.fixture
def tiny(content_dir):
    shutil.copy(DATA / "tiny-scenario.yaml", content_dir / "scenarios" / "tiny-scenario.yaml")
    shutil.copy(COURSE_QUIZ, content_dir / "quizzes" / COURSE_QUIZ.name)
    return load_scenario("tiny-scenario")


def wait_until(check, seconds=15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def held_by(lrs, ids):
    stored = {s["id"]: s for s in fetch_statements(lrs.settings)}
    return [stored[i] for i in ids if i in stored]


def test_statements_are_received_by_ralph(ralph, course_lrs, tiny):
    course_lrs(ralph)
    view = ScenarioView(ScenarioSession(tiny, LearnerFile("scenarios")))
    view.choose(view.session.display_order().index(0))
    view.choose(view.session.display_order().index(0))
    quiz = QuizSession(load_quiz("01-responsibility-to-clients"), LearnerFile("quiz"))
    quiz.submit()
    kept = xapi.kept()
    assert len(kept) == 1 + len(quiz.questions) + 1
    assert wait_until(lambda: not xapi.pending()), LearnerFile("statements").load().get("last_error")
    stored = held_by(ralph, [s["id"] for s in kept])
    assert len(stored) == len(kept)  # Ralph validates each statement's xAPI structure on the way in
    scenario = stored[0]
    assert scenario["actor"]["account"]["name"] == xapi.learner_id()
    assert scenario["result"]["score"]["scaled"] == 1.0 and scenario["result"]["success"] is True


def test_ralph_refuses_a_broken_statement_and_the_others_still_arrive(ralph, course_lrs, tiny):
    course_lrs(ralph)
    session = ScenarioSession(tiny)  # no store: nothing kept; the statement is built by hand below
    session.choose(0), session.choose(0)
    good = xapi.scenario_statement(session, ralph.settings)
    bad = {**xapi.scenario_statement(session, ralph.settings), "actor": {"name": "no identifier"}}
    held, refused = post_statements(ralph.settings, [bad, good])
    assert held == [good["id"]] and list(refused) == [bad["id"]]
    assert post_statements(ralph.settings, [good]) == ([good["id"]], {})  # sent twice: still held once


def test_the_widget_works_with_the_lrs_down_and_the_records_arrive_when_it_returns(ralph, course_lrs, tiny):
    course_lrs(ralph)
    ralph.pause()  # configured, but down: it takes connections and never answers (each send times out)
    try:
        view = ScenarioView(ScenarioSession(tiny, LearnerFile("scenarios")))
        started = time.monotonic()
        view.choose(view.session.display_order().index(0))
        view.choose(view.session.display_order().index(1))
        assert time.monotonic() - started < 1.0  # sending is in the background: the widget did not wait
        assert view.session.finished and "you scored 3 of 4" in view.choices.children[0].value
        [statement] = xapi.kept()
        assert wait_until(lambda: LearnerFile("statements").load().get("last_error")), "no attempt to send was made"
        assert [s["id"] for s in xapi.pending()] == [statement["id"]]
    finally:
        ralph.resume()  # the LRS returns
    assert wait_until(lambda: not xapi.pending()), "the queued statement was not retried"
    assert [s["id"] for s in held_by(ralph, [statement["id"]])] == [statement["id"]]
    assert LearnerFile("statements").load()["last_error"] is None
    copies = [s for s in fetch_statements(ralph.settings) if s["id"] == statement["id"]]
    assert len(copies) == 1  # a send that timed out and was retried is held once


@pytest.mark.slow  # runs the report notebook (a kernel, matplotlib): about 20 s
def test_the_cohort_report_shows_practice_read_from_the_lrs(ralph, course_lrs, tmp_path, monkeypatch):
    """A synthetic cohort's statements in Ralph, read back by the report notebook's practice section."""
    from nbgrader.api import Gradebook

    from clientcare.instructor.new_gradebook import create_gradebook
    from clientcare.instructor.practice import load_practice
    from clientcare.instructor.report import render_html
    from test_practice import QUIZ, check_practice, synthetic_cohort

    folder = tmp_path / "content"  # the cohort's content, in a scratch content folder
    for kind in ("scenarios", "quizzes", "reflections", "flashcards"):
        (folder / kind).mkdir(parents=True)
    shutil.copy(DATA / "tiny-scenario.yaml", folder / "scenarios" / "tiny-scenario.yaml")
    (folder / "quizzes" / "99-practice.yaml").write_text(QUIZ, encoding="utf-8")
    monkeypatch.setattr(content, "CONTENT_DIR", folder)
    ralph_only = RalphLRS(ralph.folder, port=ralph.port, username=ralph.username, password=ralph.password,
                          course_iri="https://courses.example.org/practice-report")
    statements = synthetic_cohort(monkeypatch, ralph_only.settings)
    assert post_statements(ralph_only.settings, statements)[1] == {}
    check_practice(load_practice(ralph_only.settings))  # read back from the LRS
    course_lrs(ralph_only)
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    create_gradebook(url)
    with Gradebook(url) as gradebook:
        gradebook.add_assignment("fee-proposals")
        gradebook.add_notebook("fee-proposals", "fee-proposals")
        gradebook.add_grade_cell("vat", "fee-proposals", "fee-proposals", max_score=5, cell_type="code")
        gradebook.add_student("l1")
        gradebook.add_submission("fee-proposals", "l1")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the report's kernel shows its plots inline, as when run by hand
    page = render_html(url, tmp_path / "reports" / "cohort-report.html").read_text(encoding="utf-8")
    assert "Scenario decisions most often missed" in page and "Active learners per lesson" in page
    assert "learning records from 6 learners" in page
    assert page.count("<img") >= 5  # the two gradebook plots and the three practice plots
    assert "My private answer." not in page
