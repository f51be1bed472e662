"""Autograde a whole cohort across every core.

Per-learner faults never stop the cohort: a student id that is unsafe to hand
to nbgrader (``unsafe_student_id``) or a submission folder that is a link is
refused by name; an exception while grading one learner, or a grading worker
that dies (killed by the OS), is reported for that learner and the others are
graded on (a pool that broke is replaced and the learners it had not finished
are graded again, once). Every failure carries its cause. Each worker keeps
only the environment it needs (``WORKER_ENVIRONMENT``) and a cap on its own
data memory (``worker_memory_mb``), so an output flood costs that learner, not
the machine.

Each worker is one long-lived process that loads nbgrader once and then grades
learner after learner through nbgrader's own Python API (the same code path as
``nbgrader autograde``, so the same grades), instead of paying nbgrader's start-up
for every learner. A whole-notebook time budget stops one runaway submission
from holding up the cohort: once a submission has used its budget, nothing more
of it runs and its parts not yet graded score 0 (``JudgedExecute.notebook_budget``).

Works with any gradebook nbgrader supports (SQLite by default, PostgreSQL via
``db_url`` / ``CLIENTCARE_DB_URL``).
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TextIO

from .course import NbgraderError, tools_on_path
from .integrity import LOG_PREFIX, notable_errors
from .submission_files import preflight, set_aside_folder, unsafe_student_id
from .sandbox import install_kernelspec

DEFAULT_NOTEBOOK_BUDGET = 120.0  # seconds of execution for one learner's notebook
DEFAULT_WORKER_MEMORY_MB = 4096  # data memory of one grading worker (RLIMIT_DATA)
# What a grading worker keeps of the instructor's environment: the course's own
# settings, where things are, locale, and the gradebook's PostgreSQL client settings.
WORKER_ENVIRONMENT = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "VIRTUAL_ENV",
                      "MPLBACKEND", "SSL_CERT_FILE", "SSL_CERT_DIR")
# JUPYTERHUB_: on a hub, nbgrader's JupyterHubAuthPlugin asks the hub who is grading (without it the
# worker cannot even construct nbgrader's API).
WORKER_ENVIRONMENT_PREFIXES = ("CLIENTCARE_", "JUPYTER_", "JUPYTERHUB_", "NBGRADER_", "LC_", "PG")


@dataclass(frozen=True)
class Outcome:
    """What happened to one learner's submission."""

    student: str
    ok: bool
    seconds: float
    message: str = ""


def load_course_config(root: Path):
    """The course's nbgrader configuration, as `nbgrader` run in ``root`` would read it (config path, then course)."""
    from .config import course_config

    return course_config(root)


def default_workers() -> int:
    """One more worker than cores: a worker waiting for its kernel leaves a core idle otherwise.

    Measured on 2 cores (60 learners): 0.87 s per learner with 2 workers, 0.78 s with 3, 0.80 s with 4.
    """
    return (os.cpu_count() or 1) + 1


def submitted_students(root: Path, assignment: str) -> list[str]:
    """Every name in submitted/ with an entry for ``assignment`` (unsafe names included: they are reported)."""
    submitted = Path(root) / "submitted"
    if not submitted.is_dir():
        return []
    return sorted(p.name for p in submitted.iterdir() if os.path.lexists(p / assignment))


def refusal(root: Path, student: str, assignment: str) -> str:
    """Why ``student``'s submission is not handed to nbgrader at all ("" if it can be graded)."""
    reason = unsafe_student_id(student)
    if reason:
        return f"not graded: the student id {student!r} is unsafe to grade ({reason}); rename the folder"
    if os.path.islink(Path(root) / "submitted" / student):
        return f"not graded: submitted/{student} is a link, not the learner's own folder"
    return ""


def _keep_environment(environ=os.environ) -> None:
    """Drop every variable a grading worker does not need (secrets of the instructor's shell included)."""
    for name in list(environ):
        if name not in WORKER_ENVIRONMENT and not name.startswith(WORKER_ENVIRONMENT_PREFIXES):
            del environ[name]


# ---------------------------------------------------------------- inside a worker process

_worker: dict = {}


def _start_worker(root: str, notebook_budget: float, memory_mb: int = DEFAULT_WORKER_MEMORY_MB,
                  quiet: bool = True) -> None:
    import resource

    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    os.chdir(root)
    _keep_environment()
    if memory_mb > 0:
        resource.setrlimit(resource.RLIMIT_DATA, (memory_mb * 1024 * 1024, resource.getrlimit(resource.RLIMIT_DATA)[1]))
    # Kernels inherit this process's stderr and print start-up chatter on it; keep the
    # instructor's terminal for the progress bar. nbgrader's own log is captured per learner.
    # (A Dask worker, set up by dask_grading.GradingSetup, keeps its stderr: it is the worker's log.)
    if quiet:
        os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    config = load_course_config(Path(root))
    config.JudgedExecute.notebook_budget = float(notebook_budget)  # a hard cap, enforced by JudgedExecute
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    api.log.setLevel(logging.WARNING)
    _worker.update(api=api)


def _grade_one(assignment: str, student: str) -> Outcome:
    started = time.monotonic()
    try:
        return _grade(assignment, student, started)
    except MemoryError:
        return Outcome(student, False, time.monotonic() - started,
                       "grading ran out of memory (an output flood?); this learner was not graded")
    except Exception as error:  # one learner's fault, reported by its cause; the cohort goes on
        return Outcome(student, False, time.monotonic() - started, f"grading failed: {type(error).__name__}: {error}"[:500])


def _grade(assignment: str, student: str, started: float) -> Outcome:
    api = _worker["api"]
    coursedir = api.coursedir
    notes = preflight(Path(coursedir.format_path(coursedir.submitted_directory, student, assignment)),
                      Path(coursedir.format_path(coursedir.release_directory, ".", assignment)),
                      set_aside_folder(Path(coursedir.root), student, assignment))
    result = api.autograde(assignment, student, force=True, create=True)
    seconds = time.monotonic() - started
    # The grader's notes are in the graded notebooks' metadata; the log has those of a notebook never written.
    notes += notable_errors(Path(coursedir.format_path(coursedir.autograded_directory, student, assignment)))
    notes += [line.split(LOG_PREFIX, 1)[1].strip() for line in (result.get("log") or "").splitlines()
              if LOG_PREFIX in line]
    if not result.get("success"):
        notes.append(_failure_reason(result))
    return Outcome(student, bool(result.get("success")), seconds, "; ".join(dict.fromkeys(notes)))


def _failure_reason(result: dict) -> str:
    """The most useful line of nbgrader's error report."""
    text = (result.get("error") or "") + "\n" + (result.get("log") or "")
    generic = ("Please see the", "There was an error processing")  # nbgrader's wrappers around the cause
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith(generic)
             and not any(g in line for g in generic)]
    errors = [line for line in lines if "[ERROR]" in line or "Error" in line]
    return (errors[-1] if errors else (lines[-1] if lines else "nbgrader reported a failure")).replace("[ERROR] ", "")


# ---------------------------------------------------------------- the coordinator


class ProgressBar:
    """``[#####.....] 57/200 graded, 1 failed, 62 s, about 1m40s left`` on one line (or a line per 5 %)."""

    def __init__(self, total: int, stream: TextIO = sys.stderr, width: int = 30):
        self.total, self.stream, self.width = total, stream, width
        self.done = self.failed = 0
        self.started = time.monotonic()
        self.live = stream.isatty()
        self.every = max(1, total // 20)

    def update(self, outcome: Outcome) -> None:
        self.done += 1
        self.failed += not outcome.ok
        if self.live or self.done % self.every == 0 or self.done == self.total:
            end = "" if self.live and self.done < self.total else "\n"
            print(("\r" if self.live else "") + self.line(), end=end, file=self.stream, flush=True)

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        filled = int(self.width * self.done / self.total) if self.total else self.width
        left = elapsed / self.done * (self.total - self.done) if self.done else 0
        eta = f"about {int(left // 60)}m{int(left % 60):02d}s left" if self.done < self.total else "done"
        return (f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} graded, "
                f"{self.failed} failed, {elapsed:.0f} s, {eta}")


def grade_cohort(
    root: Path,
    assignment: str,
    workers: int | None = None,
    notebook_budget: float = DEFAULT_NOTEBOOK_BUDGET,
    students: list[str] | None = None,
    on_result: Callable[[Outcome], None] | None = None,
    worker_memory_mb: int = DEFAULT_WORKER_MEMORY_MB,
) -> list[Outcome]:
    """Autograde every submitted learner's ``assignment`` in ``root``; returns one Outcome per learner."""
    from nbgrader.api import Gradebook, MissingEntry

    from .config import gradebook_url

    root = Path(root).resolve()
    students = submitted_students(root, assignment) if students is None else students
    if not students:
        return []
    workers = max(1, min(workers or default_workers(), len(students)))
    config = load_course_config(root)
    tools_on_path(os.environ)  # workers inherit it
    with Gradebook(gradebook_url(root, config)) as gradebook:
        # (this also creates or upgrades the gradebook once, before workers race to do it)
        try:
            gradebook.find_assignment(assignment)
        except MissingEntry:
            raise NbgraderError(f"the gradebook has no assignment '{assignment}': generate it first with "
                                f"`clientcare release {assignment}` (nbgrader generate_assignment), then grade "
                                "again") from None
    install_kernelspec()  # the sandboxed kernel nbgrader_config.py names
    outcomes = []
    for student in [s for s in students if refusal(root, s, assignment)]:
        outcomes.append(Outcome(student, False, 0.0, refusal(root, student, assignment)))
        if on_result:
            on_result(outcomes[-1])
    pending = [s for s in students if not refusal(root, s, assignment)]
    context = multiprocessing.get_context("spawn")
    for attempt in (1, 2):  # a pool that broke (a worker killed) is replaced once for what it left undone
        if not pending:
            break
        broken = []
        with ProcessPoolExecutor(min(workers, len(pending)), mp_context=context, initializer=_start_worker,
                                 initargs=(str(root), notebook_budget, worker_memory_mb)) as pool:
            futures = {pool.submit(_grade_one, assignment, student): student for student in pending}
            for future in as_completed(futures):
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    broken.append(futures[future])
                    continue
                except Exception as error:  # anything else from the pool: report it, carry on
                    outcome = Outcome(futures[future], False, 0.0, f"grading process failed: {error!r}")
                outcomes.append(outcome)
                if on_result:
                    on_result(outcome)
        pending = sorted(broken)
    for student in pending:
        outcomes.append(Outcome(student, False, 0.0, "the grading process died while grading this learner "
                                                     "(killed by the operating system, perhaps out of memory)"))
        if on_result:
            on_result(outcomes[-1])
    return sorted(outcomes, key=lambda o: o.student)
