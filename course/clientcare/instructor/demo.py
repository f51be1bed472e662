"""`make demo`: the instructor's pipeline end to end on a synthetic cohort.

Builds a separate course directory (``demo/`` inside the course, never committed)
with its own SQLite gradebook and exchange, so the instructor's own gradebook is
untouched whatever the configuration says, then: generate every assignment, set
due dates, create synthetic learners' submissions (some late, some missing),
autograde them in parallel, generate feedback (without hidden tests), export
grades per assignment and per question to CSV, and write the cohort report.
"""
from __future__ import annotations

import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import nbformat
import pandas as pd
from nbgrader.api import Gradebook

from .course import Course, make_scratch_course
from .grading import ProgressBar, grade_cohort
from .report import overview, render_html
from .results import export_grades, submission_scores
from .synthetic import ALL, Learner, solution_cells, submit

DUE = datetime(2026, 12, 4, 17, 0)


def demo_learners(course: Course, count: int = 50, seed: int = 2026) -> list[Learner]:
    """A complete learner, a blank one, and the rest solving a random share of each assignment.

    About one in ten skips an assignment and about one in seven submits after the due date.
    """
    rng = random.Random(seed)
    cells = {
        a: sorted(solution_cells(nbformat.read(course.root / "source" / a / f"{a}.ipynb", as_version=4)))
        for a in course.assignments()
    }
    on_time = {a: DUE - timedelta(hours=2) for a in cells}
    learners = [
        Learner("demo-001-complete", {a: ALL for a in cells}, on_time),
        Learner("demo-002-blank", {}, on_time),
    ]
    for number in range(3, count + 1):
        solved, when = {}, {}
        for assignment, ids in cells.items():
            if rng.random() < 0.1:
                continue  # did not submit this one
            solved[assignment] = rng.sample(ids, k=rng.randint(1, len(ids)))
            late = rng.random() < 0.15
            when[assignment] = DUE + timedelta(hours=rng.randint(1, 72)) if late else DUE - timedelta(hours=rng.randint(1, 96))
        learners.append(Learner(f"demo-{number:03d}", solved, when))
    return learners


class Steps:
    """Numbered progress lines with elapsed time."""

    def __init__(self, total: int):
        self.total, self.done, self.started = total, 0, time.monotonic()

    def __call__(self, message: str) -> None:
        self.done += 1
        print(f"[{self.done}/{self.total}] {message} ({time.monotonic() - self.started:.0f} s)", flush=True)


def run_demo(root: Path, template: Path | str = ".", learners: int = 50, workers: int | None = None) -> pd.DataFrame:
    """The demo in a fresh course at ``root``, copied from the course in ``template``; returns every score."""
    course = make_scratch_course(root, template)
    assignments = course.assignments()
    step = Steps(3 + 2 * len(assignments) + 2)
    step(f"Made a fresh demo course in {course.root} with {len(assignments)} assignments")
    for assignment in assignments:
        course.nbgrader("generate_assignment", assignment, "--force", isolated=True)
    step("Generated the student versions (release/)")
    cohort = demo_learners(course, learners)
    with Gradebook(course.db_url) as gradebook:
        for learner in cohort:
            gradebook.update_or_create_student(learner.student_id)
        for assignment in assignments:
            gradebook.update_or_create_assignment(assignment, duedate=DUE)
    for assignment in assignments:
        for learner in cohort:
            if assignment in learner.solved or not learner.solved:
                submit(course, learner, assignment)
    step(f"{len(cohort)} synthetic learners on the roll; submissions in submitted/ (due {DUE:%d %b %Y %H:%M})")
    for assignment in assignments:
        students = sorted(p.name for p in (course.root / "submitted").iterdir() if (p / assignment).is_dir())
        print(f"Autograding {assignment}: {len(students)} submissions", flush=True)
        bar = ProgressBar(len(students), stream=sys.stdout)
        outcomes = grade_cohort(course.root, assignment, workers, students=students, on_result=bar.update)
        for outcome in outcomes:
            if not outcome.ok or outcome.message:
                print(f"  {outcome.student}: {outcome.message}")
        step(f"{assignment}: autograded")
        course.nbgrader("generate_feedback", assignment, "--force", isolated=True)
        step(f"{assignment}: feedback (no hidden tests) in feedback/<student>/{assignment}/")
    by_assignment, by_question = export_grades(course.db_url, course.root / "export")
    step(f"Exported grades to {by_assignment} and {by_question}")
    report = render_html(course.db_url, course.root / "reports" / "cohort-report.html")
    step(f"Wrote the cohort report to {report}")
    table = pd.concat([submission_scores(course.db_url, a) for a in assignments], ignore_index=True)
    print()
    print(overview(pd.read_csv(by_assignment)).to_string())
    print(f"\nOpen the cohort report: {report}")
    print("Written answers (ethical-dilemmas, professional-writing) need manual grading: run `nbgrader formgrader` "
          f"(or open Formgrader in JupyterLab) in {course.root}.")
    return table
