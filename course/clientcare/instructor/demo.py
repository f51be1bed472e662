"""`make demo`: the instructor's pipeline end to end on synthetic learners.

Builds a separate course directory (``demo/``, never committed) so the
instructor's own gradebook is untouched, then: generate every assignment,
create synthetic submissions, autograde, generate feedback, export grades to
CSV and print a table of the results.
"""
from __future__ import annotations

import random
import time
from pathlib import Path

import nbformat
import pandas as pd

from .course import REPO_ROOT, Course, make_scratch_course
from .results import submission_scores
from .synthetic import ALL, Learner, solution_cells, submit


def demo_learners(course: Course, count: int = 6, seed: int = 2026) -> list[Learner]:
    """A complete learner, a blank one, and the rest solving a random share of each assignment."""
    rng = random.Random(seed)
    cells = {
        a: sorted(solution_cells(nbformat.read(course.root / "source" / a / f"{a}.ipynb", as_version=4)))
        for a in course.assignments()
    }
    learners = [
        Learner("demo-01-complete", {a: ALL for a in cells}),
        Learner("demo-02-blank", {}),
    ]
    for number in range(3, count + 1):
        solved = {a: rng.sample(ids, k=rng.randint(1, max(1, len(ids) - 1))) for a, ids in cells.items()}
        learners.append(Learner(f"demo-{number:02d}-partial", solved))
    return learners


class Steps:
    """Numbered progress lines with elapsed time."""

    def __init__(self, total: int):
        self.total, self.done, self.started = total, 0, time.monotonic()

    def __call__(self, message: str) -> None:
        self.done += 1
        print(f"[{self.done}/{self.total}] {message} ({time.monotonic() - self.started:.0f} s)", flush=True)


def run_demo(root: Path = REPO_ROOT / "demo", learners: int = 6) -> pd.DataFrame:
    course = make_scratch_course(root)
    assignments = course.assignments()
    step = Steps(2 + 3 * len(assignments) + 1)
    step(f"Made a fresh demo course in {course.root} with {len(assignments)} assignments")
    for assignment in assignments:
        course.nbgrader("generate_assignment", assignment, "--force", isolated=True)
    step("Generated the student versions (release/)")
    cohort = demo_learners(course, learners)
    results = []
    for assignment in assignments:
        for learner in cohort:
            submit(course, learner, assignment)
        step(f"{assignment}: {len(cohort)} synthetic submissions in submitted/")
        course.nbgrader("autograde", assignment, "--force", isolated=True)
        step(f"{assignment}: autograded")
        course.nbgrader("generate_feedback", assignment, "--force", isolated=True)
        step(f"{assignment}: feedback in feedback/<student>/{assignment}/")
        results.append(submission_scores(course.db_url, assignment))
    course.nbgrader("export", "--to", str(course.root / "grades.csv"), isolated=True)
    step(f"Exported grades to {course.root / 'grades.csv'}")
    table = pd.concat(results, ignore_index=True)
    print()
    print(_summary(table).to_string())
    if table["needs_manual_grade"].any():
        print("\nSome written answers need manual grading: run `nbgrader formgrader` "
              f"(or open Formgrader in JupyterLab) in {course.root}.")
    return table


def _summary(table: pd.DataFrame) -> pd.DataFrame:
    """Learners down, assignments across, 'score / max' in each cell."""
    table = table.assign(result=lambda t: t["score"].map("{:g}".format) + " / " + t["auto_max"].map("{:g}".format)
                         + t["needs_manual_grade"].map({True: " +manual", False: ""}))
    return table.pivot(index="student", columns="assignment", values="result")
