"""End to end: nbgrader autogrades synthetic learners in a temporary course with the right marks.

For every assignment with a spec in tests/instructor/grading/<name>.yaml: the model answer
scores full marks, the blank release scores 0 without crashing, and a partial
submission scores exactly the expected points.
"""
import html
import re
from pathlib import Path

import nbformat
import pytest
import yaml

from clientcare.instructor.course import Course
from clientcare.instructor.results import submission_scores
from clientcare.instructor.synthetic import ALL, Learner, submit

from cohorts import copy_course
from notebooks import REPO

pytestmark = pytest.mark.slow
XDIST_SPLIT_BY = "assignment"  # each assignment's learners are graded on one worker (tests/conftest.py)

SPECS = {p.stem: yaml.safe_load(p.read_text()) for p in sorted((Path(__file__).parent / "grading").glob("*.yaml"))}


def test_every_assignment_has_a_grading_spec():
    assert set(Course(REPO).assignments()) == set(SPECS)


@pytest.fixture(scope="module")
def course(tmp_path_factory, released_template) -> Course:
    """A course with every assignment generated (a copy of the run's shared one)."""
    return copy_course(released_template, tmp_path_factory.mktemp("course") / "clientcare")


@pytest.fixture(scope="module")
def grade(course):
    """Grade an assignment's three synthetic learners once; returns their rows by learner."""
    done = {}

    def graded(assignment: str):
        if assignment not in done:
            spec = SPECS[assignment]
            for learner in (Learner("model-answer", {assignment: ALL}),
                            Learner("blank", {}),
                            Learner("partial", {assignment: spec["partial"]["solved"]})):
                submit(course, learner, assignment)
            result = course.nbgrader("autograde", assignment, "--force", isolated=True)
            rows = submission_scores(course.db_url, assignment).set_index("student")
            done[assignment] = (rows, result.stdout + result.stderr)
        return done[assignment]

    return graded


@pytest.mark.parametrize("assignment", sorted(SPECS))
def test_model_answer_scores_full_marks(grade, assignment):
    rows, log = grade(assignment)
    spec = SPECS[assignment]
    model = rows.loc["model-answer"]
    assert model["auto_max"] == spec["autograded_points"], "spec's autograded_points differs from the notebook"
    assert model["max_score"] == spec["autograded_points"] + spec["manual_points"]
    assert model["score"] == spec["autograded_points"], f"model answer lost marks:\n{log[-3000:]}"


@pytest.mark.parametrize("assignment", sorted(SPECS))
def test_blank_release_scores_zero_without_crashing(grade, assignment):
    rows, _ = grade(assignment)
    assert rows.loc["blank", "score"] == 0


@pytest.mark.parametrize("assignment", sorted(SPECS))
def test_partial_submission_scores_exactly_the_expected_points(grade, assignment):
    rows, _ = grade(assignment)
    spec = SPECS[assignment]["partial"]
    assert rows.loc["partial", "score"] == spec["expected_points"]
    assert 0 < spec["expected_points"] < SPECS[assignment]["autograded_points"]


@pytest.mark.parametrize("assignment", sorted(SPECS))
def test_written_answers_are_left_for_manual_grading(grade, assignment):
    rows, _ = grade(assignment)
    assert bool(rows.loc["model-answer", "needs_manual_grade"]) == (SPECS[assignment]["manual_points"] > 0)


def visible_lines(html_text: str) -> set[str]:
    """The lines a learner reads in a feedback page: tags removed, entities decoded, spaces normalised."""
    text = html.unescape(re.sub(r"<[^>]+>", "", html_text))
    return {re.sub(r"\s+", " ", line.strip()) for line in text.splitlines()}


def hidden_lines(assignment: str) -> list[str]:
    """Lines of hidden tests (long enough to be specific) that never appear outside the hidden regions."""
    notebook = nbformat.read(REPO / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    inside, hidden, shown = False, [], set()
    for cell in notebook.cells:
        for line in cell.source.splitlines():
            stripped = re.sub(r"\s+", " ", line.strip())
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            elif inside:
                hidden.append(stripped)
            else:
                shown.add(stripped)
    return [line for line in hidden if len(line) > 25 and line not in shown]


@pytest.mark.parametrize("assignment", sorted(SPECS))
def test_feedback_shows_results_but_never_hidden_tests(course, grade, assignment):
    grade(assignment)
    course.nbgrader("generate_feedback", assignment, "--force", isolated=True)
    secrets = hidden_lines(assignment)
    assert secrets, f"{assignment} has no hidden tests to protect"
    for learner in ("model-answer", "blank", "partial"):
        page = visible_lines((course.root / "feedback" / learner / assignment / f"{assignment}.html").read_text())
        leaked = [line for line in secrets if line in page]
        assert leaked == [], f"{learner}'s feedback shows hidden test code: {leaked[:3]}"
        if learner == "blank":
            assert any("NotImplementedError" in line for line in page), "a failed test's error must still be shown"
