"""What the README says about stock `nbgrader autograde` with the course's configuration is true.

A learner who renames their notebook is the case that tells the two apart: `clientcare grade`
repairs learners' files before nbgrader opens them; stock autograde, with the same
nbgrader_config.py, may or may not (that depends on the course's configuration). Whichever
it does, the README must say so.
"""
import pytest

from clientcare.instructor.grading import grade_cohort
from clientcare.instructor.results import question_scores
from clientcare.instructor.synthetic import ALL, Learner, submit
from cohorts import copy_course
from notebooks import REPO

pytestmark = pytest.mark.slow

ASSIGNMENT = "fee-proposals"
README_SAYS_DIFFERENT = "under stock `nbgrader autograde` a renamed notebook is not graded and scores 0"
README_SAYS_SAME = "stock `nbgrader autograde` with this course's `nbgrader_config.py` makes the same repairs"


def renamed_submission(course, student: str) -> None:
    folder = submit(course, Learner(student, {ASSIGNMENT: ALL}), ASSIGNMENT)
    (folder / f"{ASSIGNMENT}.ipynb").rename(folder / f"{ASSIGNMENT} (1).ipynb")


def total(course, student: str) -> tuple[float, float]:
    """(score, maximum score) of the learner's autograded work."""
    scores = question_scores(course.db_url, ASSIGNMENT)
    mine = scores[(scores["student"] == student) & (scores["kind"] == "autograded test")]
    return float(mine["score"].sum()), float(mine["max_score"].sum())


@pytest.fixture(scope="module")
def graded(tmp_path_factory, released_template):
    course = copy_course(released_template, tmp_path_factory.mktemp("stock") / "course", assignments=[ASSIGNMENT])
    renamed_submission(course, "stock")
    renamed_submission(course, "ours")
    stock = course.nbgrader("autograde", ASSIGNMENT, "--student", "stock", "--force", isolated=True, check=False)
    outcomes = grade_cohort(course.root, ASSIGNMENT, workers=1, students=["ours"])
    return course, stock, outcomes


def test_clientcare_grade_repairs_a_renamed_notebook(graded):
    course, _, outcomes = graded
    assert [o.ok for o in outcomes] == [True]
    score, maximum = total(course, "ours")
    assert maximum > 0 and score == maximum


def test_readme_says_what_stock_nbgrader_autograde_does(graded):
    course, stock, _ = graded
    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    stock_score = total(course, "stock")[0] if stock.returncode == 0 else 0.0
    full = total(course, "ours")[1]
    if stock_score == full:
        assert README_SAYS_SAME in readme and README_SAYS_DIFFERENT not in readme
    else:
        assert stock_score == 0
        assert README_SAYS_DIFFERENT in readme and README_SAYS_SAME not in readme
