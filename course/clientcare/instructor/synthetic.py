"""Synthetic learners: submissions made from the release and source notebooks.

A synthetic learner "solves" some solution cells: those cells get the source
solution (with nbgrader's markers removed); every other cell stays exactly as
released. Solving every cell gives the model answer; solving none gives a blank
submission. No real learner's data is ever used.
"""
from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterable

import nbformat

from .course import Course

_MARKER = re.compile(r"^\s*### (BEGIN|END) (SOLUTION|HIDDEN TESTS)\s*$")
ALL = "all"


def strip_markers(source: str) -> str:
    """A solution as a learner would type it: the source cell without nbgrader's marker lines."""
    return "\n".join(line for line in source.splitlines() if not _MARKER.match(line))


def solution_cells(notebook: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    """Cells a learner writes in, by grade_id."""
    return {
        cell.metadata["nbgrader"]["grade_id"]: cell
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }


def make_submission(source_nb: Path, release_nb: Path, solved: Iterable[str] | str) -> nbformat.NotebookNode:
    """The release notebook with the ``solved`` solution cells (grade_ids, or ALL) filled in from source."""
    source = solution_cells(nbformat.read(source_nb, as_version=4))
    submission = nbformat.read(release_nb, as_version=4)
    wanted = set(source) if solved == ALL else set(solved)
    unknown = wanted - set(source)
    if unknown:
        raise ValueError(f"{source_nb.name}: no solution cell with grade_id {', '.join(sorted(unknown))}")
    for grade_id, cell in solution_cells(submission).items():
        if grade_id in wanted:
            cell.source = strip_markers(source[grade_id].source)
    return submission


@dataclass(frozen=True)
class Learner:
    """A synthetic learner: an id, which cells they solved in each assignment, and when they submitted."""

    student_id: str
    solved: dict[str, Iterable[str] | str]  # assignment -> grade_ids or ALL; missing = blank
    submitted_at: dict[str, datetime] = field(default_factory=dict)  # assignment -> time; missing = none


def submit(course: Course, learner: Learner, assignment: str) -> Path:
    """Write the learner's submission to submitted/<student>/<assignment>/, with the released data files."""
    release_dir = course.root / "release" / assignment
    target = course.root / "submitted" / learner.student_id / assignment
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(release_dir, target)
    notebook = make_submission(
        course.root / "source" / assignment / f"{assignment}.ipynb",
        release_dir / f"{assignment}.ipynb",
        learner.solved.get(assignment, ()),
    )
    nbformat.write(notebook, target / f"{assignment}.ipynb")
    if assignment in learner.submitted_at:  # nbgrader reads this to decide lateness
        (target / "timestamp.txt").write_text(learner.submitted_at[assignment].strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
    return target
