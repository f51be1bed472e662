"""Reading grades out of the nbgrader gradebook as pandas tables.

Every table is read in bulk: a handful of SQL queries over nbgrader's own tables (the ORM classes of
``nbgrader.api`` used as table definitions, nbgrader's own expression for a grade's score), not one
query or more per learner as walking ``Gradebook.assignment_submissions`` does. At 1,000 learners
and 4 assignments that is the difference between minutes and about a second
(``benchmarks/export_and_report.py``); the tables are the same as those nbgrader's API gives
(tests/instructor/test_bulk_results.py checks).
"""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from nbgrader.api import Gradebook


_KIND = {"code": "autograded test", "markdown": "written answer"}


class _Cohort:
    """Everything the tables need, read in one pass over the gradebook (seven queries, whatever its size).

    ``source`` is a gradebook URL or an open ``Gradebook`` (an nbgrader export plugin is handed one)."""

    def __init__(self, source: str | Gradebook, assignment: str | None = None):
        from nbgrader.api import (Assignment, BaseCell, Grade, GradeCell, Notebook, Student, SubmittedAssignment,
                                  SubmittedNotebook, TaskCell)
        from sqlalchemy import String, case, cast, func, literal, select, union_all

        a, nb, base = Assignment.__table__, Notebook.__table__, BaseCell.__table__
        sa, sn, g, st = SubmittedAssignment.__table__, SubmittedNotebook.__table__, Grade.__table__, Student.__table__
        score = Grade.score.expression  # nbgrader's rule: manual score if set, else auto, plus extra credit
        only = [a.c.name == assignment] if assignment else []
        graded_cells = union_all(*(  # a grade belongs to a grade cell or to a task cell
            select(table.c.id, table.c.max_score, cast(table.c.cell_type, String).label("cell_type"),
                   literal(table is GradeCell.__table__).label("grade_cell"))
            for table in (GradeCell.__table__, TaskCell.__table__))).subquery()
        in_submission = g.join(sn, g.c.notebook_id == sn.c.id)
        with Gradebook(source) if isinstance(source, str) else nullcontext(source) as gradebook:
            run = gradebook.db.execute
            # in the order of Gradebook.assignments and Gradebook.students
            self.assignments = run(select(a.c.id, a.c.name, a.c.duedate).where(*only)
                                   .order_by(a.c.duedate, a.c.name)).all()
            roll = run(select(st.c.id, st.c.first_name, st.c.last_name, st.c.email, st.c.lms_user_id)
                       .order_by(st.c.last_name, st.c.first_name)).all()
            self.cells = {row.id: row for row in run(
                select(base.c.id, base.c.name, base.c.notebook_id, nb.c.assignment_id, graded_cells.c.max_score,
                       graded_cells.c.cell_type, graded_cells.c.grade_cell)
                .join(graded_cells, graded_cells.c.id == base.c.id).join(nb, nb.c.id == base.c.notebook_id))}
            self.submissions = run(
                select(sa.c.id, sa.c.student_id, a.c.name.label("assignment"), sa.c.timestamp, sa.c.extension,
                       a.c.duedate).join(a, a.c.id == sa.c.assignment_id).where(*only)).all()
            # SubmittedAssignment.score and .needs_manual_grade for every submission at once (one GROUP BY)
            totals = {row.id: row for row in run(
                select(sn.c.assignment_id.label("id"), func.sum(score).label("score"),
                       func.sum(case((g.c.needs_manual_grade, 1), else_=0)).label("manual_grades"))
                .select_from(in_submission).group_by(sn.c.assignment_id))}
            submitted_notebooks = run(select(sn.c.assignment_id, sn.c.notebook_id, sn.c.late_submission_penalty)
                                      .join(sa, sa.c.id == sn.c.assignment_id).join(a, a.c.id == sa.c.assignment_id)
                                      .where(*only)).all()
            self.grades = run(
                select(sa.c.student_id, a.c.name.label("assignment"), nb.c.name.label("notebook"), g.c.cell_id,
                       score.label("score"), g.c.auto_score, g.c.manual_score, g.c.needs_manual_grade)
                .select_from(in_submission.join(sa, sa.c.id == sn.c.assignment_id)
                             .join(a, a.c.id == sa.c.assignment_id).join(nb, nb.c.id == sn.c.notebook_id))
                .where(*only)).all()
        self.students = [row.id for row in roll]
        self.roll = {row.id: row for row in roll}  # Student: first_name, last_name, email, lms_user_id
        self.score = {row.id: (totals[row.id].score if row.id in totals else 0.0) for row in self.submissions}
        self.manual_grades = {row.id: (totals[row.id].manual_grades if row.id in totals else 0)
                              for row in self.submissions}
        self.max_score = {row.id: 0.0 for row in self.assignments}  # Assignment.max_score
        code_max: dict[str, float] = {}  # notebook id -> Notebook.max_code_score (code grade cells only)
        for cell in self.cells.values():
            if cell.assignment_id in self.max_score:
                self.max_score[cell.assignment_id] += cell.max_score
            if cell.grade_cell and cell.cell_type == "code":
                code_max[cell.notebook_id] = code_max.get(cell.notebook_id, 0.0) + cell.max_score
        self.auto_max: dict[str, float] = {}  # submission id -> sum of its notebooks' max_code_score
        self.penalty: dict[str, float] = {}  # submission id -> SubmittedAssignment.late_submission_penalty
        self.notebook_count: dict[str, int] = {}  # submission id -> len(SubmittedAssignment.notebooks)
        for submission_id, notebook_id, penalty in submitted_notebooks:
            self.auto_max[submission_id] = self.auto_max.get(submission_id, 0.0) + code_max.get(notebook_id, 0.0)
            self.penalty[submission_id] = self.penalty.get(submission_id, 0.0) + (penalty or 0.0)  # NULL counts 0
            self.notebook_count[submission_id] = self.notebook_count.get(submission_id, 0) + 1


def _seconds_late(submission) -> float:
    """``SubmittedAssignment.total_seconds_late``: past the due date plus any extension, else 0."""
    if submission.timestamp is None or submission.duedate is None:
        return 0
    duedate = submission.duedate + submission.extension if submission.extension is not None else submission.duedate
    return max(0, (submission.timestamp - duedate).total_seconds())


def submission_scores(db_url: str, assignment: str) -> pd.DataFrame:
    """One row per submitted learner: score, max score, and whether manual grading is still needed."""
    cohort = _Cohort(db_url, assignment)
    max_score = {row.name: cohort.max_score[row.id] for row in cohort.assignments}
    rows = [{
        "student": submission.student_id,
        "assignment": assignment,
        "score": round(cohort.score[submission.id], 2),
        "max_score": max_score[assignment],
        "auto_max": cohort.auto_max.get(submission.id, 0),
        "needs_manual_grade": bool(cohort.manual_grades[submission.id]),
    } for submission in cohort.submissions]
    columns = ["student", "assignment", "score", "max_score", "auto_max", "needs_manual_grade"]
    return pd.DataFrame(rows, columns=columns).sort_values("student", ignore_index=True)


def score_of(db_url: str, assignment: str, student: str) -> float:
    """The total score of one learner's submission."""
    with Gradebook(db_url) as gradebook:
        return gradebook.find_submission(assignment, student).score


def question_scores(db_url: str, assignment: str | None = None) -> pd.DataFrame:
    """One row per learner and graded question (test cell or written answer)."""
    cohort = _Cohort(db_url, assignment)
    rows = []
    for grade in cohort.grades:
        cell = cohort.cells[grade.cell_id]
        rows.append({
            "student": grade.student_id, "assignment": grade.assignment, "notebook": grade.notebook,
            "question": cell.name, "kind": _KIND[cell.cell_type], "score": grade.score, "max_score": cell.max_score,
            "auto_score": grade.auto_score, "manual_score": grade.manual_score,
            "needs_manual_grade": bool(grade.needs_manual_grade),
        })
    columns = ["student", "assignment", "notebook", "question", "kind", "score", "max_score",
               "auto_score", "manual_score", "needs_manual_grade"]
    return pd.DataFrame(rows, columns=columns).sort_values(["assignment", "student", "notebook", "question"],
                                                           ignore_index=True)


def assignment_grades(db_url: str) -> pd.DataFrame:
    """One row per learner on the roll and assignment, including those who have not submitted."""
    cohort = _Cohort(db_url)
    submitted = {(s.assignment, s.student_id): s for s in cohort.submissions}
    rows = []
    for assignment in cohort.assignments:
        max_score = cohort.max_score[assignment.id]
        for student in cohort.students:
            submission = submitted.get((assignment.name, student))
            seconds_late = _seconds_late(submission) if submission else None
            rows.append({
                "student": student, "assignment": assignment.name,
                "submitted": submission is not None,
                "score": cohort.score[submission.id] if submission else None, "max_score": max_score,
                "timestamp": submission.timestamp if submission else None,
                "duedate": assignment.duedate,
                "seconds_late": seconds_late, "late": bool(seconds_late) if submission else None,
                "needs_manual_grade": bool(cohort.manual_grades[submission.id]) if submission else None,
            })
    columns = ["student", "assignment", "submitted", "score", "max_score", "timestamp", "duedate",
               "seconds_late", "late", "needs_manual_grade"]
    return pd.DataFrame(rows, columns=columns).sort_values(["assignment", "student"], ignore_index=True)


@dataclass
class Submission:
    """One learner's submission of one assignment, as nbgrader's ``SubmittedAssignment`` gives it."""

    score: float                # SubmittedAssignment.score (before any late penalty)
    late_penalty: float         # SubmittedAssignment.late_submission_penalty (0 when none was assigned)
    notebooks: int              # len(SubmittedAssignment.notebooks)
    grades: list[tuple[str, str, float | None]] = field(default_factory=list)  # (notebook, cell, Grade.score)


def roll_and_submissions(source: str | Gradebook) -> tuple[list, dict[tuple[str, str], Submission]]:
    """The roll (each learner's ``id, first_name, last_name, email, lms_user_id``, in the order of
    ``Gradebook.students``) and every submission keyed by ``(student, assignment)``, in bulk: the
    same queries as the tables above, whatever the cohort's size. ``source`` is a gradebook URL or an
    open ``Gradebook``."""
    cohort = _Cohort(source)
    submissions = {(row.student_id, row.assignment): Submission(
        float(cohort.score[row.id]), float(cohort.penalty.get(row.id, 0.0)), cohort.notebook_count.get(row.id, 0))
        for row in cohort.submissions}
    for grade in cohort.grades:
        submissions[(grade.student_id, grade.assignment)].grades.append(
            (grade.notebook, cohort.cells[grade.cell_id].name, grade.score))
    return [cohort.roll[student] for student in cohort.students], submissions


def export_grades(db_url: str, folder: Path) -> tuple[Path, Path]:
    """Write grades-by-assignment.csv and grades-by-question.csv into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    by_assignment, by_question = folder / "grades-by-assignment.csv", folder / "grades-by-question.csv"
    assignment_grades(db_url).to_csv(by_assignment, index=False)
    question_scores(db_url).to_csv(by_question, index=False)
    return by_assignment, by_question
