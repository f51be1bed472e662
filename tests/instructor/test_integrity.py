"""Issue 6: hostile and broken submissions get a fair grade and a named cause; the cohort is graded.

Every case is made here from the release notebook of `fee-proposals` (36 points:
rate-build-up 5, validate-resourcing 3, cost-lines 5, fee-proposal 9, scope-options 9,
staged-invoices 5) and the whole hostile cohort is graded in one run.
"""
import json
from pathlib import Path

import nbformat
import pytest

from clientcare.instructor.course import make_scratch_course
from clientcare.instructor.grading import grade_cohort
from clientcare.instructor.preprocessors.notes import notes_of
from clientcare.instructor.results import question_scores
from clientcare.instructor.submission_files import set_aside_folder
from clientcare.instructor.synthetic import ALL, make_submission
from cohorts import copy_course

pytestmark = pytest.mark.slow

A = "fee-proposals"
BUDGET = 15  # seconds per notebook in these tests (a loaded CI machine needs the margin)


def body(notebook, grade_id, code):
    """Put ``code`` at the start of the body of the function defined in answer cell ``grade_id``."""
    cell = cell_of(notebook, grade_id)
    head, rest = cell.source.split("\n", 1)
    cell.source = f"{head}\n    {code}\n{rest}"
    return notebook


def cell_of(notebook, grade_id):
    return next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def without(notebook, grade_id):
    notebook.cells = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") != grade_id]
    return notebook


def edit(notebook, target, **changes):
    cell = cell_of(notebook, target)
    for key, value in changes.items():
        if key == "cell_type":
            cell.cell_type = value
            if value == "markdown":
                cell.pop("outputs", None), cell.pop("execution_count", None)
            else:
                cell.outputs, cell.execution_count = [], None
        elif key == "source":
            cell.source = value
        else:
            cell.metadata["nbgrader"][key] = value
    return notebook


def insert_cell(notebook, code, index=2):
    notebook.cells.insert(index, nbformat.v4.new_code_cell(code))
    return notebook


def duplicate(notebook, grade_id):
    index = notebook.cells.index(cell_of(notebook, grade_id))
    notebook.cells.insert(index + 1, nbformat.from_dict(json.loads(json.dumps(notebook.cells[index]))))
    notebook.cells[index + 1]["id"] = "copy-of-" + grade_id
    return notebook


def move_to_end(notebook, grade_id):
    cell = cell_of(notebook, grade_id)
    notebook.cells.remove(cell)
    notebook.cells.append(cell)
    return notebook


def split(notebook, grade_id):
    """Split an answer cell in two, as JupyterLab's Split Cell does: the second part is a plain cell."""
    cell = cell_of(notebook, grade_id)
    cell.source = "VAT_RATE = 0.20  # the learner's own constant\n\n" + cell.source
    first, second = cell.source.split("\n\n", 1)
    cell.source = first
    notebook.cells.insert(notebook.cells.index(cell) + 1, nbformat.v4.new_code_cell(second))
    return notebook


VALIDATE_ONLY = ["validate-resourcing"]
FLOOD = "print('x\\n' * 2_000_000)\nfor _ in range(100_000): print('flood ' * 8)"  # two million lines
HUGE_IMAGE = ("import base64, os\nfrom IPython.display import display\n"
              "display({'image/png': base64.b64encode(os.urandom(6_000_000)).decode()}, raw=True)")

# learner id -> (what they solved, how the notebook is changed, exact points, words the note must contain)
CASES = {
    # the loop spends the whole budget, a hard cap: rate-build-up (5) and validate-resourcing (3) ran before it,
    # nothing runs after it
    "loops-forever": (ALL, lambda nb: body(nb, "cost-lines", "while True: pass"), 8, "time budget"),
    "sleeps-past-budget": (ALL, lambda nb: body(nb, "staged-invoices", "import time; time.sleep(600)"), 31,
                           "time budget"),
    "raises-systemexit": (ALL, lambda nb: body(nb, "staged-invoices", "raise SystemExit(3)"), 31, "SystemExit"),
    "kills-kernel": (ALL, lambda nb: body(nb, "staged-invoices", "import os; os._exit(1)"), 31,
                     "os._exit(1) is not allowed"),
    "aborts-kernel": (ALL, lambda nb: body(nb, "staged-invoices", "import os; os.abort()"), 31,
                      "os.abort() is not allowed"),
    "signals-kernel": (ALL, lambda nb: body(nb, "staged-invoices", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"),
                       31, "not allowed"),
    "exhausts-memory": (ALL, lambda nb: body(nb, "staged-invoices", "hog = bytearray(8 * 1024 ** 3)"), 31,
                        "ran out of memory"),
    "deletes-a-test": (ALL, lambda nb: without(nb, "test-cost-lines-values"), 36, "'test-cost-lines-values' was missing"),
    "deletes-an-answer": (ALL, lambda nb: without(nb, "staged-invoices"), 31, "'staged-invoices' was missing"),
    "duplicates-an-answer": (ALL, lambda nb: duplicate(nb, "cost-lines"), 36, "appeared more than once"),
    "duplicates-a-test": (VALIDATE_ONLY, lambda nb: duplicate(nb, "test-validate-hours"), 3, ""),
    "reorders-cells": (ALL, lambda nb: move_to_end(nb, "fee-proposal"), 36, "moved"),
    "splits-an-answer": (ALL, lambda nb: split(nb, "cost-lines"), 36, ""),
    "edits-tests-to-pass": (VALIDATE_ONLY, lambda nb: edit(nb, "test-cost-lines-values", source="pass"), 3,
                            "'test-cost-lines-values' had been changed"),
    "empties-a-test": (VALIDATE_ONLY, lambda nb: edit(nb, "test-fee-proposal-lines", source=""), 3,
                       "'test-fee-proposal-lines' had been changed"),
    "renames-a-test-id": (VALIDATE_ONLY, lambda nb: edit(nb, "test-cost-lines-table", grade_id="free-points"), 3,
                          "'test-cost-lines-table' was missing"),
    "inflates-points": (VALIDATE_ONLY, lambda nb: edit(nb, "test-validate-valid", points=100), 3, ""),
    "edits-checksum": (VALIDATE_ONLY, lambda nb: edit(nb, "test-cost-lines-values", checksum="0" * 32), 3, ""),
    "test-to-markdown": (VALIDATE_ONLY, lambda nb: edit(nb, "test-cost-lines-values", cell_type="markdown"), 3,
                         "'test-cost-lines-values' had been changed"),
    "answer-to-markdown": (ALL, lambda nb: edit(nb, "staged-invoices", cell_type="markdown"), 36,
                           "changed to markdown"),
    "renames-an-answer-id": (ALL, lambda nb: edit(nb, "cost-lines", grade_id="my-costs"), 36, "was changed"),
    "floods-output": (ALL, lambda nb: insert_cell(nb, FLOOD), 36, ""),
    "huge-image": (ALL, lambda nb: insert_cell(nb, HUGE_IMAGE), 36, ""),
    "zoë o'brien-smith": (ALL, lambda nb: nb, 36, ""),
}

# learner id -> (files written instead of a notebook, exact points, words the note must contain)
FILE_CASES = {
    "not-json": ({f"{A}.ipynb": '{"cells": [ this is not json'}, 0, "not valid JSON"),
    "empty-file": ({f"{A}.ipynb": ""}, 0, "it is empty"),
    "renamed-notebook": ({"my work (final).ipynb": None}, 36, "submitted as 'my work (final).ipynb'"),
    "missing-notebook": ({"notes.txt": "I ran out of time."}, 0, "No notebook"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory, released_template):
    course = copy_course(released_template, tmp_path_factory.mktemp("hostile") / "course", assignments=[A])
    source, release = course.root / "source" / A / f"{A}.ipynb", course.root / "release" / A / f"{A}.ipynb"
    for student, (solved, change, _, _) in CASES.items():
        folder = course.root / "submitted" / student / A
        folder.mkdir(parents=True)
        nbformat.write(change(make_submission(source, release, solved)), folder / f"{A}.ipynb")
    for student, (files, _, _) in FILE_CASES.items():
        folder = course.root / "submitted" / student / A
        folder.mkdir(parents=True)
        for name, text in files.items():
            if text is None:
                nbformat.write(make_submission(source, release, ALL), folder / name)
            else:
                (folder / name).write_text(text)
    outcomes = {o.student: o for o in grade_cohort(course.root, A, workers=2, notebook_budget=BUDGET)}
    scores = question_scores(course.db_url, A).groupby("student")["score"].sum().to_dict()
    return course, outcomes, scores


def feedback_notes(course, student) -> str:
    """The notes the learner's feedback shows (carried in the graded notebook's metadata)."""
    notebook = nbformat.read(course.root / "autograded" / student / A / f"{A}.ipynb", as_version=4)
    return "\n".join(notes_of(notebook))


def test_whole_hostile_cohort_is_graded(graded):
    _, outcomes, scores = graded
    assert set(outcomes) == set(CASES) | set(FILE_CASES)
    assert [s for s, o in outcomes.items() if not o.ok] == []
    assert set(scores) == set(CASES) | set(FILE_CASES)


@pytest.mark.parametrize("student", sorted(CASES))
def test_hostile_notebook_gets_exactly_its_points_and_a_named_cause(graded, student):
    course, outcomes, scores = graded
    _, _, points, cause = CASES[student]
    assert scores[student] == points
    if cause:
        assert cause in outcomes[student].message, outcomes[student].message
        if student.startswith(("deletes", "duplicates", "reorders", "edits", "empties", "renames", "test-to",
                               "answer-to")):
            assert cause in feedback_notes(course, student), "the learner's feedback must name the cause too"


@pytest.mark.parametrize("student", sorted(FILE_CASES))
def test_broken_file_gets_a_fair_grade_and_nothing_is_lost(graded, student):
    course, outcomes, scores = graded
    files, points, cause = FILE_CASES[student]
    assert scores[student] == points
    assert cause in outcomes[student].message and cause in feedback_notes(course, student)
    folder = course.root / "submitted" / student / A
    for name, text in files.items():
        kept = [set_aside_folder(course.root, student, A) / name, folder / name]  # set aside if it was replaced
        assert any(p.exists() for p in kept), f"{name} was lost"
        if text:
            assert next(p for p in kept if p.exists()).read_text() == text


def test_output_floods_are_cut_down(graded):
    course, _, _ = graded
    for student in ("floods-output", "huge-image"):
        graded_nb = course.root / "autograded" / student / A / f"{A}.ipynb"
        assert graded_nb.stat().st_size < 1_000_000, f"{student}: {graded_nb.stat().st_size:,} bytes kept"
    text = (course.root / "autograded" / "huge-image" / A / f"{A}.ipynb").read_text()
    assert "image/png output of" in text and "removed" in text


def test_grading_an_assignment_the_gradebook_does_not_know_says_so_clearly(tmp_path, capsys):
    """A common instructor mistake (no `generate_assignment` yet) is one clear message, not a traceback."""
    import shutil

    from clientcare.cli import main

    course = make_scratch_course(tmp_path / "course")
    folder = course.root / "submitted" / "ada" / A
    folder.mkdir(parents=True)
    shutil.copy(Path(__file__).resolve().parents[2] / "release" / A / f"{A}.ipynb", folder)
    assert main(["grade", A, "--course", str(course.root)]) == 1
    error = capsys.readouterr().err
    assert f"the gradebook has no assignment '{A}'" in error and f"clientcare release {A}" in error
    assert "Traceback" not in error
