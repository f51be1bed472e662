"""The course in JupyterLab in a real browser (Debian's Chromium, driven by Playwright).

The learner's JupyterLab (`make lab`) is started on a throwaway copy of the course, committed
to git (learners' answers in a temporary CLIENTCARE_HOME, one assignment released to a
temporary nbgrader exchange), and one browser tab works through Lesson 1 as a learner would:

1. the ipywidgets and nbgrader JupyterLab extensions are enabled and loaded; the learner's
   workspace holds only the lessons and their assignments, and the instructor's tools
   (Formgrader, Create Assignment, the course list) and the notebook Validate button are absent;
2. Run > Run All Cells renders every scenario and reflection, with no
   "Error displaying widget", no "Loading widget..." and no traceback;
3. the first scenario is played to its summary with the mouse: feedback and the
   score appear after the first choice, and the result is saved;
4. a reflection typed into the first text box is saved to journal.json, and is
   back in the box after Kernel > Restart Kernel…, closing and reopening the
   lesson and running it again;
5. the second scenario is played to its summary with the keyboard alone
   (Tab, Enter and Space), and the lesson's flashcards are reviewed with the mouse
   (Show answer, Good) and then with the keyboard alone (Enter, Shift+Tab, Space: Again),
   each rating saved as an FSRS schedule in flashcards.json;
6. every control in the lesson's widgets has an accessible name;
7. a lesson run, saved, closed and reopened has no outputs on disk (`git status` of the
   course is clean), shows no broken widgets, and works again after Run All;
8. Nbgrader > Assignment List shows the released assignment, and Fetch puts it in the
   learner's (gitignored) assignments folder.

The tests share the tab and run in this order; each step saves a screenshot to
test-output/browser/NN-step-name.png (with jupyterlab.log and console.log beside
them). They are skipped only when /usr/bin/chromium is missing; `make test`
installs it.
"""
from __future__ import annotations

import json
import re
import time
from datetime import datetime, timezone
from itertools import cycle

import pytest
from playwright.sync_api import Locator, Page, expect

from lab_server import CHROMIUM, RELEASED_ASSIGNMENT, LabServer
from lab_ui import (
    COMES_BACK, NOTEBOOK, bring_into_view, choose_menu_item, close_current_tab, controls_without_accessible_name, error_outputs,
    execution_counts, focus_is_within, focused_element, notebook_text, open_from_file_browser, open_notebook,
    rating_button, restart_kernel, run_all_cells, save_notebook, wait_for_widgets,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install -y chromium`) to run the browser tests",
)]

LESSON = "lessons/01-responsibility-to-clients.ipynb"
REFLECTION_TEXT = "I promised a venue shortlist by Friday and sent it on Tuesday without warning the client."
MAX_DECISIONS = 10  # more than any scenario has on its longest path
FEEDBACK_VERDICT = re.compile(r"Good choice|Partly right|Not the best choice")
SCORE = re.compile(r"Score: \d+ of \d+")


# ---------------------------------------------------------------- the lesson and its activities


def lesson_calls(lab: LabServer, function: str) -> list[str]:
    """The ids passed to ``function("...")`` in the lesson's code cells, in order."""
    notebook = json.loads((lab.root / LESSON).read_text())
    sources = ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]
    return [found for source in sources for found in re.findall(rf'{function}\(\s*"([^"]+)"', source)]


def expected_widgets(lab: LabServer) -> dict[str, int]:
    scenarios, reflections = lesson_calls(lab, "show_scenario"), lesson_calls(lab, "show_reflection")
    assert len(scenarios) >= 2, f"{LESSON} should show at least two scenarios, found {scenarios}"
    assert reflections, f"{LESSON} should show at least one reflection prompt"
    decks = lesson_calls(lab, "show_flashcards")
    assert len(decks) == 1, f"{LESSON} should end with its flashcard deck, found {decks}"
    return {"clientcare-scenario": len(scenarios), "clientcare-reflection": len(reflections),
            "clientcare-flashcards": 1}


def open_and_run_lesson(page: Page, lab: LabServer) -> Locator:
    """Open Lesson 1, run all its cells and wait for its widgets."""
    notebook = open_notebook(page, lab.lab_url(f"/tree/{LESSON}", reset=True))
    run_all_cells(page)
    wait_for_widgets(page, expected_widgets(lab))
    return notebook


def score_of(scenario: Locator) -> Locator:
    return scenario.get_by_role("status").filter(has_text=SCORE)


def summary_of(scenario: Locator) -> Locator:
    return scenario.locator(".clientcare-summary")


def take_choice(scenario: Locator, act) -> None:
    """Do ``act`` (a click or a key press on a choice) and wait until the scenario has moved on:
    the score changed (its maximum grows by 2 with every decision), the old choice buttons are
    gone, and the next choices or the summary are shown. (The kernel sends these updates one
    by one, so the score alone can change before the new buttons arrive.)"""
    before = score_of(scenario).text_content() if score_of(scenario).count() else ""  # no score before a choice
    old_choice = scenario.locator(".clientcare-choice").first.element_handle()
    act()
    expect(score_of(scenario)).to_have_count(1)
    expect(score_of(scenario)).not_to_have_text(before)
    old_choice.wait_for_element_state("hidden")
    expect(scenario.locator(".clientcare-choice, .clientcare-summary").first).to_be_visible()


def tab_to_next_choice(page: Page, scenario: Locator, max_presses: int = 3) -> None:
    for _ in range(max_presses):
        page.keyboard.press("Tab")
        if focus_is_within(scenario, ".clientcare-choice"):
            return
    pytest.fail(f"{max_presses} presses of Tab did not reach the next choice; focus is on {focused_element(page)}")


def wait_until(condition, timeout: float = 10, message: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(message or "condition not met in time")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def lesson(page, lab, screenshots) -> Locator:
    """Lesson 1, open in the tab, every cell run."""
    notebook = open_and_run_lesson(page, lab)
    screenshots.take(page, "lesson-1-run-all-cells")
    return notebook


# ---------------------------------------------------------------- the tests, in the order a learner works


def test_widget_and_nbgrader_extensions_are_enabled(page, lab, screenshots):
    page.goto(lab.lab_url(reset=True))
    expect(page.locator("#jp-MainMenu")).to_be_visible(timeout=60_000)
    config = page.evaluate("JSON.parse(document.getElementById('jupyter-config-data').textContent)")
    installed = {extension["name"] for extension in config.get("federated_extensions", [])}
    disabled = config.get("disabledExtensions", [])
    for package in ("@jupyter-widgets/jupyterlab-manager", "@jupyter/nbgrader"):
        assert package in installed, f"JupyterLab extension {package} is not installed (found {sorted(installed)})"
        assert package not in disabled, f"JupyterLab extension {package} is disabled: {disabled}"
    for plugin in ("@jupyter/nbgrader:assignment-list", "@jupyter/nbgrader:menu"):  # what learners use
        assert plugin not in disabled, f"{plugin} is disabled: {disabled}"
    # nbgrader's front end has loaded: its menu is in the menu bar.
    expect(page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text="Nbgrader")).to_be_visible()
    expect(page.locator(".jp-Launcher")).to_be_visible()
    screenshots.take(page, "jupyterlab-opened")


def test_the_learner_sees_only_lessons_and_assignments_and_no_instructor_tools(page, lab, screenshots):
    page.goto(lab.lab_url(reset=True))
    listing = page.locator(".jp-DirListing-content .jp-DirListing-itemText")
    expect(listing.first).to_be_visible(timeout=60_000)
    expect(listing).to_have_text(["assignments", "lessons"])  # not source/, release/, gradebook.db, feedback/
    lessons = page.request.get(f"{lab.url}/api/contents/lessons?token={lab.token}").json()["content"]
    assert all(item["name"].endswith(".ipynb") for item in lessons), [item["name"] for item in lessons]  # no authors' notes
    config = page.evaluate("JSON.parse(document.getElementById('jupyter-config-data').textContent)")
    disabled = set(config.get("disabledExtensions", []))
    for plugin in ("formgrader", "create-assignment", "course-list", "validate-assignment"):
        assert f"@jupyter/nbgrader:{plugin}" in disabled, f"nbgrader's {plugin} is not disabled for learners"
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    items = page.locator(".lm-Menu:visible .lm-Menu-itemLabel").all_text_contents()
    page.keyboard.press("Escape")
    assert "Assignment List" in items and not [i for i in items if "Formgrader" in i or "Course" in i], items
    # The server does not offer the instructor's pages either.
    for path in ("/formgrader", "/formgraders"):
        status = page.request.get(f"{lab.url}{path}?token={lab.token}").status
        assert status == 404, f"{path} answered {status} in the learner's view"
    screenshots.take(page, "learner-workspace")


def test_lesson_runs_and_every_widget_renders(lesson, page, lab):
    text = notebook_text(page)
    assert "Error displaying widget" not in text
    assert "Loading widget..." not in text
    assert not error_outputs(page), f"cells of {LESSON} wrote errors: {error_outputs(page)}"
    counts = execution_counts(page)
    shows = len(lesson_calls(lab, "show_scenario")) + len(lesson_calls(lab, "show_reflection")) + 1  # + the quiz
    assert len(counts) >= shows and counts == sorted(counts), f"not every cell ran, in order: {counts}"


def test_first_scenario_played_to_its_summary_with_the_mouse(lesson, page, lab, screenshots):
    scenario = lesson.locator(".clientcare-scenario").first
    scenario_id = lesson_calls(lab, "show_scenario")[0]

    take_choice(scenario, lambda: scenario.locator(".clientcare-choice").first.click())
    expect(scenario.get_by_role("status").filter(has_text=FEEDBACK_VERDICT)).to_be_visible()
    expect(score_of(scenario)).to_have_text(SCORE)
    bring_into_view(page, scenario)
    screenshots.take(page, "scenario-after-first-choice")

    for _ in range(MAX_DECISIONS):
        if summary_of(scenario).count():
            break
        take_choice(scenario, lambda: scenario.locator(".clientcare-choice").first.click())
    expect(summary_of(scenario)).to_be_visible()
    expect(summary_of(scenario)).to_contain_text("you scored")
    bring_into_view(page, summary_of(scenario))
    screenshots.take(page, "scenario-summary-mouse")
    wait_until(lambda: lab.scenarios().get(scenario_id, {}).get("finished"),
               message=f"scenarios.json in CLIENTCARE_HOME has no finished run of '{scenario_id}': {lab.scenarios()}")


def test_reflection_is_saved_and_restored_after_kernel_restart_and_reopening(lesson, page, lab, screenshots):
    prompt_id = lesson_calls(lab, "show_reflection")[0]
    reflection = lesson.locator(".clientcare-reflection").first
    answer = reflection.get_by_role("textbox", name="Your answer")
    answer.click()
    answer.press_sequentially(REFLECTION_TEXT)
    expect(reflection).to_contain_text("Saved at")
    wait_until(lambda: lab.journal().get(prompt_id, {}).get("text") == REFLECTION_TEXT,
               message=f"journal.json does not hold the typed reflection for '{prompt_id}': {lab.journal()}")
    bring_into_view(page, reflection)
    screenshots.take(page, "reflection-typed-and-saved")

    restart_kernel(page)
    screenshots.take(page, "kernel-restarted")
    close_current_tab(page)
    open_from_file_browser(page, LESSON.rsplit("/", 1)[1])
    run_all_cells(page)
    wait_for_widgets(page, expected_widgets(lab))
    assert min(execution_counts(page)) <= 3, "the lesson did not run in a new kernel"

    reflection = lesson.locator(".clientcare-reflection").first
    expect(reflection.get_by_role("textbox", name="Your answer")).to_have_value(REFLECTION_TEXT)
    expect(reflection).to_contain_text("Your saved answer has been restored.")
    bring_into_view(page, reflection)
    screenshots.take(page, "reflection-restored-after-restart")


def test_second_scenario_played_to_its_summary_with_the_keyboard_alone(lesson, page, screenshots):
    scenario = lesson.locator(".clientcare-scenario").nth(1)
    bring_into_view(page, scenario)
    scenario.locator(".clientcare-choice").first.focus()
    keys = cycle(["Enter", "Space"])  # a button must answer to both
    for _ in range(MAX_DECISIONS):
        assert focus_is_within(scenario, ".clientcare-choice"), f"focus is on {focused_element(page)}"
        key = next(keys)
        take_choice(scenario, lambda: page.keyboard.press(key))
        if summary_of(scenario).count():
            break
        tab_to_next_choice(page, scenario)
    expect(summary_of(scenario)).to_be_visible()
    bring_into_view(page, scenario)
    screenshots.take(page, "scenario-summary-keyboard")


def test_flashcards_reviewed_with_the_mouse_and_then_the_keyboard_alone(lesson, page, lab, screenshots):
    deck = lesson.locator(".clientcare-flashcards")
    bring_into_view(page, deck)
    first = lesson_calls(lab, "show_flashcards")[0]
    started = datetime.now(timezone.utc)  # other tests on this lab (the progress page's queue) review cards too
    deck.get_by_role("button", name="Show answer").click()
    # when each rating would bring the card back is on the button itself (so in its accessible name),
    # not only in a tooltip that keyboard, touch and screen reader users never see
    for rating in ("Again", "Hard", "Good", "Easy"):
        expect(rating_button(deck, rating)).to_be_visible()
        expect(rating_button(deck, rating)).to_have_text(re.compile(rf"^{rating} · {COMES_BACK}$"))
    bring_into_view(page, deck)
    screenshots.take(page, "flashcards-rating-buttons-say-when")
    promised = rating_button(deck, "Good").text_content().split(" · ", 1)[1]  # e.g. "in 10 minutes"
    rating_button(deck, "Good").click()
    expect(deck.get_by_role("status")).to_contain_text(f"Rated Good: this card comes back {promised}.")
    # keyboard: focus is back on Show answer; Enter turns the card and moves focus to Good
    assert focus_is_within(deck, "button"), f"after rating, focus is on {focused_element(page)}"
    page.keyboard.press("Enter")
    expect(rating_button(deck, "Again")).to_be_enabled()
    assert focus_is_within(deck, "button"), f"after Show answer, focus is on {focused_element(page)}"
    expect(rating_button(deck, "Good")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Space")
    expect(deck.get_by_role("status")).to_contain_text("Rated Again")
    screenshots.take(page, "flashcards-reviewed")

    def reviewed_now() -> list[str]:
        schedules = lab.flashcards().get(first, {}).get("schedules", {})
        return [card for card, schedule in schedules.items()
                if datetime.fromisoformat(schedule["last_review"]) >= started]

    wait_until(lambda: len(reviewed_now()) == 2, 10,
               f"two cards of {first} reviewed in this test, saved in flashcards.json: {lab.flashcards()}")


def test_focus_stays_in_the_scenario_after_a_choice(lesson, page):
    scenario = lesson.locator(".clientcare-scenario").nth(1)
    scenario.get_by_role("button", name="Restart scenario").click()
    expect(scenario.locator(".clientcare-choice").first).to_be_visible()
    scenario.locator(".clientcare-choice").first.focus()
    take_choice(scenario, lambda: page.keyboard.press("Enter"))
    assert focus_is_within(scenario), f"after choosing with Enter, focus is on {focused_element(page)}"


def test_every_control_in_the_lesson_widgets_has_an_accessible_name(lesson, page, screenshots):
    outputs = lesson.locator(".jp-OutputArea-output")
    assert outputs.locator("button, textarea, input, select").count() > 0, "no controls found in the lesson"
    problems = controls_without_accessible_name(outputs)
    screenshots.take(page, "accessibility-checked")
    assert not problems, "controls without an accessible name:\n" + "\n".join(problems)


def test_a_saved_lesson_reopens_working_and_leaves_git_status_clean(lesson, page, lab, screenshots):
    assert execution_counts(page), "the lesson should have been run"
    save_notebook(page)
    shipped = json.loads((lab.course / "course" / LESSON).read_text())
    assert all(not cell.get("outputs") for cell in shipped["cells"]), "outputs were saved into the lesson"
    assert "widgets" not in shipped["metadata"], "widget state was saved into the lesson"
    assert lab.git_status() == "", f"saving the lesson changed tracked files:\n{lab.git_status()}"
    close_current_tab(page)
    open_from_file_browser(page, LESSON.rsplit("/", 1)[1])
    notebook = page.locator(NOTEBOOK)
    expect(notebook.locator(".jp-Cell").first).to_be_visible()
    assert "Error displaying widget" not in notebook_text(page)
    screenshots.take(page, "lesson-reopened-before-run-all")
    run_all_cells(page)
    wait_for_widgets(page, expected_widgets(lab))
    assert "Error displaying widget" not in notebook_text(page)
    scenario = notebook.locator(".clientcare-scenario").first
    take_choice(scenario, lambda: scenario.locator(".clientcare-choice").first.click())
    expect(scenario.get_by_role("status").filter(has_text=FEEDBACK_VERDICT)).to_be_visible()
    bring_into_view(page, scenario)
    screenshots.take(page, "lesson-reopened-and-working")
    save_notebook(page)
    assert lab.git_status() == "", f"saving the reopened lesson changed tracked files:\n{lab.git_status()}"


def test_nbgrader_assignment_list_fetches_into_the_learners_folder(lesson, page, lab, screenshots):
    choose_menu_item(page, "Nbgrader", "Assignment List")
    panel = page.locator("#nbgrader-assignment-list")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("Released assignments")
    expect(panel).to_contain_text(RELEASED_ASSIGNMENT)
    expect(panel).not_to_contain_text("exchange directory does not exist")
    screenshots.take(page, "nbgrader-assignment-list")
    panel.get_by_role("button", name="Fetch").click()
    fetched = lab.root / "assignments" / RELEASED_ASSIGNMENT / f"{RELEASED_ASSIGNMENT}.ipynb"
    wait_until(fetched.exists, timeout=30, message=f"Fetch did not put the assignment at {fetched}")
    expect(panel).to_contain_text("Downloaded assignments")
    screenshots.take(page, "nbgrader-assignment-fetched")
    assert lab.git_status() == "", f"fetching an assignment changed or added tracked files:\n{lab.git_status()}"
