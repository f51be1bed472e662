"""Reading grades out of the nbgrader gradebook as pandas tables."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from nbgrader.api import Gradebook, MissingEntry


def submission_scores(db_url: str, assignment: str) -> pd.DataFrame:
    """One row per submitted learner: score, max score, and whether manual grading is still needed."""
    rows = []
    with Gradebook(db_url) as gradebook:
        try:
            submissions = gradebook.assignment_submissions(assignment)
        except MissingEntry:
            submissions = []
        for submission in submissions:
            rows.append({
                "student": submission.student_id,
                "assignment": assignment,
                "score": round(submission.score, 2),
                "max_score": submission.max_score,
                "auto_max": sum(nb.max_code_score for nb in submission.notebooks),
                "needs_manual_grade": bool(submission.needs_manual_grade),
            })
    columns = ["student", "assignment", "score", "max_score", "auto_max", "needs_manual_grade"]
    return pd.DataFrame(rows, columns=columns).sort_values("student", ignore_index=True)


def score_of(db_url: str, assignment: str, student: str) -> float:
    """The total score of one learner's submission."""
    with Gradebook(db_url) as gradebook:
        return gradebook.find_submission(assignment, student).score


_KIND = {"code": "autograded test", "markdown": "written answer"}


def question_scores(db_url: str, assignment: str | None = None) -> pd.DataFrame:
    """One row per learner and graded question (test cell or written answer)."""
    rows = []
    with Gradebook(db_url) as gradebook:
        names = [assignment] if assignment else [a.name for a in gradebook.assignments]
        for name in names:
            for submission in gradebook.assignment_submissions(name):
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        rows.append({
                            "student": submission.student_id, "assignment": name, "notebook": notebook.name,
                            "question": grade.name, "kind": _KIND[grade.cell.cell_type], "score": grade.score, "max_score": grade.max_score,
                            "auto_score": grade.auto_score, "manual_score": grade.manual_score,
                            "needs_manual_grade": bool(grade.needs_manual_grade),
                        })
    columns = ["student", "assignment", "notebook", "question", "kind", "score", "max_score",
               "auto_score", "manual_score", "needs_manual_grade"]
    return pd.DataFrame(rows, columns=columns).sort_values(["assignment", "student", "notebook", "question"],
                                                           ignore_index=True)


def assignment_grades(db_url: str) -> pd.DataFrame:
    """One row per learner on the roll and assignment, including those who have not submitted."""
    rows = []
    with Gradebook(db_url) as gradebook:
        for assignment in gradebook.assignments:
            submitted = {s.student_id: s for s in gradebook.assignment_submissions(assignment.name)}
            max_score = assignment.max_score
            for student in gradebook.students:
                submission = submitted.get(student.id)
                seconds_late = submission.total_seconds_late if submission else None
                rows.append({
                    "student": student.id, "assignment": assignment.name,
                    "submitted": submission is not None,
                    "score": submission.score if submission else None, "max_score": max_score,
                    "timestamp": submission.timestamp if submission else None,
                    "duedate": assignment.duedate,
                    "seconds_late": seconds_late, "late": bool(seconds_late) if submission else None,
                    "needs_manual_grade": bool(submission.needs_manual_grade) if submission else None,
                })
    columns = ["student", "assignment", "submitted", "score", "max_score", "timestamp", "duedate",
               "seconds_late", "late", "needs_manual_grade"]
    return pd.DataFrame(rows, columns=columns).sort_values(["assignment", "student"], ignore_index=True)


def export_grades(db_url: str, folder: Path) -> tuple[Path, Path]:
    """Write grades-by-assignment.csv and grades-by-question.csv into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    by_assignment, by_question = folder / "grades-by-assignment.csv", folder / "grades-by-question.csv"
    assignment_grades(db_url).to_csv(by_assignment, index=False)
    question_scores(db_url).to_csv(by_question, index=False)
    return by_assignment, by_question
