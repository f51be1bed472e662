"""The grade tables as nbgrader's own API gives them, learner by learner (the reference for the bulk reads).

This is how ``clientcare.instructor.results`` read the gradebook before it read it in bulk: walking
``Gradebook.assignment_submissions`` and each submission's notebooks and grades through nbgrader's
ORM (several queries per learner), and how ``clientcare.instructor.lms`` read each learner's
submissions (``reference_lms_results``). tests/instructor/test_bulk_results.py and test_lms_export.py
check the bulk reads equal these; benchmarks/export_and_report.py times both.
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


def reference_lms_results(gradebook, students=None, assignments=None):
    """``clientcare.instructor.lms.gradebook_results`` as it read the gradebook before it read it in bulk:
    each learner's submission of each assignment through ``Gradebook.find_submission`` (nbgrader's ORM)."""
    from clientcare.instructor.lms import AssignmentResult, LearnerResult, _questions

    chosen = [a for a in gradebook.assignments if not assignments or a.name in assignments]
    shapes = {a.name: (a.max_score, _questions(a)) for a in chosen}
    learners = []
    for student in sorted(gradebook.students, key=lambda s: s.id):
        if students and student.id not in students:
            continue
        results = []
        for assignment in chosen:
            result = AssignmentResult(assignment.name, *shapes[assignment.name])
            try:
                submission = gradebook.find_submission(assignment.name, student.id)
            except MissingEntry:
                submission = None
            if submission is not None:
                result.submitted, result.raw = True, float(submission.score)
                result.penalty = float(submission.late_submission_penalty or 0)
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        key = f"{notebook.name}/{grade.name}" if len(submission.notebooks) > 1 else grade.name
                        result.by_question[key] = float(grade.score or 0)
            results.append(result)
        learners.append(LearnerResult(student.id, student.first_name or "", student.last_name or "",
                                      student.email or "", str(student.lms_user_id or ""), results))
    return learners


def statements(read, *args) -> int:
    """How many SQL statements ``read(*args)`` sends to the database."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    sent = []

    def count(*_):
        sent.append(1)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        read(*args)
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    return len(sent)
