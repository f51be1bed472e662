"""Autograde a whole cohort across every core.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TextIO

from .course import NbgraderError, tools_on_path
from .integrity import LOG_PREFIX, notable_errors
from .submission_files import preflight
from .sandbox import install_kernelspec

DEFAULT_NOTEBOOK_BUDGET = 120.0  # seconds of execution for one learner's notebook


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
    submitted = Path(root) / "submitted"
    if not submitted.is_dir():
        return []
    return sorted(p.name for p in submitted.iterdir() if (p / assignment).is_dir())


# ---------------------------------------------------------------- inside a worker process

_worker: dict = {}


def _start_worker(root: str, notebook_budget: float) -> None:
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    os.chdir(root)
    # Kernels inherit this process's stderr and print start-up chatter on it; keep the
    # instructor's terminal for the progress bar. nbgrader's own log is captured per learner.
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    config = load_course_config(Path(root))
    config.JudgedExecute.notebook_budget = float(notebook_budget)  # a hard cap, enforced by JudgedExecute
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    api.log.setLevel(logging.WARNING)
    _worker.update(api=api)


def _grade_one(assignment: str, student: str) -> Outcome:
    api = _worker["api"]
    coursedir = api.coursedir
    started = time.monotonic()
    notes = preflight(Path(coursedir.format_path(coursedir.submitted_directory, student, assignment)),
                      Path(coursedir.format_path(coursedir.release_directory, ".", assignment)))
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
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                             initargs=(str(root), notebook_budget)) as pool:
        futures = {pool.submit(_grade_one, assignment, student): student for student in students}
        for future in as_completed(futures):
            try:
                outcome = future.result()
            except Exception as error:  # a worker died (e.g. killed by the OS): report it, carry on
                outcome = Outcome(futures[future], False, 0.0, f"grading process failed: {error!r}")
            outcomes.append(outcome)
            if on_result:
                on_result(outcome)
    return sorted(outcomes, key=lambda o: o.student)
