"""Issue 16: the grade tables read in bulk are exactly those nbgrader's own API gives, learner by learner.

The reference (tests/nbgrader_reference.py) is how `results` read the gradebook before: walking
`Gradebook.assignment_submissions` and each submission's notebooks and grades through nbgrader's
ORM. The synthetic gradebook has what those tables must get right: several assignments, a task
cell, written answers waiting for a grader or graded with extra credit, late submissions, an
extension, and learners on the roll who never submitted.
"""
import pandas as pd
import pytest
from nbgrader.api import Gradebook

from clientcare.instructor import results
from clientcare.instructor.synthetic_gradebook import build_gradebook
from nbgrader_reference import (reference_assignment_grades, reference_question_scores,
                                reference_submission_scores, statements)


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('bulk') / 'gradebook.db'}"
    counts = build_gradebook(url, learners=40, assignments=3, tests=5, seed=7)
    with Gradebook(url) as book:
        book.add_student("zz-never-submitted")
        book.add_assignment("no-submissions-yet")  # no due date, no submissions
        book.add_notebook("no-submissions-yet", "no-submissions-yet")
        book.add_grade_cell("only-test", "no-submissions-yet", "no-submissions-yet", max_score=2, cell_type="code")
        book.grant_extension("assignment-2", "learner-0003", days=3)
    assert counts["submissions"] < 40 * 3  # some learners did not submit
    return url


def test_question_scores_equal_nbgraders(gradebook):
    ours = results.question_scores(gradebook)
    assert set(ours["kind"]) == {"autograded test", "written answer"} and ours["needs_manual_grade"].any()
    assert (ours["question"] == "task-1").any() and ours["manual_score"].notna().any()
    pd.testing.assert_frame_equal(ours, reference_question_scores(gradebook))
    pd.testing.assert_frame_equal(results.question_scores(gradebook, "assignment-2"),
                                  reference_question_scores(gradebook, "assignment-2"))


@pytest.mark.parametrize("assignment", ["assignment-1", "assignment-3", "no-submissions-yet", "not-in-gradebook"])
def test_submission_scores_equal_nbgraders(gradebook, assignment):
    pd.testing.assert_frame_equal(results.submission_scores(gradebook, assignment),
                                  reference_submission_scores(gradebook, assignment))


def test_assignment_grades_equal_nbgraders(gradebook):
    ours = results.assignment_grades(gradebook)
    assert ours["late"].eq(True).any() and (~ours["submitted"]).any()
    assert ours["student"].nunique() == 41 and ours["assignment"].nunique() == 4
    pd.testing.assert_frame_equal(ours, reference_assignment_grades(gradebook))


def test_the_number_of_queries_does_not_grow_with_the_cohort(gradebook, tmp_path):
    small = f"sqlite:///{tmp_path / 'small.db'}"
    build_gradebook(small, learners=3, assignments=3, tests=5, seed=7)
    for read in (results.assignment_grades, results.question_scores):
        assert statements(read, gradebook) == statements(read, small)
    assert statements(results.submission_scores, gradebook, "assignment-1") == \
        statements(results.submission_scores, small, "assignment-1")
    # nbgrader's API, learner by learner, sends more for more learners
    assert statements(reference_question_scores, gradebook) > 3 * statements(reference_question_scores, small)
