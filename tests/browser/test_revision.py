"""Revision on the My progress page in a real browser: the interview practice widget answered with the
mouse and then with the keyboard alone (Tab, typing, Enter, Space), each attempt saved with its FSRS
schedule in interviews.json; the course-wide flashcard review queue takes a rating; the page shows
what is due today, and at 800 px, in the light and the dark theme, its tables stack rather than scroll sideways. (The lesson decks are driven in test_jupyterlab.py, with Lesson 1.)"""
from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from checks import axe_violations, clipped_controls, sideways_scrolling, text_contrast
from lab_server import CHROMIUM, LabServer, read_json
from lab_ui import (
    NOTEBOOK, bring_into_view, focus_is_within, focused_element, open_notebook, rating_button, run_all_cells, set_theme,
    wait_for_widgets,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: `apt-get install -y chromium`")]

PAGE = "lessons/00-my-progress.ipynb"


def saved_attempts(lab: LabServer) -> list[dict]:
    data = read_json(lab.learner_home / "interviews.json")
    return [attempt for bank in data.values() if isinstance(bank, dict) for record in bank.values()
            if isinstance(record, dict) for attempt in record.get("attempts", [])]


def wait_for(condition, message: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(message)
        time.sleep(0.2)


@pytest.fixture(scope="module")
def progress_page(page, lab):
    notebook = open_notebook(page, lab.lab_url(f"/tree/{PAGE}", reset=True))
    run_all_cells(page)
    wait_for_widgets(page, {"clientcare-progress": 1, "clientcare-flashcards": 1, "clientcare-interview": 1})
    return notebook


def test_the_progress_page_shows_what_is_due_today(progress_page):
    progress = progress_page.locator(".clientcare-progress")
    expect(progress).to_contain_text("flashcards due today")
    expect(progress).to_contain_text("interview questions due today")
    expect(progress).to_contain_text("CPD hours")


def test_the_progress_page_shows_due_dates_and_what_is_shared(progress_page):
    """records (issue 18): each assignment's due date and the late policy, and what the learning records share."""
    progress = progress_page.locator(".clientcare-progress")
    expect(progress.get_by_role("columnheader", name="Due")).to_be_visible()
    expect(progress).to_contain_text("Friday 29 January 2027 at 17:00 (UK time)")
    expect(progress).to_contain_text("loses 5% of its mark for each day or part of a day late")
    expect(progress).to_contain_text("What is shared")


def test_the_progress_page_is_read_at_800_px_without_scrolling_sideways(progress_page, page, screenshots):
    """At 800 px (the file browser open leaves the output area about 370 px) the progress tables stack each
    row, in both themes: nothing scrolls sideways, nothing sticks out, every text colour has its contrast,
    axe finds nothing, and a screen reader still has tables with their column headers."""
    progress = progress_page.locator(".clientcare-progress")
    area = f"{NOTEBOOK} .jp-OutputArea-output:has(.clientcare-progress)"
    problems = []
    try:
        page.set_viewport_size({"width": 800, "height": 1000})
        for theme in ("light", "dark"):
            set_theme(page, theme)
            bring_into_view(page, progress.get_by_role("table").first)
            width, visible = page.locator(area).evaluate("a => [a.scrollWidth, a.clientWidth]")
            if width > visible:
                problems.append(f"{theme}: the progress output is {width} px wide in {visible} px")
            problems += [f"{theme}: {p}" for p in sideways_scrolling(page, f"{NOTEBOOK} .clientcare-progress")]
            problems += [f"{theme}: {p}" for p in clipped_controls(page)]
            problems += [f"{theme}: contrast {p}" for p in text_contrast(page)[1]]
            empty = progress.locator("td.cc-none").first  # "Best score: –" is not drawn on a stacked row
            if empty.bounding_box()["width"] > 1:
                problems.append(f"{theme}: a cell with nothing to say is drawn on the stacked rows")
            screenshots.take(page, f"progress-800px-{theme}")
        problems += [f"axe: {v}" for v in axe_violations(page)[1]]
        tables = progress.get_by_role("table")
        assert tables.count() >= 10, "a table per lesson and one of the graded assignments"
        expect(tables.first.get_by_role("columnheader", name="Best score")).to_have_count(1)
        expect(progress.get_by_role("rowheader", name="confidentiality", exact=True)).to_have_count(1)
    finally:
        page.set_viewport_size({"width": 1400, "height": 1000})
        set_theme(page, "light")
    assert not problems, "\n".join(problems)


def test_interview_answered_with_the_mouse(progress_page, page, lab, screenshots):
    interview = progress_page.locator(".clientcare-interview")
    bring_into_view(page, interview)
    box, reveal = interview.get_by_role("textbox", name="Your answer"), interview.get_by_role("button", name="Show model answers")
    box_bottom = box.bounding_box()["y"] + box.bounding_box()["height"]
    assert reveal.bounding_box()["y"] >= box_bottom - 1, "Show model answers is drawn over the answer box"
    box.fill("I would act in the client's best interest.")
    interview.get_by_role("button", name="Show model answers").click()
    expect(interview).to_contain_text("Advising")
    models, level = interview.locator("h4", has_text="Model answers"), interview.locator(".cc-model h5").first
    size = "el => parseFloat(getComputedStyle(el).fontSize)"
    assert level.evaluate(size) < models.evaluate(size), "each level's heading should be smaller than 'Model answers'"
    points = interview.get_by_role("group", name="Tick the points your answer made")  # named for screen readers
    expect(points.get_by_role("checkbox").first).to_be_visible()
    assert points.get_by_role("checkbox").count() == interview.get_by_role("checkbox").count() >= 3
    interview.get_by_role("checkbox").first.check()
    interview.get_by_role("button", name="Finish and schedule").click()
    expect(interview.get_by_role("status")).to_contain_text("You made 1 of")
    screenshots.take(page, "interview-mouse")
    wait_for(lambda: len(saved_attempts(lab)) == 1, f"one attempt in interviews.json: {saved_attempts(lab)}")


def test_interview_answered_with_the_keyboard_alone(progress_page, page, lab, screenshots):
    interview = progress_page.locator(".clientcare-interview")
    box = interview.get_by_role("textbox", name="Your answer")
    expect(box).to_be_focused()  # after Finish, focus moves to the next question's answer box
    page.keyboard.type("I would own the mistake, tell the client and fix it.")
    page.keyboard.press("Tab")
    assert focus_is_within(interview, "button"), f"focus is on {focused_element(page)}"
    page.keyboard.press("Enter")  # Show model answers: focus moves to the first checklist point
    expect(interview.get_by_role("checkbox").first).to_be_focused()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    while not focus_is_within(interview, "button"):
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(interview.get_by_role("status")).to_contain_text("You made 2 of")
    screenshots.take(page, "interview-keyboard")
    wait_for(lambda: len(saved_attempts(lab)) == 2, f"two attempts in interviews.json: {saved_attempts(lab)}")
    assert "I would own the mistake, tell the client and fix it." in [a["text"] for a in saved_attempts(lab)]


def test_the_course_review_queue_takes_a_rating(progress_page, page, lab):
    queue = progress_page.locator(".clientcare-flashcards")
    bring_into_view(page, queue)
    queue.get_by_role("button", name="Show answer").click()
    rating_button(queue, "Easy").click()
    expect(queue.get_by_role("status")).to_contain_text("Rated Easy")
    wait_for(lambda: any(record.get("schedules") for record in read_json(lab.learner_home / "flashcards.json").values()
                         if isinstance(record, dict)), "a schedule in flashcards.json")
