"""Issue 10: a hostile and careless cohort across the four assignments gets exactly its fair points.

Every case of ``hostile_cases.py`` is one learner; the whole cohort (each assignment with two honest
classmates, graded before and after the others) is graded ONCE per session, the four assignments'
``grade_cohort`` runs at the same time, then feedback is generated once. For every case: its fair
points, the cause named to the instructor (the grade run's notes) and to the learner (the feedback
page), nothing confidential and nothing live in the feedback or in what formgrader shows, notes only
from the grader, classmates' grades unchanged, the grader's own files and output untouched, and
nothing left running or on disk afterwards.

SAFETY: hostile code runs only behind bubblewrap. The fixture configures the scratch course's
grading kernel as ``SandboxKernelManager`` (with this suite's own slot users) and, before anything is
graded, checks the configured class and that a probe kernel started exactly as the grader starts
one sees neither this checkout, the course nor /work; otherwise it fails without running anything.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import pwd
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.utils import notebook_hash

from clientcare.instructor import warm
from clientcare.instructor.course import Course, tools_on_path
from clientcare.instructor.grading import grade_cohort
from clientcare.instructor.results import question_scores
from clientcare.instructor.sandbox import processes_of, remove_slot_users, slot_users
from clientcare.instructor.synthetic import ALL, make_submission
from cohorts import copy_course
from hostile_cases import BUDGET, CASES, FORGED_NOTE, POINTS, Case
from test_grading_pipeline import hidden_lines, visible_lines

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
CLASSMATES = ("aa-classmate", "zz-classmate")
LIVE = re.compile(r"<script[^>]*>[^<]*alert|<[a-z]+[^>]*\son[a-z]+\s*=|<svg|<iframe|href=[\"']?\s*javascript:",
                  re.IGNORECASE)
SPY = Path("/tmp/clientcare-spy.txt")  # what multiprocessing-spawn's child would write
SECRET_ENV = {"CLIENTCARE_DB_URL": "postgresql://grader:hunter2-not-for-learners@db/clientcare",
              "PGPASSWORD": "hunter2-not-for-learners"}


# While developing, grade only some cases: CLIENTCARE_HOSTILE_CASES=name,name (the rest are skipped)
SELECTED = {name for name in os.environ.get("CLIENTCARE_HOSTILE_CASES", "").split(",") if name} or set(CASES)
unknown = SELECTED - set(CASES)
assert not unknown, f"CLIENTCARE_HOSTILE_CASES names no case {sorted(unknown)}"
ALL_CASES, CASES = CASES, {name: case for name, case in CASES.items() if name in SELECTED}

SANDBOX = "clientcare.instructor.sandbox.SandboxKernelManager"
# this suite's own slot users, removed at the end (another prefix keeps two runs on one machine apart)
USERS = os.environ.get("CLIENTCARE_HOSTILE_USERS", "clientcare-hostile")


def sandbox_the_grader(course: Course) -> None:
    """Configure the scratch course to grade behind bubblewrap (until the course's config does it itself)."""
    config = course.root / "nbgrader_config.py"
    text = config.read_text(encoding="utf-8")
    if f'kernel_manager_class = "{SANDBOX}"' not in text:
        text += f'\nc.JudgedExecute.kernel_manager_class = "{SANDBOX}"\n'
    config.write_text(text + f'c.SandboxKernelManager.user_prefix = "{USERS}"\n', encoding="utf-8")


def assert_sandboxed(course: Course, scratch: Path) -> None:
    """SAFETY: before any hostile notebook runs, the grading kernel must be the sandboxed one.

    Checks the configured kernel manager AND starts a probe kernel exactly as the grader does
    (``JudgedExecute._new_kernel``), which must see neither this checkout, the course, nor /work.
    """
    from clientcare.instructor.preprocessors.judged_execute import JudgedExecute
    from clientcare.instructor.sandbox import SandboxKernelManager, install_kernelspec

    if shutil.which("bwrap") is None:
        pytest.fail("bubblewrap is not installed: hostile notebooks are never run without it")
    config = Course(course.root).config
    judge = JudgedExecute(config=config)
    if judge.kernel_manager_class is not SandboxKernelManager:
        pytest.fail(f"the grading kernel is {judge.kernel_manager_class}, not {SANDBOX}: refusing to grade")
    install_kernelspec()
    work = scratch / "probe"
    (work / "work").mkdir(parents=True)
    kernel = judge._new_kernel(config.JudgedExecute.kernel_name, str(work / "work"), str(work))
    try:
        paths = [str(REPO / "source"), str(course.root), "/work/coordination", str(REPO / ".git")]
        run = kernel.execute(f"import os; print([os.path.exists(p) for p in {paths!r}], os.getuid())",
                             time.monotonic() + 30)
    finally:
        kernel.shutdown()
        warm.close_all()  # the probe's warm sandbox ends here: whatever is left running later is the grading's
    shutil.rmtree(work)
    printed = "".join(o.get("text", "") for o in run.outputs)
    if printed.split("]")[0] != "[False, False, False, False" or printed.split()[-1] == "0":
        pytest.fail(f"the probe kernel is not sandboxed (it printed {printed!r}): refusing to grade")


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
    if case.raw:
        text = json.dumps(case.raw(json.loads(text)))
    (folder / name).write_bytes(case.encode(text) if case.encode else text.encode("utf-8", "surrogatepass"))
    for extra_name, content in case.files.items():
        (folder / extra_name).write_text(content, encoding="utf-8")
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
def cohort(tmp_path_factory, released_template):
    base = tmp_path_factory.mktemp("hostile-cohort")
    assignments = sorted({case.assignment for case in CASES.values()})
    course = copy_course(released_template, base / "course", assignments=assignments)  # generated once per run
    scratch = base / "grader-tmp"  # every scratch folder and kernel temp file of this run goes here
    scratch.mkdir()
    SPY.unlink(missing_ok=True)
    saved = {k: os.environ.get(k) for k in ("TMPDIR", *SECRET_ENV)}
    os.environ.update(TMPDIR=str(scratch), **SECRET_ENV)
    try:
        sandbox_the_grader(course)
        assert_sandboxed(course, scratch)
        before = grader_files(course)
        for student, case in CASES.items():
            submit_case(course, student, case)
        for assignment in assignments:
            for student in CLASSMATES:
                submit_case(course, student, Case(assignment, ALL, None, POINTS[assignment]))
        with Gradebook(course.db_url) as gradebook:  # each learner once, before the four runs race to add them
            for student in set(CASES) | set(CLASSMATES):
                gradebook.update_or_create_student(student)
        workers = {a: max(1, round(6 * sum(c.assignment == a for c in CASES.values()) / len(CASES)))
                   for a in assignments}

        def grade_then_feedback(assignment):
            results = grade_cohort(course.root, assignment, workers=workers[assignment], notebook_budget=BUDGET)
            feedback = subprocess.run([sys.executable, "-m", "nbgrader", "generate_feedback", assignment, "--force"],
                                      cwd=course.root, env=_without_redirects(), stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, text=True)
            return assignment, results, feedback

        # All four assignments at once (their budgets' waits overlap), each one's feedback as soon as it is graded;
        # the grader's own stdout and stderr, which every worker and kernel would inherit, go to a file that must
        # stay free of learner output.
        output = base / "grader-output.txt"
        saved_fds, target = (os.dup(1), os.dup(2)), os.open(output, os.O_WRONLY | os.O_CREAT, 0o600)
        os.dup2(target, 1), os.dup2(target, 2)
        try:
            with ThreadPoolExecutor(len(assignments)) as threads:
                graded = list(threads.map(grade_then_feedback, assignments))
        finally:
            os.dup2(saved_fds[0], 1), os.dup2(saved_fds[1], 2)
            for fd in (*saved_fds, target):
                os.close(fd)
        for assignment, _, feedback in graded:
            assert feedback.returncode == 0, f"generate_feedback {assignment}: {feedback.stderr[-3000:]}"
        outcomes = {(assignment, o.student): o for assignment, results, _ in graded for o in results}
        grader_output = output.read_text(errors="replace")
        (course.root / "exchange").mkdir(exist_ok=True)  # nbgrader's exchange must exist before release_feedback
        if "renamed-notebook" in CASES:
            course.nbgrader("release_feedback", "fee-proposals", "--student", "renamed-notebook", isolated=True)
        scores = question_scores(course.db_url).groupby(["assignment", "student"])["score"].sum().to_dict()
        after = grader_files(course)
        left = sorted(str(p) for p in scratch.rglob("*"))
        running = [pid for pid in os.listdir("/proc") if pid.isdigit() and _uses(pid, str(scratch))]
        running += [pid for user in slot_users(USERS) for pid in processes_of(pwd.getpwnam(user).pw_uid)]
        running = [f"{pid}: {_describe(pid)}" for pid in running]
    finally:
        remove_slot_users(USERS)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return course, outcomes, scores, before, after, left, running, grader_output


def _without_redirects() -> dict:
    env = tools_on_path(dict(os.environ))
    for name in ("CLIENTCARE_DB_URL", "CLIENTCARE_EXCHANGE"):
        env.pop(name, None)
    return env


def _describe(pid) -> str:
    """A process as a failure message names it: its user, parent and command line."""
    try:
        status = warm._status(pid)
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:300]
        return f"uid {status.get('Uid', '?').split()[0]}, parent {status.get('PPid', '?')}: {command}"
    except OSError:
        return "gone"


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
    kinds = {case.kind for case in ALL_CASES.values()}
    assert kinds >= {"3", "4", "5", "6", "7", "8", "9", "10", "also"}
    assert len(ALL_CASES) >= 40 and {c.assignment for c in ALL_CASES.values()} == set(POINTS)


def test_the_whole_cohort_is_graded(cohort):
    _, outcomes, scores, *_ = cohort
    failed = {key: o.message for key, o in outcomes.items() if not o.ok}
    assert failed == {}
    assert {s for _, s in outcomes} == set(CASES) | set(CLASSMATES)


@pytest.mark.parametrize("student", sorted(CASES))
def test_each_case_gets_exactly_its_fair_points_and_its_cause_is_named(cohort, student):
    course, outcomes, scores, *_ = cohort
    case = CASES[student]
    outcome = outcomes[(case.assignment, student)]
    low, high = case.points if isinstance(case.points, tuple) else (case.points, case.points)
    assert low <= scores[(case.assignment, student)] <= high, outcome.message
    if case.instructor:
        assert case.instructor in outcome.message, outcome.message
    if case.most_seconds:
        assert outcome.seconds <= case.most_seconds, f"graded in {outcome.seconds:.0f} s: {outcome.message}"
    page = feedback_page(course, student, case.assignment)
    if case.learner:
        assert case.learner in " ".join(visible_lines(page)), "the learner's feedback must name the cause"
    # notes come only from the grader: nothing the learner wrote stands as a note of its own
    notes = outcome.message.split("; ")
    assert not any(note.startswith((FORGED_NOTE, "[clientcare]")) for note in notes), outcome.message
    assert f"<li>{FORGED_NOTE}" not in page


@pytest.mark.parametrize("student", sorted(CASES))
def test_feedback_and_formgrader_carry_nothing_confidential_or_live(cohort, student):
    course, *_ = cohort
    case = CASES[student]
    page = feedback_page(course, student, case.assignment)
    lines = visible_lines(page)
    leaked = [line for line in hidden_lines(case.assignment) if line in lines]
    assert leaked == [], f"hidden test code in the feedback: {leaked[:3]}"
    assert not LIVE.search(page), LIVE.search(page).group(0)
    for secret in SECRET_ENV.values():
        assert secret not in page
    for text in case.absent:
        assert text not in page, f"{text!r} reached the learner's feedback"
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
    *_, left, running, _ = cohort
    assert left == [] and running == []
    assert not SPY.exists(), "a child process of a learner's kernel ran outside the sandbox"


def test_a_renamed_notebooks_feedback_reaches_the_learner(cohort):
    if "renamed-notebook" not in CASES:
        pytest.skip("renamed-notebook is not among CLIENTCARE_HOSTILE_CASES")
    course, *_ = cohort
    checksum = notebook_hash(secret="secret-of-renamed-notebook", notebook_id="Fee proposals - Zoë (final)")
    released = course.root / "exchange" / "clientcare" / "feedback" / f"{checksum}.html"
    assert released.is_file(), sorted(p.name for p in (course.root / "exchange").rglob("*.html"))
    assert "36.0 of 36.0 points" in " ".join(visible_lines(released.read_text(encoding="utf-8")))


def test_learner_code_never_writes_to_the_graders_own_output(cohort):
    *_, grader_output = cohort
    assert "written to the grader's own output" not in grader_output
