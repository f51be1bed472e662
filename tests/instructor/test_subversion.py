"""Issue 6: submissions that try to pass tests without solving them earn nothing for it.

Fakes (objects whose == is always true, subclasses of DataFrame/list/str/... that
compare equal to anything) are tried on every assignment; tampering with the
test helpers, the setup cell's names, builtins or pandas, reading the course's
source or gradebook, and looking for the grader are tried on fee-proposals.
"""

import nbformat
import pytest

from attackers import attacker_submission
from clientcare.instructor.course import Course
from clientcare.instructor.grading import grade_cohort
from clientcare.instructor.results import question_scores
from clientcare.instructor.synthetic import ALL, make_submission
from cohorts import copy_course

from notebooks import REPO

pytestmark = pytest.mark.slow

ASSIGNMENTS = Course(REPO).assignments()
A = "fee-proposals"


def with_extra_cell(notebook, code, after="validate-resourcing"):
    """The learner adds a cell of their own right after an answer cell."""
    index = next(i for i, c in enumerate(notebook.cells)
                 if c.metadata.get("nbgrader", {}).get("grade_id") == after)
    notebook.cells.insert(index + 1, nbformat.v4.new_code_cell(code))
    return notebook


def in_function(notebook, grade_id, code):
    cell = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    head, rest = cell.source.split("\n", 1)
    cell.source = f"{head}\n    {code}\n{rest}"
    return notebook


PATCH_HELPERS = """
import math, builtins, pandas as pd
pd.testing.assert_frame_equal = lambda *a, **k: None
pd.DataFrame.equals = lambda self, other: True
math.isclose = lambda *a, **k: True
builtins.sorted = lambda *a, **k: []
trusted = lambda result: result
RATE_CARD = {}
len = lambda x: 0
"""
PATCH_DURING_TEST = "import math; math.isclose = lambda *a, **k: True"
DETECT_GRADER = ("import os\n    if not (any(k.startswith(('NBGRADER', 'CLIENTCARE', 'JUPYTERHUB')) for k in os.environ)"
                 " or 'autograded' in os.getcwd() or 'submitted' in os.getcwd()):\n"
                 "        raise RuntimeError('only behaves when graded')")

# learner -> (answers solved, change, exact points, words naming the cause in the instructor's log)
CASES = {
    # blank answers plus every trick on the helpers: nothing is earned by the tricks
    "patches-helpers": ([], lambda nb: with_extra_cell(nb, PATCH_HELPERS), 0, "had replaced"),
    # the model answer plus the same tricks: still full marks (tricks are undone, not punished)
    "patches-but-correct": (ALL, lambda nb: with_extra_cell(nb, PATCH_HELPERS), 36, "had replaced"),
    # staged_invoices replaces math.isclose in its own kernel each time it runs: the tests run outside that
    # kernel and the function itself does not use it, so nothing is lost (the patch is undone and named)
    "patches-during-test": (ALL, lambda nb: in_function(nb, "staged-invoices", PATCH_DURING_TEST), 36,
                            "had replaced"),
    "reads-source": (ALL, lambda nb: in_function(
        nb, "staged-invoices", "open(SOURCE).read()"), 31, "not allowed"),
    "reads-gradebook": (ALL, lambda nb: with_extra_cell(nb, "import sqlite3\nsqlite3.connect(GRADEBOOK).execute('select 1')"),
                        36, "not allowed"),
    # correct only when it can tell it is being graded: it cannot, so it earns nothing for that part
    "detects-grader": (ALL, lambda nb: in_function(nb, "staged-invoices", DETECT_GRADER), 31, ""),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory, released_template):
    course = copy_course(released_template, tmp_path_factory.mktemp("subversion") / "course", assignments=ASSIGNMENTS)
    secrets = {"SOURCE": str(course.root / "source" / A / f"{A}.ipynb"),
               "GRADEBOOK": str(course.root / "gradebook.db")}
    for assignment in ASSIGNMENTS:
        source = course.root / "source" / assignment / f"{assignment}.ipynb"
        release = course.root / "release" / assignment / f"{assignment}.ipynb"
        students = {f"{kind}": attacker_submission(source, release, kind) for kind in ("always_equal", "subclass")}
        if assignment == A:
            for student, (solved, change, _, _) in CASES.items():
                notebook = change(make_submission(source, release, solved))
                for cell in notebook.cells:  # the paths a learner would have to guess
                    for name, value in secrets.items():
                        cell.source = cell.source.replace(f"open({name})", f"open({value!r})") \
                                                 .replace(f"connect({name})", f"connect({value!r})")
                students[student] = notebook
        for student, notebook in students.items():
            folder = course.root / "submitted" / student / assignment
            folder.mkdir(parents=True, exist_ok=True)
            for extra in (course.root / "release" / assignment).iterdir():
                if extra.is_dir():
                    import shutil
                    shutil.copytree(extra, folder / extra.name, dirs_exist_ok=True)
            nbformat.write(notebook, folder / f"{assignment}.ipynb")
    outcomes = {a: {o.student: o for o in grade_cohort(course.root, a, workers=2, notebook_budget=60)}
                for a in ASSIGNMENTS}
    scores = question_scores(course.db_url).groupby(["assignment", "student"])["score"].sum().to_dict()
    return course, outcomes, scores


@pytest.mark.parametrize("kind", ["always_equal", "subclass"])
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_fake_results_score_nothing(graded, assignment, kind):
    _, outcomes, scores = graded
    assert outcomes[assignment][kind].ok
    assert scores[(assignment, kind)] == 0


@pytest.mark.parametrize("student", sorted(CASES))
def test_tampering_earns_nothing_and_is_named(graded, student):
    _, outcomes, scores = graded
    _, _, points, cause = CASES[student]
    assert scores[(A, student)] == points
    if cause:
        assert cause in outcomes[A][student].message, outcomes[A][student].message


def test_grading_kernel_shows_no_sign_of_the_grader(graded):
    course, _, _ = graded
    notebook = nbformat.read(course.root / "autograded" / "detects-grader" / A / f"{A}.ipynb", as_version=4)
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert any("only behaves when graded" in o.evalue for o in errors)
