"""Parallel grading against a PostgreSQL gradebook, as a cohort on JupyterHub would use.

A throwaway PostgreSQL server (the machine's own binaries, run as the `postgres` user, listening
only on a socket in a temporary folder) is started by tests/conftest.py (``postgres_url``).
"""

import pytest

from clientcare.cli import main
from clientcare.instructor.course import make_scratch_course
from clientcare.instructor.grading import grade_cohort
from clientcare.instructor.results import question_scores
from clientcare.instructor.synthetic import ALL, Learner, submit
from notebooks import REPO

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ASSIGNMENT = "fee-proposals"


def test_parallel_grading_with_a_postgresql_gradebook(postgres_url, tmp_path):
    course = make_scratch_course(tmp_path / "course", REPO, db_url=postgres_url)
    assert course.db_url == postgres_url
    course.nbgrader("generate_assignment", ASSIGNMENT, "--force", isolated=True)
    cohort = [Learner("ada", {ASSIGNMENT: ALL}), Learner("ben", {}),
              Learner("chloe", {ASSIGNMENT: ["validate-resourcing", "cost-lines"]})]
    for learner in cohort:
        submit(course, learner, ASSIGNMENT)
    outcomes = grade_cohort(course.root, ASSIGNMENT, workers=2)
    assert all(o.ok for o in outcomes), [o.message for o in outcomes]
    totals = question_scores(postgres_url, ASSIGNMENT).groupby("student")["score"].sum().to_dict()
    assert totals == {"ada": 36, "ben": 0, "chloe": 8}
    assert not (course.root / "gradebook.db").exists(), "grades must go to PostgreSQL, not SQLite"
    # the report reads the course's PostgreSQL gradebook from its configuration, no environment variable
    assert main(["report", "--course", str(course.root)]) == 0
    html = (course.root / "reports" / "cohort-report.html").read_text()
    assert "3 learners, 1 assignments" in html
    assert not (course.root / "gradebook.db").exists()
