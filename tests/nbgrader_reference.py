"""The grade tables as nbgrader's own API gives them, learner by learner (the reference for the bulk reads).

This is how ``clientcare.instructor.results`` read the gradebook before it read it in bulk: walking
``Gradebook.assignment_submissions`` and each submission's notebooks and grades through nbgrader's
ORM (several queries per learner). tests/instructor/test_bulk_results.py checks the bulk tables
equal these; benchmarks/export_and_report.py times both.
"""
from __future__ import annotations

import pandas as pd
from nbgrader.api import Gradebook, MissingEntry

_KIND = {"code": "autograded test", "markdown": "written answer"}


def reference_submission_scores(db_url, assignment):
    rows = []
    with Gradebook(db_url) as gradebook:
        try:
            submissions = gradebook.assignment_submissions(assignment)
        except MissingEntry:
            submissions = []
        for submission in submissions:
            rows.append({"student": submission.student_id, "assignment": assignment,
                         "score": round(submission.score, 2), "max_score": submission.max_score,
                         "auto_max": sum(nb.max_code_score for nb in submission.notebooks),
                         "needs_manual_grade": bool(submission.needs_manual_grade)})
    columns = ["student", "assignment", "score", "max_score", "auto_max", "needs_manual_grade"]
    return pd.DataFrame(rows, columns=columns).sort_values("student", ignore_index=True)


def reference_question_scores(db_url, assignment=None):
    rows = []
    with Gradebook(db_url) as gradebook:
        names = [assignment] if assignment else [a.name for a in gradebook.assignments]
        for name in names:
            for submission in gradebook.assignment_submissions(name):
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        rows.append({
                            "student": submission.student_id, "assignment": name, "notebook": notebook.name,
                            "question": grade.name, "kind": _KIND[grade.cell.cell_type], "score": grade.score,
                            "max_score": grade.max_score, "auto_score": grade.auto_score,
                            "manual_score": grade.manual_score, "needs_manual_grade": bool(grade.needs_manual_grade),
                        })
    columns = ["student", "assignment", "notebook", "question", "kind", "score", "max_score",
               "auto_score", "manual_score", "needs_manual_grade"]
    return pd.DataFrame(rows, columns=columns).sort_values(["assignment", "student", "notebook", "question"],
                                                           ignore_index=True)


def reference_assignment_grades(db_url):
    rows = []
    with Gradebook(db_url) as gradebook:
        for assignment in gradebook.assignments:
            submitted = {s.student_id: s for s in gradebook.assignment_submissions(assignment.name)}
            for student in gradebook.students:
                submission = submitted.get(student.id)
                seconds_late = submission.total_seconds_late if submission else None
                rows.append({
                    "student": student.id, "assignment": assignment.name, "submitted": submission is not None,
                    "score": submission.score if submission else None, "max_score": assignment.max_score,
                    "timestamp": submission.timestamp if submission else None, "duedate": assignment.duedate,
                    "seconds_late": seconds_late, "late": bool(seconds_late) if submission else None,
                    "needs_manual_grade": bool(submission.needs_manual_grade) if submission else None,
                })
    columns = ["student", "assignment", "submitted", "score", "max_score", "timestamp", "duedate",
               "seconds_late", "late", "needs_manual_grade"]
    return pd.DataFrame(rows, columns=columns).sort_values(["assignment", "student"], ignore_index=True)
