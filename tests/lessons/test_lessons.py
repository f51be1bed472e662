"""The lessons: structure and content references (coverage of concepts: test_coverage.py).

nbval runs each lesson separately (see the Makefile); these tests check what a
reader and an instructor rely on without running a kernel.
"""
import re
from pathlib import Path

import pytest

from clientcare.catalogue import check_content, check_lesson_references, lesson_references
from clientcare.content import file_ids
from notebooks import LESSONS_DIR, markdown, read_json as notebook, text_of

LESSONS = sorted(LESSONS_DIR.glob("[0-9][0-9]-*.ipynb"))
TAUGHT = [p for p in LESSONS if not p.name.startswith("00-")]


def test_nine_numbered_lessons():
    assert [p.name[:2] for p in TAUGHT] == [f"{n:02d}" for n in range(1, 10)]


def test_every_content_file_is_valid():
    checked, errors = check_content()
    assert checked > 0 and errors == []


def test_lessons_only_show_content_that_exists():
    assert check_lesson_references(LESSONS_DIR) == []


def test_every_scenario_quiz_and_deck_is_used_in_a_lesson():
    used = {(function, item) for _, _, function, item in lesson_references(LESSONS_DIR)}
    for function, kind in (("show_scenario", "scenarios"), ("show_quiz", "quizzes"), ("show_flashcards", "flashcards")):
        unused = [item for item in file_ids(kind) if (function, item) not in used]
        assert unused == [], f"{kind} not shown in any lesson: {unused}"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    for cell in notebook(path)["cells"]:
        assert not cell.get("outputs") and not cell.get("execution_count"), f"{path.name}: clear outputs before committing"


@pytest.mark.parametrize("path", TAUGHT, ids=lambda p: p.name)
def test_lesson_reads_like_a_chapter(path):
    text = markdown(path)
    number = int(path.name[:2])
    assert re.search(rf"^# Lesson {number}: ", text, re.M), "the first heading is '# Lesson N: Title'"
    assert re.search(r"^(#+ |\*\*)learning objectives", text, re.M | re.I), f"{path.name} states no learning objectives"
    for heading in ("worked example", "summary"):
        assert re.search(rf"^#+ .*{heading}", text, re.M | re.I), f"{path.name} has no '{heading}' section"
    calls = [function for name, _, function, _ in lesson_references(LESSONS_DIR) if name == path.name]
    assert calls.count("show_scenario") >= 2, "at least two interactive scenarios"
    assert calls.count("show_reflection") >= 1 and calls.count("show_quiz") == 1
    assert len(text.split()) >= 900, "a chapter, not a sketch"

