"""Keyboard focus after the last item of a review, in a real browser: rating the last flashcard due, or
finishing the last interview question due, disables or hides the control that had focus. Focus must not
fall to the page (a keyboard user would have to start again from the top of the notebook and a screen
reader would say nothing): it moves to the widget's message of what happened.

The widgets are shown in a scratch notebook in the learner's workspace, each on content of its own kept
in memory only (no learner file is touched, so the other browser tests' decks and questions are not
used up); the notebook is deleted afterwards."""
from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from lab_server import CHROMIUM, shut_down_kernels
from lab_ui import focused_element, open_notebook, rating_button, run_all_cells, wait_for_widgets

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: `apt-get install -y chromium`")]

SCRATCH = "focus-after-the-last-item.ipynb"
CODE = [
    """from clientcare.flashcards import Card, Flashcards, FlashcardsSession, FlashcardsView
FlashcardsView(FlashcardsSession(Flashcards("two", "Two cards", (Card("a", "First question", "First answer"),
                                                                  Card("b", "Second question", "Second answer")), 1)))""",
    """from clientcare.interview import Interview, InterviewSession, InterviewView, Question
models = (("knowing", "What the rule says."), ("applying", "How I used it."), ("advising", "What I would advise."))
InterviewView(InterviewSession(Interview("one", "One question", 1, (
    Question("q", "Talk me through your complaints procedure.", models, ("Acknowledge", "Investigate", "Reply")),))))""",
]


@pytest.fixture(scope="module")
def scratch(page, lab):
    path = lab.root / SCRATCH
    cells = [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": code}
             for code in CODE]
    path.write_text(json.dumps({"cells": cells, "metadata": {"kernelspec": {
        "name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5}))
    try:
        notebook = open_notebook(page, lab.lab_url(f"/tree/{SCRATCH}", reset=True))
        run_all_cells(page)
        wait_for_widgets(page, {"clientcare-flashcards": 1, "clientcare-interview": 1})
        yield notebook
    finally:
        shut_down_kernels(lab)
        path.unlink(missing_ok=True)


def test_focus_moves_to_the_message_after_the_last_flashcard(scratch, page, screenshots):
    deck = scratch.locator(".clientcare-flashcards")
    show = deck.get_by_role("button", name="Show answer")
    show.focus()
    for _ in range(2):  # keyboard alone: Enter turns the card (focus on Good), Tab to Easy, Enter rates it
        expect(show).to_be_focused()
        page.keyboard.press("Enter")
        expect(rating_button(deck, "Good")).to_be_focused()
        page.keyboard.press("Tab")
        expect(rating_button(deck, "Easy")).to_be_focused()
        page.keyboard.press("Enter")
        expect(deck.get_by_role("button", name="Easy", exact=True)).to_be_disabled()
    expect(deck).to_contain_text("Nothing is due for review now")
    status = deck.get_by_role("status")
    expect(status).to_contain_text("Rated Easy: this card comes back in 8 days.")
    expect(status).to_be_focused()  # not the page body, which is where a disabled button leaves it
    screenshots.take(page, "focus-after-the-last-flashcard")


def test_focus_moves_to_the_message_after_the_last_interview_question(scratch, page, screenshots):
    interview = scratch.locator(".clientcare-interview")
    answer = interview.get_by_role("textbox", name="Your answer")
    answer.focus()
    page.keyboard.type("I acknowledge it the same day.")
    page.keyboard.press("Tab")
    expect(interview.get_by_role("button", name="Show model answers")).to_be_focused()
    page.keyboard.press("Enter")
    expect(interview.get_by_role("checkbox").first).to_be_focused()
    page.keyboard.press("Space")
    for _ in range(3):
        page.keyboard.press("Tab")
    finish = interview.get_by_role("button", name="Finish and schedule")
    assert finish.evaluate("el => el === document.activeElement"), f"focus is on {focused_element(page)}"
    page.keyboard.press("Enter")
    expect(interview).to_contain_text("No interview question is due now")
    status = interview.get_by_role("status")
    expect(status).to_contain_text("You made 1 of 3 points")
    expect(status).to_be_focused()
    screenshots.take(page, "focus-after-the-last-interview-question")
