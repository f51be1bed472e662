"""The CPD record: CSV columns and HTML content, reflections only when chosen, practice time logged as
reviews happen, nothing written until the learner exports; and the progress page's revision summary."""
import csv
import io
import json
import re
from datetime import date, datetime, timedelta, timezone

import pytest

from clientcare import cpd, srs
from clientcare.flashcards import FlashcardsSession, load_flashcards
from clientcare.progress import progress_summary, show_progress
from clientcare.store import LearnerFile
from notebooks import LESSONS_DIR, read_json

REFLECTION = "I promised a shortlist by Friday and sent it on Tuesday."
TODAY = date(2026, 12, 1)


@pytest.fixture
def lesson_one_done(learner_home):
    """Every scenario, quiz and reflection of Lesson 1 done, as the learner's files record them."""
    summary = progress_summary()
    rows = summary[(summary["lesson"] == 1) & summary["activity"].isin(["Scenario", "Quiz", "Reflection"])]
    scenarios, quiz, journal = {}, {}, {}
    for row in rows.itertuples():
        if row.activity == "Scenario":
            scenarios[row.id] = {"finished": True, "best_score": 6, "max_score": 8, "finished_at": "2026-11-20T10:00:00"}
        elif row.activity == "Quiz":
            quiz[row.id] = {"last": 7, "best": 7, "total": 8, "attempts": 1}
        else:
            journal[row.id] = {"text": REFLECTION, "saved_at": "2026-11-21T09:30:00"}
    LearnerFile("scenarios").save(scenarios)
    LearnerFile("quiz").save(quiz)
    LearnerFile("journal").save(journal)
    return rows


def test_each_lessons_hours_are_the_duration_the_lesson_states():
    plan = cpd.load_plan()
    assert sorted(plan) == list(range(1, 10))
    for path in sorted(LESSONS_DIR.glob("0[1-9]-*.ipynb")):
        first = "".join(read_json(path)["cells"][0]["source"])
        stated = re.search(r"[Dd]uration:\*\* about (\d+) minutes", first)
        assert stated and plan[int(path.name[:2])].minutes == int(stated.group(1)), path.name
        assert plan[int(path.name[:2])].outcome.startswith("Can ")


def test_csv_has_the_columns_professional_bodies_ask_for_and_no_reflection_unless_chosen(lesson_one_done):
    rows = list(csv.DictReader(io.StringIO(cpd.cpd_csv(cpd.cpd_rows(today=TODAY)))))
    assert list(rows[0]) == ["date", "activity", "hours", "formal/informal", "learning outcome", "reflection"]
    lesson = rows[0]
    assert lesson["date"] == "2026-11-21" and lesson["formal/informal"] == "formal" and lesson["hours"] == "1.08"
    assert lesson["activity"].startswith("Client Care course (e-learning), Lesson 1: Responsibility to clients")
    assert "7 of 8 (88%)" in lesson["activity"] and lesson["learning outcome"].startswith("Can act")
    assert lesson["reflection"] == "" and REFLECTION not in cpd.cpd_csv(cpd.cpd_rows(today=TODAY))
    chosen = list(csv.DictReader(io.StringIO(cpd.cpd_csv(cpd.cpd_rows(True, TODAY)))))
    assert REFLECTION in chosen[0]["reflection"]


def test_a_lesson_not_finished_is_not_claimed(lesson_one_done):
    journal = LearnerFile("journal").load()
    journal.pop(next(iter(journal)))
    LearnerFile("journal").save(journal)
    assert [row for row in cpd.cpd_rows(today=TODAY) if row["formal/informal"] == "formal"] == []


def test_html_is_a_printable_page_with_the_record_and_reflections_only_if_chosen(lesson_one_done):
    page = cpd.cpd_html(cpd.cpd_rows(today=TODAY), TODAY)
    assert page.startswith("<!DOCTYPE html>") and "@page" in page and "<title>CPD record: Client Care course" in page
    for column in ("Date", "Activity", "Hours", "Formal/informal", "Learning outcome", "Reflection"):
        assert f"<th scope='col'>{column}</th>" in page
    assert "Lesson 1: Responsibility to clients" in page and "Exported on 1 December 2026" in page
    assert "Total 1.08 hours: 1.08 formal" in page and REFLECTION not in page
    assert REFLECTION in cpd.cpd_html(cpd.cpd_rows(True, TODAY), TODAY)


def test_practice_time_is_logged_as_reviews_happen_and_counts_as_informal(learner_home):
    class Clock:
        moment = datetime(2026, 11, 30, 18, 0, tzinfo=timezone.utc)

        def __call__(self):
            return self.moment

    clock = Clock()
    review = FlashcardsSession(load_flashcards("06-fees"), LearnerFile("flashcards"), clock)
    for seconds in (30, 400):  # the first card answered in 30 s, the second after a long pause
        clock.moment += timedelta(seconds=seconds)
        review.show_answer()
        review.rate("Good")
    day = LearnerFile("practice").load()["days"]["2026-11-30"]["flashcard"]
    assert day == {"reviews": 2, "seconds": 150.0}  # the second review is capped at 2 minutes
    rows = cpd.cpd_rows(today=TODAY)
    assert rows == [{"date": "2026-11-30", "activity": "Flashcard revision (spaced repetition): 2 cards reviewed",
                     "hours": "0.04", "formal/informal": "informal",
                     "learning outcome": cpd.PRACTICE_OUTCOMES["flashcard"], "reflection": ""}]


def test_nothing_is_written_until_the_learner_exports(lesson_one_done, learner_home):
    view = show_progress()
    assert not (learner_home / "cpd").exists()
    view.cpd.include_reflections.value = False
    csv_path, html_path = view.cpd.export()
    assert csv_path.parent == learner_home / "cpd" and csv_path.suffix == ".csv" and html_path.suffix == ".html"
    assert REFLECTION not in csv_path.read_text() and REFLECTION not in html_path.read_text()
    assert "Download CSV" in view.cpd.result.value and 'download="cpd-record-' in view.cpd.result.value
    view.cpd.include_reflections.value = True
    csv_path, html_path = view.cpd.export()
    assert REFLECTION in csv_path.read_text() and REFLECTION in html_path.read_text()


def test_the_progress_page_shows_what_is_due_and_the_cpd_hours(lesson_one_done):
    LearnerFile("flashcards").save({"04-ethics": {"schedules": {"bribery": srs.review(None, "Again")}}})
    page = show_progress().page.value
    assert "1 flashcards due today" in page and "interview questions due today" in page
    assert "1.08 CPD hours</b> so far (1.08 formal, 0.00 informal)" in page
