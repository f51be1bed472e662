"""Issue 16: `clientcare grade --student ID` and `--new-only` grade only the submissions asked for.

Re-running after late submissions grades only those: a learner who submitted again after the last
autograde is graded again (and gets the new work's grade); everyone else is left as graded.
"""
import os
from datetime import datetime, timedelta

import pytest

from clientcare.cli import main
from clientcare.instructor.incremental import is_new, named_students
from clientcare.instructor.results import submission_scores
from clientcare.instructor.synthetic import ALL, Learner, submit
from cohorts import copy_course

pytestmark = pytest.mark.slow

A = "fee-proposals"
FIRST = datetime(2026, 12, 1, 9, 0)


def scores(course) -> dict[str, float]:
    return submission_scores(course.db_url, A).set_index("student")["score"].to_dict()


@pytest.fixture(scope="module")
def course(tmp_path_factory, released_template):
    course = copy_course(released_template, tmp_path_factory.mktemp("incremental") / "course", assignments=[A])
    submit(course, Learner("ada", {A: ["validate-resourcing"]}, {A: FIRST}), A)
    submit(course, Learner("ben", {}, {A: FIRST}), A)
    return course


def test_student_grades_only_the_named_learners_and_new_only_then_the_rest(course, capsys):
    assert main(["grade", A, "--course", str(course.root), "--student", "ada", "--student", "ada",
                 "--workers", "1"]) == 0
    assert "Graded 1 of 1 submissions" in capsys.readouterr().out
    assert scores(course) == {"ada": 3}  # ben was not graded
    assert main(["grade", A, "--course", str(course.root), "--new-only", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "1 of 2 submission(s) of fee-proposals are new" in out and "Graded 1 of 1 submissions" in out
    assert scores(course) == {"ada": 3, "ben": 0}
    assert main(["grade", A, "--course", str(course.root), "--new-only"]) == 0
    assert "Nothing new to grade: all 2 submission(s)" in capsys.readouterr().out


def test_a_resubmission_after_the_last_autograde_is_the_only_one_graded_again(course, capsys):
    main(["grade", A, "--course", str(course.root), "--new-only", "--workers", "1"])  # whatever is left
    capsys.readouterr()
    assert not is_new(course.root, A, "ada") and not is_new(course.root, A, "ben")
    # ben hands in the whole assignment later; ada's autograded notebook is left untouched
    ada_graded = course.root / "autograded" / "ada" / A / f"{A}.ipynb"
    ada_written = ada_graded.stat().st_mtime_ns
    submit(course, Learner("ben", {A: ALL}, {A: FIRST + timedelta(days=1)}), A)
    assert is_new(course.root, A, "ben") and not is_new(course.root, A, "ada")
    assert main(["grade", A, "--course", str(course.root), "--new-only", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "1 of 2 submission(s) of fee-proposals are new" in out and "Graded 1 of 1 submissions" in out
    assert scores(course) == {"ada": 3, "ben": 36}
    assert ada_graded.stat().st_mtime_ns == ada_written, "ada was graded again"


def test_a_submission_without_timestamps_is_new_when_a_file_arrived_after_grading(tmp_path):
    submitted, autograded = tmp_path / "submitted" / "cy" / A, tmp_path / "autograded" / "cy" / A
    autograded.mkdir(parents=True)
    (autograded / f"{A}.ipynb").write_text("{}")
    assert is_new(tmp_path, A, "never-graded")
    submitted.mkdir(parents=True)
    (submitted / f"{A}.ipynb").write_text("{}")
    graded_at = (autograded / f"{A}.ipynb").stat().st_mtime
    os.utime(autograded / f"{A}.ipynb", (graded_at + 60, graded_at + 60))  # graded after it arrived
    assert not is_new(tmp_path, A, "cy")
    os.utime(autograded / f"{A}.ipynb", (graded_at - 60, graded_at - 60))  # it arrived after grading
    assert is_new(tmp_path, A, "cy")


@pytest.mark.parametrize("student", ["../ada", "*", "-rf", ".hidden", "a/b", "x\ny"])
def test_an_unsafe_student_id_is_refused_by_name_before_anything_is_graded(course, capsys, student):
    before = scores(course)
    assert main(["grade", A, "--course", str(course.root), "--student", "ada", f"--student={student}"]) == 1
    err = capsys.readouterr().err
    assert f"refusing --student {student!r}: the student id is unsafe" in err
    assert scores(course) == before


def test_a_student_without_a_submission_is_an_error_not_a_silent_success(course):
    chosen, errors = named_students(course.root, A, ["ada", "zed"])
    assert chosen == ["ada"]
    assert errors == [f"--student 'zed': no submission of '{A}' in {course.root / 'submitted' / 'zed'}"]
    assert main(["grade", A, "--course", str(course.root), "--student", "zed"]) == 1
