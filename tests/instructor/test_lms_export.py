"""Grades into an LMS, with the course's late policy: Canvas's and Moodle's import CSVs parsed back
against the gradebook (every learner, every assignment, penalties applied), and the exports, read in
bulk, equal to reading nbgrader's API learner by learner (tests/nbgrader_reference.py).

The gradebook is synthetic (nbgrader's API, no kernels); the penalties are assigned by
nbgrader's own AssignLatePenalties with the course's plugin, as `nbgrader autograde` does.
"""
import csv
import io
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.preprocessors import AssignLatePenalties
from traitlets.config import Config

from clientcare import cli
from clientcare.instructor.late_policy import CourseLatePolicy
from clientcare.instructor.lms import CanvasExport, MoodleExport, gradebook_results
from clientcare.instructor.new_gradebook import create_gradebook
from clientcare.instructor.synthetic_gradebook import build_gradebook
from clientcare.schedule import load_schedule

from nbgrader_reference import reference_lms_results, statements
from notebooks import REPO

ASSIGNMENTS = {"confidentiality": {"share-check": 4.0, "retention": 6.0},
               "fee-proposals": {"vat": 10.0, "lines": 20.0}}
ROLL = [  # id, first, last, email, LMS id
    ("ada", "Ada", "Quarrie", "ada@learners.example.org", "1001"),
    ("ben", "Ben", "Tolliver", "ben@learners.example.org", ""),
    ("cai", "Cai", "Marrow", "", "1003"),
    ("dee", "Dee", "Ashgrove", "dee@learners.example.org", "1004"),
]
# (student, assignment) -> (hours after the due time, or None for on time; fraction of each question earned)
WORK = {
    ("ada", "confidentiality"): (None, 1.0),
    ("ada", "fee-proposals"): (0.2, 1.0),    # 12 minutes late: within the grace period
    ("ben", "confidentiality"): (30, 0.5),    # 2 days (one and a part) late: 10 % off
    ("ben", "fee-proposals"): (None, 0.5),
    ("cai", "fee-proposals"): (200, 1.0),     # more than 5 days late: 0
    ("dee", "confidentiality"): (1, 1.0),     # 1 hour late: one day's 5 %
}                                            # cai has no confidentiality and dee no fee-proposals: 0


def expected_penalty(raw, hours):
    return load_schedule().policy.penalty(raw, hours * 3600) if hours else 0.0


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lms")
    url = f"sqlite:///{folder / 'gradebook.db'}"
    create_gradebook(url)
    schedule = load_schedule()
    with Gradebook(url) as gb:
        for name, questions in ASSIGNMENTS.items():
            gb.add_assignment(name, duedate=schedule.due_utc(name))
            gb.add_notebook(name, name)
            for question, points in questions.items():
                gb.add_grade_cell(question, name, name, max_score=points, cell_type="code")
        for student, first, last, email, lms in ROLL:
            gb.add_student(student, first_name=first, last_name=last, email=email or None, lms_user_id=lms or None)
        for (student, name), (hours, share) in WORK.items():
            late = timedelta(hours=hours or 0) if hours else -timedelta(hours=3)
            gb.add_submission(name, student, timestamp=schedule.due_utc(name) + late)
            for question, points in ASSIGNMENTS[name].items():
                gb.find_grade(question, name, name, student).auto_score = points * share
        gb.db.commit()
    config = Config({"AssignLatePenalties": {"plugin_class": CourseLatePolicy}})
    for (student, name) in WORK:  # nbgrader's own late-penalty step, with the course's policy
        resources = {"nbgrader": {"notebook": name, "assignment": name, "student": student, "db_url": url}}
        AssignLatePenalties(config=config).preprocess(nbformat.v4.new_notebook(), resources)
    return url, folder


def read(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_the_penalties_are_the_late_policy_applied_by_nbgrader(gradebook):
    url, _ = gradebook
    with Gradebook(url) as gb:
        penalties = {(s.student.id, s.assignment.name): s.late_submission_penalty
                     for a in gb.assignments for s in gb.assignment_submissions(a.name)}
    assert penalties[("ada", "fee-proposals")] == 0  # within the grace period
    assert penalties[("ben", "confidentiality")] == pytest.approx(0.5)  # 10 % of 5 points
    assert penalties[("dee", "confidentiality")] == pytest.approx(0.5)  # 5 % of 10 points
    assert penalties[("cai", "fee-proposals")] == pytest.approx(30)  # all of it
    assert penalties[("ben", "fee-proposals")] == 0  # on time


def parsed_canvas(rows):
    header, possible, *learners = rows
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert possible[0] == "Points Possible"
    return header, dict(zip(header, possible)), {row[2]: dict(zip(header, row)) for row in learners}


def check_against_gradebook(table, url, key):
    """Every learner on the roll, every assignment: score after penalty; penalty and questions as graded."""
    assert sorted(table) == sorted(student for student, *_ in ROLL)
    for (student, first, last, email, lms) in ROLL:
        row = table[key(student, email, lms)]
        for name, questions in ASSIGNMENTS.items():
            hours, share = WORK.get((student, name), (None, 0.0))
            raw = sum(questions.values()) * share if (student, name) in WORK else 0.0
            penalty = expected_penalty(raw, hours)
            assert float(row[name]) == pytest.approx(raw - penalty), (student, name)
            assert float(row[f"{name}: late penalty"]) == pytest.approx(penalty), (student, name)
            for question, points in questions.items():
                earned = points * share if (student, name) in WORK else 0.0
                assert float(row[f"{name}: {question}"]) == pytest.approx(earned), (student, name, question)


def test_nbgrader_export_writes_canvas_gradebook_import(gradebook, tmp_path):
    url, _ = gradebook
    (tmp_path / "nbgrader_config.py").write_text(f"c = get_config()\nc.CourseDirectory.db_url = {url!r}\n")
    out = tmp_path / "canvas.csv"
    run = subprocess.run([sys.executable, "-m", "nbgrader", "export", "--exporter",
                          "clientcare.instructor.lms.CanvasExport", "--to", str(out)],
                         cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    header, possible, learners = parsed_canvas(read(out))
    assert possible["fee-proposals"] == "30" and possible["fee-proposals: vat"] == "10"
    assert learners["ada"]["ID"] == "1001" and learners["ada"]["SIS Login ID"] == "ada@learners.example.org"
    assert learners["ada"]["Student"] == "Quarrie, Ada"
    check_against_gradebook({sid: row for sid, row in learners.items()}, url, lambda s, e, l: s)


def test_clientcare_export_writes_moodle_grade_import_too(gradebook, tmp_path, capsys):
    url, _ = gradebook
    assert cli.main(["export", "--course", str(REPO), "--db-url", url, "--out", str(tmp_path)]) == 0
    assert (tmp_path / "canvas-grades.csv").is_file()
    header, *rows = read(tmp_path / "moodle-grades.csv")
    assert header[:4] == ["First name", "Last name", "ID number", "Email address"]
    by_email = {row[3] or f"lms:{row[2]}": dict(zip(header, row)) for row in rows}
    assert by_email["lms:1003"]["First name"] == "Cai" and by_email["lms:1003"]["Email address"] == ""
    table = {row["Email address"].split("@")[0] or "cai": row for row in by_email.values()}
    check_against_gradebook(table, url, lambda s, e, l: s)
    assert "warning" not in capsys.readouterr().err  # every learner has an LMS id or an email


def test_a_learner_the_lms_cannot_match_is_named(gradebook, tmp_path, capsys):
    url, _ = gradebook
    with Gradebook(url) as gb:
        gb.add_student("eve")  # no email, no LMS id
    try:
        assert cli.main(["export", "--course", str(REPO), "--db-url", url, "--out", str(tmp_path)]) == 0
        err = capsys.readouterr().err
        assert "neither an LMS id nor an email" in err and "eve" in err and "nbgrader db student import" in err
    finally:
        with Gradebook(url) as gb:
            gb.remove_student("eve")


def assign_late_penalties(url):
    """nbgrader's own late-penalty step, with the course's policy, on every submitted notebook (as autograde does)."""
    config = Config({"AssignLatePenalties": {"plugin_class": CourseLatePolicy}})
    with Gradebook(url) as gb:
        notebooks = [(sub.student.id, a.name, nb.name) for a in gb.assignments
                     for sub in gb.assignment_submissions(a.name) for nb in sub.notebooks]
    for student, assignment, notebook in notebooks:
        resources = {"nbgrader": {"notebook": notebook, "assignment": assignment, "student": student, "db_url": url}}
        AssignLatePenalties(config=config).preprocess(nbformat.v4.new_notebook(), resources)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """A synthetic cohort with what the exports must get right: late penalties assigned by nbgrader,
    missing submissions, learners with an LMS id and no email and with neither, a task cell, written
    answers still waiting for a grader, an assignment of two notebooks whose grade cells are not in
    name order, and a submission collected but not graded yet (no scores at all)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('lms-bulk') / 'gradebook.db'}"
    build_gradebook(url, learners=24, assignments=3, tests=4, seed=11)
    with Gradebook(url) as gb:
        gb.add_student("zz-no-contact")  # no name, no email, no LMS id, no submissions
        gb.update_or_create_student("learner-0002", lms_user_id="2002", email=None)
        due = gb.find_assignment("assignment-3").duedate
        gb.add_assignment("two-parts", duedate=due)
        for notebook, cells in (("part-b", (("q2", 3.0), ("q0", 1.5))), ("part-a", (("q1", 2.0),))):
            gb.add_notebook(notebook, "two-parts")
            for cell, points in cells:
                gb.add_grade_cell(cell, notebook, "two-parts", max_score=points, cell_type="code")
        for student, hours in (("learner-0001", -2), ("learner-0003", 30)):
            gb.add_submission("two-parts", student, timestamp=due + timedelta(hours=hours))
            gb.find_grade("q1", "part-a", "two-parts", student).auto_score = 1.25
            gb.find_grade("q2", "part-b", "two-parts", student).auto_score = 3.0
        gb.add_submission("two-parts", "learner-0005", timestamp=due)  # collected, not graded yet: no scores
        gb.db.commit()
    assign_late_penalties(url)
    return url


def csv_text(rows):
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def test_the_exports_equal_nbgraders_api_learner_by_learner(cohort, tmp_path):
    with Gradebook(cohort) as gb:
        reference = reference_lms_results(gb)
        assert gradebook_results(gb) == reference
        chosen = (["learner-0003", "zz-no-contact", "learner-0002"], ["two-parts", "assignment-1"])
        assert gradebook_results(gb, *chosen) == reference_lms_results(gb, *chosen)
        for plugin in (CanvasExport, MoodleExport):
            for per_question in (True, False):
                path = tmp_path / f"{plugin.__name__}-{per_question}.csv"
                plugin(to=str(path), per_question=per_question).export(gb)
                expected = csv_text(plugin(per_question=per_question).rows(reference))
                assert path.read_bytes() == expected.encode("utf-8"), (plugin.__name__, per_question)
    # the cohort has what the comparison must cover
    results = [(learner, a) for learner in reference for a in learner.assignments]
    assert any(a.penalty > 0 and a.score == round(a.raw - a.penalty, 2) for _, a in results)
    assert any(not a.submitted for _, a in results)
    by_id = {learner.id: learner for learner in reference}
    assert not (by_id["zz-no-contact"].email or by_id["zz-no-contact"].lms_user_id)
    assert by_id["learner-0002"].lms_user_id == "2002" and by_id["learner-0002"].email == ""
    two_parts = next(a for a in by_id["learner-0003"].assignments if a.name == "two-parts")
    assert [q for q, _ in two_parts.questions] == ["part-a/q1", "part-b/q2", "part-b/q0"]
    assert two_parts.by_question == {"part-a/q1": 1.25, "part-b/q2": 3.0, "part-b/q0": 0.0}
    policy = load_schedule().policy  # 30 hours late: each notebook's penalty, summed
    assert two_parts.penalty == pytest.approx(policy.penalty(1.25, 30 * 3600) + policy.penalty(3.0, 30 * 3600))
    assert policy.penalty(1.25, 30 * 3600) > 0
    assert any(q == "task-1" for a in by_id["learner-0001"].assignments for q in a.by_question)
    ungraded = next(a for a in by_id["learner-0005"].assignments if a.name == "two-parts")
    assert ungraded.submitted and ungraded.raw == 0 and set(ungraded.by_question.values()) == {0.0}


def test_the_exports_read_the_same_number_of_queries_whatever_the_cohorts_size(cohort, tmp_path):
    small = tmp_path / "small.db"  # the same course with two learners left on the roll
    shutil.copy(cohort.removeprefix("sqlite:///"), small)
    with Gradebook(f"sqlite:///{small}") as gb:
        for student in [s.id for s in gb.students][2:]:
            gb.remove_student(student)
    counts = {}
    for url in (cohort, f"sqlite:///{small}"):
        with Gradebook(url) as gb:
            counts[url] = (statements(gradebook_results, gb), statements(reference_lms_results, gb), len(gb.students))
    (bulk, learner_by_learner, learners), (small_bulk, _, small_learners) = counts.values()
    assert (learners, small_learners) == (25, 2)
    assert bulk == small_bulk
    assert learner_by_learner > learners * 3  # nbgrader's API: one query or more per learner and assignment
