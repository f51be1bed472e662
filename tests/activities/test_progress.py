"""The learner's progress page: counts from saved files against the course content."""
import json

import pytest

from clientcare.progress import lesson_titles, lesson_totals, progress_html, progress_summary, show_progress
from clientcare.store import LearnerFile

SCENARIO = """\
id: {id}
title: {title}
lesson: {lesson}
setting: You are an account manager.
start: start
nodes:
  start:
    text: The end.
    ending: strong
"""

QUIZ = """\
id: 02-quiz
title: Lesson 2 quiz
lesson: 2
questions:
  - id: one
    kind: single
    prompt: Pick A.
    options:
      - {text: A, correct: true, feedback: Yes.}
      - {text: B, correct: false, feedback: No.}
  - id: two
    kind: single
    prompt: Pick B.
    options:
      - {text: A, correct: false, feedback: No.}
      - {text: B, correct: true, feedback: Yes.}
"""

REFLECTIONS = """\
id: 02-reflect
lesson: 2
prompts:
  - {id: 02-first, title: First thoughts, prompt: Reflect.}
  - {id: 02-second, title: Second thoughts, prompt: Reflect again.}
"""

DECK = """\
id: deck
title: Essentials
cards:
  - {id: a, front: Q1, back: A1}
  - {id: b, front: Q2, back: A2}
  - {id: c, front: Q3, back: A3}
"""


@pytest.fixture
def course(content_dir, learner_home):
    """A small course: two scenarios (lessons 1 and 2), a quiz, two reflections and a deck."""
    for scenario_id, title, lesson in [("alpha", "Alpha case", 1), ("beta", "Beta case", 2)]:
        (content_dir / "scenarios" / f"{scenario_id}.yaml").write_text(
            SCENARIO.format(id=scenario_id, title=title, lesson=lesson))
    (content_dir / "quizzes" / "02-quiz.yaml").write_text(QUIZ)
    (content_dir / "reflections" / "02-reflect.yaml").write_text(REFLECTIONS)
    (content_dir / "flashcards" / "deck.yaml").write_text(DECK)
    return content_dir


def known_marks(data):
    """A flashcards file as version 1 wrote it ("known" marks), which migrate into FSRS schedules on load."""
    LearnerFile("flashcards").path.write_text(json.dumps({**data, "schema_version": 1}))


def row(summary, item_id):
    return summary.set_index("id").loc[item_id]


def test_nothing_done_yet(course):
    summary = progress_summary()
    assert len(summary) == 7
    assert not summary["done"].any()
    assert list(summary["activity"]) == ["Scenario", "Scenario", "Quiz", "Reflection", "Reflection", "Flashcards",
                                         "Final test"]
    assert list(summary["lesson"].astype("object").fillna(0)) == [1, 2, 2, 2, 2, 0, 0]
    assert row(summary, "alpha")["status"] == "Not started"
    assert row(summary, "02-quiz")["status"] == "Not attempted"
    assert row(summary, "deck")["status"] == "0 of 3 cards studied; 0 due for review today"
    assert row(summary, "final-test")["status"] == "Not attempted"


def test_counts_what_the_learner_has_done(course):
    LearnerFile("scenarios").save({
        "alpha": {"finished": True, "best_score": 5, "max_score": 6},
        "beta": {"finished": False, "best_score": 0, "max_score": 4},
        "deleted-scenario": {"finished": True, "best_score": 1, "max_score": 1},  # no longer in the course
    })
    LearnerFile("quiz").save({"02-quiz": {"last": 1, "best": 2, "total": 2, "attempts": 3}})
    LearnerFile("journal").save({
        "02-first": {"text": "I learnt to listen.", "saved_at": "2025-03-04T10:15:00"},
        "02-second": {"text": "   ", "saved_at": "2025-03-04T10:16:00"},  # blank is not written
    })
    known_marks({"deck": {"known": ["a", "c"]}})
    LearnerFile("quiz").update(lambda d: d.update({"final-test": {"last": 1, "best": 2, "total": 2, "attempts": 2}}))
    summary = progress_summary()
    assert list(summary["id"]) == ["alpha", "beta", "02-quiz", "02-first", "02-second", "deck", "final-test"]
    assert row(summary, "final-test")["status"] == "Best score 2 of 2 (2 attempts)"
    assert row(summary, "alpha")["status"] == "Finished: best score 5 of 6"
    assert not row(summary, "beta")["done"] and row(summary, "beta")["status"] == "Started, not finished"
    assert row(summary, "02-quiz")["status"] == "Best score 2 of 2 (3 attempts)"
    assert row(summary, "02-first")["status"] == "Written on 4 March 2025"
    assert not row(summary, "02-second")["done"]
    assert row(summary, "deck")["status"] == "2 of 3 cards studied; 0 due for review today"
    assert not row(summary, "deck")["done"]
    assert summary["done"].sum() == 4

    totals = lesson_totals(summary)
    assert totals["done"].tolist() == [1, 2, 1]
    assert totals["total"].tolist() == [1, 4, 2]


def test_a_deck_is_done_when_every_card_has_been_studied(course):
    known_marks({"deck": {"known": ["a", "b", "c"]}})
    assert row(progress_summary(), "deck")["done"]


def test_a_broken_content_file_is_reported_not_fatal(course):
    (course / "scenarios" / "gamma.yaml").write_text("id: gamma\ntitle: [unclosed\n")
    summary = progress_summary()
    assert "gamma" not in set(summary["id"]) and len(summary) == 7
    assert any("scenarios/gamma.yaml" in problem for problem in summary.attrs["problems"])
    assert "please tell your instructor" in progress_html(summary, titles={})


def test_html_groups_by_lesson_with_titles(course):
    LearnerFile("scenarios").save({"alpha": {"finished": True, "best_score": 2, "max_score": 2}})
    text = progress_html(progress_summary(), titles={2: "Lesson 2: What a client is"}, files={}, assignments=[])
    assert "You have completed 1 of 7 activities." in text
    assert "Lesson 1 (1 of 1 done)" in text
    assert "Lesson 2: What a client is (0 of 4 done)" in text
    assert "Across the course (0 of 2 done)" in text
    assert text.index("Lesson 1 (") < text.index("Lesson 2:") < text.index("Across the course")


def test_widget_refreshes_after_more_work(course):
    page = show_progress()
    html_widget = page.page
    assert "completed 0 of 7" in html_widget.value
    known_marks({"deck": {"known": ["a", "b", "c"]}})
    refresh = page.refresh_button
    assert refresh in page.children and refresh.description == "Refresh" and refresh.tooltip
    refresh.click()
    assert "completed 1 of 7" in html_widget.value


def test_lesson_titles_come_from_the_notebooks(tmp_path):
    notebook = {"cells": [{"cell_type": "markdown", "source": ["# Lesson 3: Client care and needs\n", "More."]}]}
    (tmp_path / "03-client-care.ipynb").write_text(json.dumps(notebook))
    (tmp_path / "00-my-progress.ipynb").write_text(json.dumps({"cells": []}))
    assert lesson_titles(tmp_path) == {3: "Lesson 3: Client care and needs"}


def test_the_real_course_summary_builds(learner_home):
    summary = progress_summary()
    decks = summary[summary["activity"] == "Flashcards"]
    assert list(decks["lesson"]) == list(range(1, 10)) and "final-test" in set(summary["id"])


def test_finished_and_best_score_are_shown_apart(course):
    # issue 14: a scenario finished with 0 points showed as "Yes, done" and nothing else.
    LearnerFile("scenarios").save({"alpha": {"finished": True, "best_score": 0, "max_score": 4}})
    summary = progress_summary()
    assert row(summary, "alpha")["done"] and row(summary, "alpha")["score"] == "0 of 4 (0%)"
    text = progress_html(summary, titles={}, files={}, assignments=[])
    assert ("<td role='cell' data-label='Complete'>Yes</td>"
            "<td role='cell' data-label='Best score'>0 of 4 (0%)</td>") in text
    # a row with no score still has its cell (a screen reader keeps the columns), marked to stay out of
    # sight when the table stacks in a narrow window
    assert "<td role='cell' data-label='Best score' class=\"cc-none\">–</td>" in text


def test_activities_belong_to_the_lesson_that_shows_them_in_its_order(course, tmp_path, monkeypatch):
    from clientcare import progress

    lessons = tmp_path / "course" / "lessons"  # a course folder of its own, found as the learner's kernel finds it
    lessons.mkdir(parents=True)
    (tmp_path / "nbgrader_config.py").write_text("")
    code = ['show_scenario("beta")', 'show_flashcards("deck")', 'show_scenario("alpha")']
    cells = [{"cell_type": "markdown", "source": "# Lesson 2: Clients"}] + [
        {"cell_type": "code", "source": source} for source in code]
    (lessons / "02-clients.ipynb").write_text(json.dumps({"cells": cells}))
    monkeypatch.delenv("CLIENTCARE_COURSE_DIR", raising=False)
    monkeypatch.chdir(lessons)
    summary = progress_summary()
    lesson_two = summary[summary["lesson"] == 2]
    assert list(lesson_two["id"])[:3] == ["beta", "deck", "alpha"]  # as the lesson shows them
    assert row(summary, "deck")["lesson"] == 2  # not "Across the course"
    text = progress_html(summary, titles={2: "Lesson 2: Clients"}, files={2: "02-clients.ipynb"}, assignments=[])
    assert '<a href="02-clients.ipynb">Lesson 2: Clients</a>' in text


def test_graded_assignments_with_where_the_learner_is(tmp_path):
    from clientcare.progress import assignment_status, assignments_html

    course, cache = tmp_path / "course", tmp_path / "cache"
    for name in ("confidentiality", "fee-proposals", "client-feedback"):
        (course / "release" / name).mkdir(parents=True)
    fetched = course / "learner" / "assignments" / "fee-proposals"
    fetched.mkdir(parents=True)
    (fetched / "fee-proposals.ipynb").write_text("{}")
    done = course / "learner" / "assignments" / "confidentiality"
    (done / "feedback" / "2026-11-30 10:00:00.000000 UTC").mkdir(parents=True)
    (done / "confidentiality.ipynb").write_text("{}")
    (done / "feedback" / "2026-11-30 10:00:00.000000 UTC" / "confidentiality.html").write_text("<html/>")
    sent = cache / "learner+confidentiality+2026-11-28 09:30:00.000000 UTC"
    sent.mkdir(parents=True)
    (sent / "timestamp.txt").write_text("2026-11-28 09:30:00.000000 UTC")
    rows = {row["name"]: row for row in assignment_status(course, cache)}
    assert rows["client-feedback"]["status"].startswith("Not fetched yet")
    assert rows["fee-proposals"]["status"] == "Fetched, not submitted"
    assert rows["fee-proposals"]["link"] == "../assignments/fee-proposals/fee-proposals.ipynb"
    assert rows["confidentiality"]["status"] == "Submitted on 28 November 2026 at 09:30; feedback ready"
    assert rows["confidentiality"]["link"].endswith("/feedback/2026-11-30 10:00:00.000000 UTC/confidentiality.html")
    text = assignments_html(list(rows.values()))
    assert "Read your feedback" in text and "Open the assignment" in text


def test_tables_name_every_cell_by_its_column_so_they_can_stack(course):
    """In a narrow output area each row stacks (clientcare.css): every cell carries its column's name to show
    beside it, and the table, row and cell roles are explicit, so a screen reader still has a table."""
    from html.parser import HTMLParser

    from clientcare.progress import ACTIVITY_COLUMNS, ASSIGNMENT_COLUMNS

    class Tables(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tables = []

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "table":
                self.tables.append({"role": attrs.get("role"), "label": attrs.get("aria-label"), "rows": []})
            elif tag == "tr":
                self.tables[-1]["rows"].append([])
            elif tag in ("th", "td"):
                self.tables[-1]["rows"][-1].append((tag, attrs.get("role"), attrs.get("scope"), attrs.get("data-label")))

    assignments = [{"name": "fee-proposals", "due": "", "status": "Fetched, not submitted", "link": "", "link_text": ""}]
    parser = Tables()
    parser.feed(progress_html(progress_summary(), titles={}, files={}, assignments=assignments))
    assert [t["label"] for t in parser.tables] == [
        "Lesson 1: your activities", "Lesson 2: your activities", "Across the course: your activities",
        "Graded assignments"]
    for table in parser.tables:
        columns = ASSIGNMENT_COLUMNS if table["label"] == "Graded assignments" else ACTIVITY_COLUMNS
        header, *rows = table["rows"]
        assert table["role"] == "table" and header == [("th", "columnheader", "col", None)] * len(columns)
        for row in rows:
            assert len(row) == len(columns)
            for (tag, role, scope, label), column in zip(row, columns):
                assert (tag, role, scope) == ("th", "rowheader", "row") or (tag, role, label) == ("td", "cell", column)
            assert sum(1 for cell in row if cell[1] == "rowheader") == 1
