"""Issue 10: a hostile and careless cohort across the four assignments gets exactly its fair points.

Every case of ``hostile_cases.py`` is one learner; each assignment's cohort (with two honest
classmates, graded before and after the others) is graded in ONE ``grade_cohort`` run, then its
feedback is generated once. For every case: the exact points, the cause named to the instructor
(the grade run's notes) and to the learner (the feedback page), nothing confidential and nothing
live in the feedback or in what formgrader shows, classmates' grades unchanged, the grader's own
files unchanged, and nothing left running or on disk afterwards.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbgrader.utils import notebook_hash

from clientcare.instructor.course import Course, make_scratch_course
from clientcare.instructor.grading import grade_cohort
from clientcare.instructor.results import question_scores
from clientcare.instructor.synthetic import ALL, make_submission
from hostile_cases import CASES, POINTS
from test_grading_pipeline import hidden_lines, visible_lines

REPO = Path(__file__).resolve().parents[2]
BUDGET = 15  # seconds of learner code per notebook
CLASSMATES = ("aa-classmate", "zz-classmate")
LIVE = re.compile(r"<script[^>]*>[^<]*alert|<[a-z]+[^>]*\son[a-z]+\s*=|<svg|<iframe|href=[\"']?\s*javascript:",
                  re.IGNORECASE)
SPY = Path("/tmp/clientcare-spy.txt")  # what multiprocessing-spawn's child would write
SECRET_ENV = {"CLIENTCARE_DB_URL": "postgresql://grader:hunter2-not-for-learners@db/clientcare",
              "PGPASSWORD": "hunter2-not-for-learners"}


def os_boundary() -> bool:
    try:
        from clientcare.instructor.sandbox import SandboxKernelManager  # noqa: F401  (boundary-os)
    except ImportError:
        return False
    return "SandboxKernelManager" in (REPO / "nbgrader_config.py").read_text()


ACTIVE = {name: case for name, case in CASES.items() if not case.os_boundary or os_boundary()}


def grader_files(course: Course) -> dict[str, str]:
    """Hashes of the files the grader trusts: configuration, its own code, the release notebooks."""
    files = [course.root / "nbgrader_config.py", *sorted((course.root / "release").rglob("*.ipynb"))]
    package = REPO / "course" / "clientcare" / "instructor"
    files += sorted(package.rglob("*.py"))
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def submit_case(course: Course, student: str, case) -> None:
    assignment = case.assignment
    release = course.root / "release" / assignment
    folder = course.root / "submitted" / student / assignment
    shutil.copytree(release, folder)
    notebook = make_submission(course.root / "source" / assignment / f"{assignment}.ipynb",
                               release / f"{assignment}.ipynb", case.solved)
    if case.change:
        notebook = case.change(notebook)
    (folder / f"{assignment}.ipynb").unlink()
    name = case.renamed_to or f"{assignment}.ipynb"
    text = nbformat.writes(notebook) if "deeply" not in student else _json_dump_deep(notebook)
    (folder / name).write_text(text, encoding="utf-8")
    (folder / "timestamp.txt").write_text("2026-12-01 09:00:00.000000 UTC")
    (folder / "submission_secret.txt").write_text(f"secret-of-{student}")


def _json_dump_deep(notebook) -> str:
    import json
    import sys

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20_000)
    try:
        return json.dumps(notebook)
    finally:
        sys.setrecursionlimit(limit)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile-cohort")
    course = make_scratch_course(base / "course")
    scratch = base / "grader-tmp"  # every scratch folder and kernel temp file of this run goes here
    scratch.mkdir()
    SPY.unlink(missing_ok=True)
    saved = {k: os.environ.get(k) for k in ("TMPDIR", *SECRET_ENV)}
    os.environ.update(TMPDIR=str(scratch), **SECRET_ENV)
    try:
        assignments = sorted({case.assignment for case in ACTIVE.values()})
        for assignment in assignments:
            course.nbgrader("generate_assignment", assignment, "--force", isolated=True)
        before = grader_files(course)
        for student, case in ACTIVE.items():
            submit_case(course, student, case)
        for assignment in assignments:
            for student in CLASSMATES:
                submit_case(course, student, type(next(iter(CASES.values())))(assignment, ALL, None, POINTS[assignment]))
        outcomes, feedback = {}, {}
        for assignment in assignments:
            for outcome in grade_cohort(course.root, assignment, workers=2, notebook_budget=BUDGET):
                outcomes[(assignment, outcome.student)] = outcome
            course.nbgrader("generate_feedback", assignment, "--force", isolated=True)
        course.nbgrader("release_feedback", "fee-proposals", "--student", "renamed-notebook", isolated=True)
        scores = question_scores(course.db_url).groupby(["assignment", "student"])["score"].sum().to_dict()
        after = grader_files(course)
        left = sorted(str(p) for p in scratch.rglob("*"))
        running = [pid for pid in os.listdir("/proc") if pid.isdigit() and _uses(pid, str(scratch))]
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return course, outcomes, scores, before, after, left, running


def _uses(pid: str, folder: str) -> bool:
    try:
        if os.readlink(f"/proc/{pid}/cwd").startswith(folder):
            return True
        return folder.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def feedback_page(course, student, assignment) -> str:
    return (course.root / "feedback" / student / assignment / f"{assignment}.html").read_text(encoding="utf-8")


def test_every_kind_of_the_issue_is_covered():
    kinds = {case.kind for case in CASES.values()}
    assert kinds >= {"3", "4", "5", "6", "7", "8", "9", "10", "also"}
    assert len(CASES) >= 40 and {c.assignment for c in CASES.values()} == set(POINTS)


def test_the_whole_cohort_is_graded(cohort):
    _, outcomes, scores, *_ = cohort
    failed = {key: o.message for key, o in outcomes.items() if not o.ok}
    assert failed == {}
    assert {s for _, s in outcomes} == set(ACTIVE) | set(CLASSMATES)


@pytest.mark.parametrize("student", sorted(ACTIVE))
def test_each_case_gets_exactly_its_fair_points_and_its_cause_is_named(cohort, student):
    course, outcomes, scores, *_ = cohort
    case = ACTIVE[student]
    outcome = outcomes[(case.assignment, student)]
    assert scores[(case.assignment, student)] == case.points, outcome.message
    if case.instructor:
        assert case.instructor in outcome.message, outcome.message
    page = feedback_page(course, student, case.assignment)
    if case.learner:
        assert case.learner in " ".join(visible_lines(page)), "the learner's feedback must name the cause"


@pytest.mark.parametrize("student", sorted(ACTIVE))
def test_feedback_and_formgrader_carry_nothing_confidential_or_live(cohort, student):
    course, *_ = cohort
    case = ACTIVE[student]
    page = feedback_page(course, student, case.assignment)
    lines = visible_lines(page)
    leaked = [line for line in hidden_lines(case.assignment) if line in lines]
    assert leaked == [], f"hidden test code in the feedback: {leaked[:3]}"
    assert not LIVE.search(page), LIVE.search(page).group(0)
    for secret in SECRET_ENV.values():
        assert secret not in page
    graded = nbformat.read(course.root / "autograded" / student / case.assignment / f"{case.assignment}.ipynb",
                           as_version=4)
    for cell in graded.cells:  # what formgrader shows: no live output, no marker lines
        assert "_clientcare_mark" not in cell.source
        for output in cell.get("outputs", []):
            assert set(output.get("data", {})) <= {"text/plain", "image/png", "image/jpeg"}
            assert not any(s in str(output) for s in SECRET_ENV.values())


def test_classmates_keep_their_grades(cohort):
    _, outcomes, scores, *_ = cohort
    for (assignment, student), outcome in outcomes.items():
        if student in CLASSMATES:
            assert scores[(assignment, student)] == POINTS[assignment], (assignment, student, outcome.message)
            assert outcome.message == ""


def test_the_graders_own_files_are_unchanged(cohort):
    course, _, _, before, after, *_ = cohort
    changed = [path for path in before if before[path] != after.get(path)]
    assert changed == []
    assert not list((course.root / "feedback" / "exfiltrates-to-feedback").rglob("stolen.txt"))


def test_nothing_is_left_running_or_on_disk(cohort):
    *_, left, running = cohort
    assert left == [] and running == []
    assert not SPY.exists(), "a child process of a learner's kernel ran outside the sandbox"


def test_a_renamed_notebooks_feedback_reaches_the_learner(cohort):
    course, *_ = cohort
    checksum = notebook_hash(secret="secret-of-renamed-notebook", notebook_id="Fee proposals - Zoë (final)")
    released = course.root / "exchange" / "clientcare" / "feedback" / f"{checksum}.html"
    assert released.is_file(), sorted(p.name for p in (course.root / "exchange").rglob("*.html"))
    assert "Score: 33" in released.read_text(encoding="utf-8").replace("33.0", "33")


def test_grading_an_assignment_the_gradebook_does_not_know_says_so_clearly(tmp_path, capsys):
    from clientcare.cli import main

    course = make_scratch_course(tmp_path / "course")
    folder = course.root / "submitted" / "ada" / "fee-proposals"
    folder.mkdir(parents=True)
    shutil.copy(REPO / "release" / "fee-proposals" / "fee-proposals.ipynb", folder)
    assert main(["grade", "fee-proposals", "--course", str(course.root)]) == 1
    error = capsys.readouterr().err
    assert "the gradebook has no assignment 'fee-proposals'" in error and "clientcare release fee-proposals" in error
    assert "Traceback" not in error
