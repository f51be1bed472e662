"""Learning records reach a real LRS: Ralph (ralph-malph), started on loopback by the test and stopped after.

A scenario played in its widget sends its statement in the background; with the LRS down
the widget works as before and the statements wait in the learner's file; when the LRS
is back they arrive.
"""
import json
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
