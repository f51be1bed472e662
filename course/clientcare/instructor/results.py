"""Reading grades out of the nbgrader gradebook as pandas tables."""
from __future__ import annotations

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
