"""Learning records: the xAPI statements a finished scenario, quiz attempt or review makes, kept in the learner's file.

No LRS here (tests/instructor/test_lrs.py sends them to a real one).
"""
import json
import shutil
from pathlib import Path

import pytest

from clientcare import xapi
from clientcare.lrs import LrsConfigError, LrsSettings, load_settings, parse_settings, sharing_notice
from clientcare.quiz import QuizSession, load_quiz
from clientcare.scenario import ScenarioSession, load_scenario
from clientcare.store import LearnerFile

DATA = Path(__file__).parent / "data"
ADL = "http://adlnet.gov/expapi/verbs/"


@pytest.fixture
def no_lrs(tmp_path, monkeypatch):
    """No LRS setting, whatever the machine's Jupyter config path holds."""
    monkeypatch.setenv("CLIENTCARE_LRS_CONFIG", str(tmp_path / "no-lrs.json"))
    monkeypatch.setenv("CLIENTCARE_LEARNER_ID", "learner-ada")
    for name in ("ENDPOINT", "USERNAME", "PASSWORD"):
        monkeypatch.delenv(f"CLIENTCARE_LRS_{name}", raising=False)


@pytest.fixture
def tiny(content_dir):
    shutil.copy(DATA / "tiny-scenario.yaml", content_dir / "scenarios" / "tiny-scenario.yaml")
    return load_scenario("tiny-scenario")


def play(scenario, choices, store=None):
    session = ScenarioSession(scenario, store or LearnerFile("scenarios"))
    for index in choices:
        session.choose(index)
    return session


def test_a_finished_scenario_is_kept_as_one_valid_statement(tiny, learner_home, no_lrs):
    play(tiny, [0, 1])  # best first reply, then the surprise fee: a poor ending, 3 of 4
    [statement] = xapi.kept()
    assert xapi.validate_statement(statement) == []
    assert statement["actor"] == {"objectType": "Agent", "account": {
        "homePage": "https://courses.example.org/clientcare", "name": "learner-ada"}}
    assert "mbox" not in statement["actor"]
    assert statement["verb"]["id"] == ADL + "completed"
    assert statement["object"]["id"] == "https://courses.example.org/clientcare/scenarios/tiny-scenario"
    result = statement["result"]
    assert result["score"] == {"raw": 3, "min": 0, "max": 4, "scaled": 0.75}
    assert (result["success"], result["completion"]) == (False, True)  # success means a strong ending
    extensions = result["extensions"]
    assert extensions["https://courses.example.org/clientcare/xapi/extensions/ending"] == "poor"
    assert extensions["https://courses.example.org/clientcare/xapi/extensions/route"] == [
        {"node": "call", "choice": 1, "points": 2, "best": 2}, {"node": "follow-up", "choice": 2, "points": 1, "best": 2}]
    lessons = [a["id"] for a in statement["context"]["contextActivities"]["grouping"]]
    assert lessons == ["https://courses.example.org/clientcare", "https://courses.example.org/clientcare/lessons/1"]
    assert xapi.pending() == []  # no LRS: nothing waits to be sent


def test_an_unfinished_scenario_makes_no_statement(tiny, learner_home, no_lrs):
    play(tiny, [0])
    assert xapi.kept() == []


def test_a_quiz_attempt_is_one_statement_per_question_and_one_for_the_attempt(learner_home, no_lrs):
    quiz = load_quiz("01-responsibility-to-clients")
    session = QuizSession(quiz, LearnerFile("quiz"))
    first, *others = session.questions
    if first.kind == "numeric":
        session.select(first.id, str(first.answer))
    else:
        session.select(first.id, first.correct)
    session.submit()  # every other question unanswered: wrong
    statements = xapi.kept()
    assert len(statements) == len(session.questions) + 1
    assert all(xapi.validate_statement(s) == [] for s in statements)
    *answers, attempt = statements
    assert [s["verb"]["id"] for s in answers] == [ADL + "answered"] * len(answers)
    assert [s["result"]["success"] for s in answers] == [True] + [False] * len(others)
    assert answers[0]["object"]["id"].endswith(f"/quizzes/{quiz.id}/questions/{first.id}")
    assert answers[0]["object"]["definition"]["type"] == "http://adlnet.gov/expapi/activities/cmi.interaction"
    parent = answers[0]["context"]["contextActivities"]["parent"][0]["id"]
    assert parent == attempt["object"]["id"] == f"https://courses.example.org/clientcare/quizzes/{quiz.id}"
    assert {s["context"]["registration"] for s in statements} == {attempt["context"]["registration"]}
    assert attempt["verb"]["id"] == ADL + "completed"
    assert attempt["result"]["score"]["raw"] == 1 and attempt["result"]["score"]["max"] == quiz.total
    assert attempt["result"]["success"] is False and attempt["result"]["completion"] is True


def test_the_learner_is_an_email_only_when_the_course_says_so(tiny, learner_home, no_lrs, tmp_path, monkeypatch):
    setting = tmp_path / "lrs.json"
    setting.write_text(json.dumps({"email_domain": "learners.example.org"}))
    monkeypatch.setenv("CLIENTCARE_LRS_CONFIG", str(setting))
    play(tiny, [0, 0])
    [statement] = xapi.kept()
    assert statement["actor"] == {"objectType": "Agent", "mbox": "mailto:learner-ada@learners.example.org"}
    assert statement["result"]["success"] is True and xapi.validate_statement(statement) == []


def test_written_text_is_in_a_review_only_if_the_learner_opts_in(learner_home, no_lrs):
    before = xapi.review_statement("interview", "why-us", "Why should we hire you?", text="Because I listen.")
    assert "response" not in before["result"]
    xapi.set_share_text(True)
    after = xapi.review_statement("interview", "why-us", "Why should we hire you?", text="Because I listen.")
    assert after["result"]["response"] == "Because I listen."
    card = xapi.review_statement("flashcard", "duty-of-care", "Duty of care", deck="client-care", rating="good",
                                 success=True, lesson=3)
    assert card["object"]["id"].endswith("/flashcards/client-care/duty-of-care")
    assert all(xapi.validate_statement(s) == [] for s in (before, after, card))


@pytest.mark.parametrize("change, problem", [
    (lambda s: s.pop("actor"), "actor"),
    (lambda s: s["actor"].update(mbox="mailto:a@b.example"), "exactly one identifier"),
    (lambda s: s["verb"].update(id="completed"), "verb.id must be an IRI"),
    (lambda s: s["object"].update(id="scenario 1"), "object.id must be an IRI"),
    (lambda s: s["result"]["score"].update(scaled=1.5), "scaled must be from -1 to 1"),
    (lambda s: s["result"]["score"].update(raw=9), "raw must be between min and max"),
    (lambda s: s["result"].update(success="yes"), "result.success must be true or false"),
    (lambda s: s["result"]["extensions"].update(route=[]), "is not an IRI"),
    (lambda s: s.update(id="42"), "id must be a UUID"),
    (lambda s: s.update(timestamp="2026-12-01T10:00:00"), "time zone"),
])
def test_the_validator_names_what_breaks_the_xapi_structure(tiny, learner_home, no_lrs, change, problem):
    play(tiny, [0, 0])
    [statement] = xapi.kept()
    change(statement)
    assert any(problem in message for message in xapi.validate_statement(statement))


def test_a_statement_that_cannot_be_built_never_breaks_the_activity(tiny, learner_home, no_lrs, monkeypatch):
    def broken(session, settings=None):
        raise RuntimeError("boom")

    monkeypatch.setattr(xapi, "scenario_statement", broken)
    session = play(tiny, [0, 0])
    assert session.finished and LearnerFile("scenarios").load()["tiny-scenario"]["best_score"] == 4
    assert xapi.kept() == []


def test_the_lrs_setting_names_the_file_and_field(tmp_path):
    with pytest.raises(LrsConfigError, match=r"lrs\.json: field 'endpoint' must be an http\(s\) URL"):
        parse_settings({"endpoint": "lrs.example.org", "username": "u", "password": "p"}, "lrs.json")
    with pytest.raises(LrsConfigError, match="needs 'username' and 'password'"):
        parse_settings({"endpoint": "https://lrs.example.org/xAPI/"}, "lrs.json")
    with pytest.raises(LrsConfigError, match="unknown field 'endpiont'"):
        parse_settings({"endpiont": "https://lrs.example.org/xAPI/"}, "lrs.json")


def test_environment_credentials_override_the_file(tmp_path, monkeypatch, no_lrs):
    setting = tmp_path / "lrs.json"
    setting.write_text(json.dumps({"endpoint": "https://lrs.example.org/xAPI/", "username": "u", "password": "p"}))
    monkeypatch.setenv("CLIENTCARE_LRS_CONFIG", str(setting))
    monkeypatch.setenv("CLIENTCARE_LRS_PASSWORD", "from-env")
    settings = load_settings()
    assert (settings.endpoint, settings.username, settings.password) == ("https://lrs.example.org/xAPI/", "u", "from-env")
    assert settings.statements_url == "https://lrs.example.org/xAPI/statements"


def test_the_progress_sentence_says_what_is_shared(learner_home, no_lrs, tmp_path, monkeypatch):
    assert "nothing is sent anywhere" in sharing_notice()
    setting = tmp_path / "lrs.json"
    setting.write_text(json.dumps({"endpoint": "https://lrs.example.org/xAPI/", "username": "u", "password": "p"}))
    monkeypatch.setenv("CLIENTCARE_LRS_CONFIG", str(setting))
    notice = sharing_notice()
    assert "lrs.example.org" in notice and "learner-ada" in notice
    assert "reflections and written answers are included only if you choose to share them" in notice


def test_the_progress_page_says_what_is_shared(learner_home, no_lrs):
    from clientcare.progress import progress_html, progress_summary

    page = progress_html(progress_summary(), titles={}, files={}, assignments=[])
    assert "What is shared" in page and "nothing is sent anywhere" in page


def test_a_finished_flashcard_review_is_kept_as_a_statement(learner_home, no_lrs):
    from datetime import datetime, timezone

    from clientcare.flashcards import Card, Flashcards, FlashcardsSession

    deck = Flashcards("03-client-care-and-needs", "Needs", (Card("needs-1", "What is a need?", "..."),), 3)
    session = FlashcardsSession(deck, LearnerFile("flashcards"), lambda: datetime(2026, 3, 2, 9, tzinfo=timezone.utc))
    session.show_answer()
    session.rate("Again")
    [statement] = xapi.kept()
    assert xapi.validate_statement(statement) == []
    assert statement["verb"]["id"] == ADL + "answered"
    assert statement["object"]["id"].endswith("/flashcards/03-client-care-and-needs/needs-1")
    assert statement["result"]["success"] is False  # rated Again
    assert statement["result"]["extensions"]["https://courses.example.org/clientcare/xapi/extensions/rating"] == "Again"
    assert statement["timestamp"].startswith("2026-03-02T09:00:00")
    assert statement["context"]["contextActivities"]["grouping"][1]["id"].endswith("/lessons/3")


def test_a_finished_interview_practice_is_kept_with_its_points_and_time(learner_home, no_lrs):
    from datetime import datetime, timezone

    from clientcare import srs

    event = srs.ReviewFinished("interview", "05-confidentiality", "who-may-know", "Who may know?", "Good",
                               datetime(2026, 3, 2, 9, tzinfo=timezone.utc), datetime(2026, 3, 9, 9, tzinfo=timezone.utc),
                               {"points_made": 3, "points": 4}, seconds=95.5)
    srs.review_finished(event)
    [statement] = xapi.kept()
    assert xapi.validate_statement(statement) == []
    assert statement["verb"]["id"] == ADL + "responded"
    assert statement["object"]["id"].endswith("/interviews/05-confidentiality/who-may-know")
    assert statement["result"]["score"] == {"raw": 3, "min": 0, "max": 4, "scaled": 0.75}
    assert statement["result"]["duration"] == "PT95.5S" and "response" not in statement["result"]


def test_a_saved_reflection_is_recorded_without_its_text_until_the_learner_opts_in(learner_home, no_lrs):
    from clientcare.progress import ProgressSession, ProgressView, load_progress
    from clientcare.reflection import ReflectionSession, ReflectionView, all_reflections, load_reflection

    prompt = next(iter(all_reflections()))
    view = ReflectionView(ReflectionSession(load_reflection(prompt), LearnerFile("journal")))
    view.text.value = "I promised a date I could not keep."  # saved as typed: no record yet
    assert xapi.kept() == []
    view.save_button.click()
    [first] = xapi.kept()
    assert xapi.validate_statement(first) == [] and first["verb"]["id"] == ADL + "responded"
    assert first["object"]["id"].endswith(f"/reflections/{prompt}") and "response" not in first["result"]
    view.save_button.click()  # nothing new to record
    assert len(xapi.kept()) == 1
    progress = ProgressView(ProgressSession(load_progress()))
    assert progress.share_text.value is False
    progress.share_text.value = True  # the learner opts in on the progress page
    assert xapi.share_text() and "you have chosen to include your reflections" in progress.page.value
    view.text.value += " Next time I will check first."
    view.save_button.click()
    assert xapi.kept()[-1]["result"]["response"] == "I promised a date I could not keep. Next time I will check first."
