"""Every lesson as a learner sees it: at 1400 and 800 px wide, in the light and the dark theme.

For each lesson, one tab opens it in the learner's JupyterLab, runs Run > Run All Cells, waits
for every activity and uses each one once (a scenario choice, a submitted quiz, a flashcard
turned and rated, an interview answer compared with the models, a mistyped fee), so that every state with its own colours is on
screen; then, at each width and theme, it checks that

- no control sticks out of its output area or has its text cut off,
- every text colour the widgets use has a contrast of at least 4.5:1 (3:1 for large text)
  against its background (axe-core does not measure text inside widgets, so this is our own
  measurement; inactive controls are exempt, as in WCAG 1.4.3),
- quiz options are in groups named by their question and toggles say whether they are pressed
  (aria-pressed), which axe does not check,
- axe-core's WCAG 2.2 A and AA rules find nothing in the course's widgets (run once per lesson,
  at 800 px, in the light theme for one lesson and the dark for the next: its rules do not
  depend on width or theme, and each run costs seconds),

and keeps a screenshot (test-output/browser/lesson-NN-<width>-<theme>.png). The contrast
pairs and axe's results go to test-output/browser/accessibility.json for the report.
"""
from __future__ import annotations

import json
import re
import time

import pytest
from playwright.sync_api import Page, expect

from checks import aria_problems, axe_violations, clipped_controls, text_contrast
from lab_server import CHROMIUM, REPO, LabServer, shut_down_kernels
from lab_ui import (
    NOTEBOOK, close_current_tab, current_theme, open_from_file_browser, error_outputs, exercise_widgets, open_notebook, run_all_cells, set_theme, wait_for_widgets,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: `apt-get install -y chromium`"),
]

LESSONS = sorted(path.name for path in (REPO / "course" / "lessons").glob("[0-9][0-9]-*.ipynb"))
WIDTHS = (1400, 800)
HEIGHT = 1000
# show_x(...) in a lesson's code -> the class of the widget it draws
WIDGET_CLASSES = {
    "show_scenario": "clientcare-scenario", "show_quiz": "clientcare-quiz",
    "show_reflection": "clientcare-reflection", "show_flashcards": "clientcare-flashcards",
    "show_fee_calculator": "clientcare-fees", "show_progress": "clientcare-progress",
    "show_review": "clientcare-flashcards", "show_interview": "clientcare-interview",
}
REPORT = {}  # lesson -> width/theme -> measurements


class Stopwatch:
    def __init__(self):
        self.laps, self.start = {}, time.monotonic()

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.laps[name], self.start = round(now - self.start, 2), now


def expected_widgets(lab: LabServer, lesson: str) -> dict[str, int]:
    notebook = json.loads((lab.root / "lessons" / lesson).read_text())
    code = "\n".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code")
    counts = {}
    for function, css_class in WIDGET_CLASSES.items():
        found = len(re.findall(rf"^\s*{function}\(", code, flags=re.M))
        if found:
            counts[css_class] = counts.get(css_class, 0) + found
    assert counts, f"{lesson} shows no course widget"
    return counts


@pytest.fixture(scope="module", autouse=True)
def accessibility_report(output_dir):
    yield REPORT
    (output_dir / "accessibility.json").write_text(json.dumps(REPORT, indent=1))


def check_here(page: Page, lesson: str, width: int, theme: str, screenshots, *, axe: bool) -> list[str]:
    page.set_viewport_size({"width": width, "height": HEIGHT})
    set_theme(page, theme)
    page.wait_for_timeout(150)
    problems = [f"{width} px, {theme}: {p}" for p in clipped_controls(page)]
    pairs, low = text_contrast(page)
    problems += [f"{width} px, {theme}: contrast {p}" for p in low]
    report = REPORT.setdefault(lesson, {}).setdefault(f"{width}-{theme}", {})
    report["contrast"] = sorted(pairs, key=lambda p: p["ratio"])
    if axe:
        problems += [f"{width} px, {theme}: {p}" for p in aria_problems(page)]
        results, violations = axe_violations(page)
        problems += [f"{width} px, {theme}: axe {v}" for v in violations]
        report["axe"] = {"version": results.get("version"), "widgets": results.get("roots"),
                         "rules_passed": len(results.get("passes", [])),
                         "nodes_passed": sum(p["nodes"] for p in results.get("passes", [])),
                         "violations": results.get("violations", [])}
    page.locator(f"{NOTEBOOK} .clientcare").first.scroll_into_view_if_needed()
    screenshots.take(page, f"{lesson[:2]}-{width}px-{theme}")
    return problems


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_at_both_widths_and_in_both_themes(lesson, page, lab, screenshots):
    clock = Stopwatch()
    if page.locator(NOTEBOOK).count():  # the previous lesson: close it and open this one as a learner would
        close_current_tab(page)
        notebook = open_from_file_browser(page, lesson)
    else:
        notebook = open_notebook(page, lab.lab_url(f"/tree/lessons/{lesson}", reset=True))
    clock.lap("open")
    try:
        run_all_cells(page)
        wait_for_widgets(page, expected_widgets(lab, lesson))
        clock.lap("run all")
        assert not error_outputs(page), f"{lesson} wrote errors: {error_outputs(page)}"
        assert "Error displaying widget" not in notebook.evaluate("node => node.textContent")
        exercise_widgets(page)
        clock.lap("use every widget")
        # Alternate the order so each lesson changes theme twice, not four times.
        start = current_theme(page)
        other = "dark" if start == "light" else "light"
        problems = []
        for width, theme in [(1400, start), (800, start), (800, other), (1400, other)]:
            problems += check_here(page, lesson, width, theme, screenshots, axe=(width, theme) == (800, other))
            clock.lap(f"checks {width}-{theme}")
    finally:
        page.set_viewport_size({"width": 1400, "height": HEIGHT})
        shut_down_kernels(lab)
        REPORT.setdefault(lesson, {})["seconds"] = clock.laps
    assert not problems, f"{lesson}:\n" + "\n".join(problems)
    expect(page.locator(NOTEBOOK)).to_have_count(1)
