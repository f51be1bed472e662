"""The late policy applied in real grading: `clientcare release` puts the due date in the gradebook,
stock `nbgrader autograde` (the course's configuration) takes the policy's penalty, the learner's
feedback shows it and the LMS export subtracts it."""
import csv
from datetime import timedelta

import pytest
from nbgrader.api import Gradebook

from clientcare import cli
from clientcare.instructor.course import make_scratch_course
from clientcare.instructor.synthetic import ALL, Learner, submit
from clientcare.schedule import load_schedule

from notebooks import REPO

pytestmark = pytest.mark.slow  # grades two submissions with nbgrader (about a minute)

ASSIGNMENT = "confidentiality"  # 28 autograded points, no written answers


def test_a_late_submission_loses_the_policys_share_in_grading_feedback_and_export(tmp_path):
    course = make_scratch_course(tmp_path / "course", REPO)
    assert cli.main(["release", ASSIGNMENT, "--course", str(course.root)]) == 0  # due date into the gradebook
    due = load_schedule().due_utc(ASSIGNMENT)
    with Gradebook(course.db_url) as gradebook:
        assert gradebook.find_assignment(ASSIGNMENT).duedate == due
    for learner, when in (("prompt", due - timedelta(hours=1)), ("tardy", due + timedelta(hours=30))):
        submit(course, Learner(learner, {ASSIGNMENT: ALL}, {ASSIGNMENT: when}), ASSIGNMENT)
    course.nbgrader("autograde", ASSIGNMENT, "--force", isolated=True)
    with Gradebook(course.db_url) as gradebook:
        prompt, tardy = (gradebook.find_submission(ASSIGNMENT, s) for s in ("prompt", "tardy"))
        assert prompt.score == tardy.score == 28
        assert prompt.late_submission_penalty == 0
        assert tardy.late_submission_penalty == pytest.approx(2.8)  # two days (or part) late: 2 x 5 % of 28
    course.nbgrader("generate_feedback", ASSIGNMENT, "--force", isolated=True)
    feedback = (course.root / "feedback" / "tardy" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text(encoding="utf-8")
    assert "Late submission penalty: -2.8 points" in feedback and "25.2 of 28.0 points" in feedback
    on_time = (course.root / "feedback" / "prompt" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text(encoding="utf-8")
    assert "Late submission penalty" not in on_time
    assert cli.main(["export", "--course", str(course.root)]) == 0
    with open(course.root / "export" / "moodle-grades.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    by_learner = {row["First name"] or row["ID number"] or row["Email address"] or str(n): row
                  for n, row in enumerate(rows)}
    scores = sorted(float(row[ASSIGNMENT]) for row in by_learner.values())
    penalties = sorted(float(row[f"{ASSIGNMENT}: late penalty"]) for row in by_learner.values())
    assert scores == [25.2, 28.0] and penalties == [0.0, 2.8]
