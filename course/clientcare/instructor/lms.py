"""Grades into an LMS: nbgrader export plugins for Canvas's and Moodle's gradebook CSV imports.

    nbgrader export --exporter clientcare.instructor.lms.CanvasExport --to canvas-grades.csv
    nbgrader export --exporter clientcare.instructor.lms.MoodleExport --to moodle-grades.csv
    clientcare export          # writes both into export/, with the course's own CSVs

One row per learner on the roll (every learner, whether they submitted or not: a
missing submission scores 0), keyed by what the LMS matches learners on, from the roll
(``nbgrader db student import roll.csv`` with columns ``id, first_name, last_name, email,
lms_user_id``):

* **Canvas** (Grades > Import): ``Student, ID, SIS User ID, SIS Login ID, Section``, then
  one column per assignment and a ``Points Possible`` row. ``ID`` is the learner's Canvas
  user id (``lms_user_id``), ``SIS Login ID`` their email; Canvas matches on either.
* **Moodle** (Grades > Import > CSV file): ``First name, Last name, ID number, Email
  address``, then one column per assignment; map ``Email address`` (or ``ID number``, the
  ``lms_user_id``) to the user field of the same name.

Each assignment's column is the score after the late penalty (nbgrader's
``late_submission_penalty``, from the course's late policy); with ``per_question`` (on by
default) each assignment is followed by ``<assignment>: late penalty`` and one
``<assignment>: <question>`` column per graded question (points as earned, before the
penalty). Learners with neither an LMS id nor an email are still written, and named in a
warning: the LMS cannot match them until the roll has one.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbgrader.api import Gradebook
from nbgrader.plugins import ExportPlugin
from traitlets import Bool

from .results import roll_and_submissions


@dataclass
class AssignmentResult:
    name: str
    max_score: float
    questions: list[tuple[str, float]]          # (question, max points), in notebook order
    submitted: bool = False
    raw: float = 0.0
    penalty: float = 0.0
    by_question: dict[str, float] = field(default_factory=dict)

    @property
    def score(self) -> float:
        return max(0.0, round(self.raw - self.penalty, 2))


@dataclass
class LearnerResult:
    id: str
    first_name: str
    last_name: str
    email: str
    lms_user_id: str
    assignments: list[AssignmentResult]


def _questions(assignment: Any) -> list[tuple[str, float]]:
    return [(f"{notebook.name}/{cell.name}" if len(assignment.notebooks) > 1 else cell.name, cell.max_score)
            for notebook in assignment.notebooks for cell in notebook.grade_cells]


def gradebook_results(gradebook: Gradebook, students: list[str] | None = None,
                      assignments: list[str] | None = None) -> list[LearnerResult]:
    """Every learner on the roll with every assignment (``students``/``assignments`` narrow it).

    The assignments and their questions (a few rows per assignment) come from nbgrader's API, in its
    order; the roll, the submissions, their penalties and grades are read in bulk by
    ``results.roll_and_submissions`` (the same queries whatever the cohort's size), not learner by
    learner: tests/instructor/test_lms_export.py checks the result equals walking nbgrader's API."""
    chosen = [a for a in gradebook.assignments if not assignments or a.name in assignments]
    shapes = {a.name: (a.max_score, _questions(a)) for a in chosen}
    roll, submitted = roll_and_submissions(gradebook)
    learners = []
    for student in sorted(roll, key=lambda s: s.id):
        if students and student.id not in students:
            continue
        results = []
        for assignment in chosen:
            result = AssignmentResult(assignment.name, *shapes[assignment.name])
            submission = submitted.get((student.id, assignment.name))
            if submission is not None:
                result.submitted, result.raw, result.penalty = True, submission.score, submission.late_penalty
                for notebook, question, score in submission.grades:
                    key = f"{notebook}/{question}" if submission.notebooks > 1 else question
                    result.by_question[key] = float(score or 0)
            results.append(result)
        learners.append(LearnerResult(student.id, student.first_name or "", student.last_name or "",
                                      student.email or "", str(student.lms_user_id or ""), results))
    return learners


def unmatched_warning(learners: list[LearnerResult]) -> str | None:
    """A warning naming the learners an LMS could not match (no LMS id and no email on the roll)."""
    unmatched = [learner.id for learner in learners if not (learner.lms_user_id or learner.email)]
    if not unmatched:
        return None
    return (f"{len(unmatched)} learner(s) on the roll have neither an LMS id nor an email, so the LMS cannot match "
            f"their rows: {', '.join(unmatched[:10])}{' ...' if len(unmatched) > 10 else ''}. Load the roll with "
            "`nbgrader db student import roll.csv` (columns id, first_name, last_name, email, lms_user_id).")


def _points(value: float) -> str:
    return f"{value:g}"


class LmsExport(ExportPlugin):
    """Common to the LMS formats: one row per learner, assignments (and their parts) as columns."""

    per_question = Bool(True, help="Add a late penalty column and one column per graded question after "
                                   "each assignment").tag(config=True)
    default_file = "grades.csv"

    def identity_header(self) -> list[str]:
        raise NotImplementedError

    def identity(self, learner: LearnerResult) -> list[str]:
        raise NotImplementedError

    def columns(self, assignment: AssignmentResult) -> list[str]:
        names = [assignment.name]
        if self.per_question:
            names += [f"{assignment.name}: late penalty"] + [f"{assignment.name}: {q}" for q, _ in assignment.questions]
        return names

    def values(self, assignment: AssignmentResult) -> list[str]:
        values = [_points(assignment.score)]
        if self.per_question:
            values += [_points(assignment.penalty)]
            values += [_points(assignment.by_question.get(q, 0.0)) for q, _ in assignment.questions]
        return values

    def rows(self, learners: list[LearnerResult]) -> list[list[str]]:
        raise NotImplementedError

    def export(self, gradebook: Gradebook) -> None:
        self.write(gradebook_results(gradebook, [str(s) for s in self.student] or None,
                                     [str(a) for a in self.assignment] or None))

    def write(self, learners: list[LearnerResult]) -> None:
        """Write ``learners`` (from ``gradebook_results``) in this LMS's format to ``to``."""
        warning = unmatched_warning(learners)
        if warning:
            self.log.warning(warning)
        destination = Path(self.to or self.default_file)
        destination.parent.mkdir(parents=True, exist_ok=True)
        with open(destination, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(self.rows(learners))
        self.log.info("Wrote %d learners' grades to %s", len(learners), destination)


class CanvasExport(LmsExport):
    """Canvas's gradebook import CSV (Grades > Import)."""

    default_file = "canvas-grades.csv"
    IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]

    def rows(self, learners: list[LearnerResult]) -> list[list[str]]:
        shape = learners[0].assignments if learners else []
        header = self.IDENTITY + [c for a in shape for c in self.columns(a)]
        possible = ["Points Possible", "", "", "", ""]
        for assignment in shape:
            possible.append(_points(assignment.max_score))
            if self.per_question:
                possible += [""] + [_points(points) for _q, points in assignment.questions]
        rows = [header, possible]
        for learner in learners:
            name = ", ".join(part for part in (learner.last_name, learner.first_name) if part) or learner.id
            rows.append([name, learner.lms_user_id, learner.id, learner.email, ""]
                        + [v for a in learner.assignments for v in self.values(a)])
        return rows


class MoodleExport(LmsExport):
    """Moodle's grade import CSV (Grades > Import > CSV file)."""

    default_file = "moodle-grades.csv"
    IDENTITY = ["First name", "Last name", "ID number", "Email address"]

    def rows(self, learners: list[LearnerResult]) -> list[list[str]]:
        shape = learners[0].assignments if learners else []
        rows = [self.IDENTITY + [c for a in shape for c in self.columns(a)]]
        for learner in learners:
            rows.append([learner.first_name, learner.last_name, learner.lms_user_id, learner.email]
                        + [v for a in learner.assignments for v in self.values(a)])
        return rows


def export_lms(db_url: str, folder: Path) -> tuple[tuple[Path, Path], str | None]:
    """``canvas-grades.csv`` and ``moodle-grades.csv`` in ``folder`` (as ``nbgrader export`` writes them),
    and the warning naming learners the LMS cannot match, if any."""
    folder = Path(folder)
    paths = (folder / CanvasExport.default_file, folder / MoodleExport.default_file)
    with Gradebook(db_url) as gradebook:
        learners = gradebook_results(gradebook)  # read once for both formats
    for plugin, path in zip((CanvasExport, MoodleExport), paths):
        plugin(to=str(path)).write(learners)
    return paths, unmatched_warning(learners)
