"""A synthetic nbgrader gradebook of any size, for benchmarks and for checking the bulk reads of ``results``.

The assignments, notebooks and cells are made through nbgrader's own API (``Gradebook.add_*``);
the learners, their submissions and grades are inserted in bulk with the same rows nbgrader's
``Gradebook.add_submission`` and autograding write (one grade per grade or task cell, one comment per
solution or task cell), so a gradebook of 1,000 learners takes seconds to make instead of minutes.
Everything comes from ``seed``: the same arguments give the same gradebook.

Each assignment has one notebook of autograded code tests (1 to 9 points), two written answers
graded by hand and, in the first assignment, a task cell. Learners submit most assignments, some late,
a few with an extension; written answers are sometimes still waiting for a grader, sometimes graded
with extra credit.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

DUE = datetime(2026, 10, 2, 17, 0)


def build_gradebook(db_url: str, learners: int = 1000, assignments: int = 4, tests: int = 15,
                    seed: int = 16) -> dict[str, int]:
    """Fill the (empty) gradebook at ``db_url``; returns how many rows of each kind were written."""
    from nbgrader.api import (Comment, Grade, Gradebook, Student, SubmittedAssignment, SubmittedNotebook,
                              new_uuid)

    from .new_gradebook import create_gradebook

    create_gradebook(db_url)
    rng = random.Random(seed)
    names = [f"assignment-{n + 1}" for n in range(assignments)]
    with Gradebook(db_url) as gradebook:
        structure = []  # (assignment id, due date, [(notebook id, graded cells, commented cell ids)])
        for number, name in enumerate(names):
            due = DUE + timedelta(weeks=number)
            assignment = gradebook.add_assignment(name, duedate=due)
            notebook = gradebook.add_notebook(name, name)
            graded, commented = [], []
            for test in range(tests):
                cell = gradebook.add_grade_cell(f"test-{test + 1}", name, name, max_score=float(rng.randint(1, 9)),
                                                cell_type="code")
                graded.append((cell.id, cell.max_score, "code"))
            for written in range(2):
                cell = gradebook.add_grade_cell(f"written-{written + 1}", name, name, max_score=5.0,
                                                cell_type="markdown")
                graded.append((cell.id, cell.max_score, "markdown"))
                solution = gradebook.add_solution_cell(f"written-{written + 1}", name, name)
                commented.append(solution.id)
            for answer in range(tests // 3):
                commented.append(gradebook.add_solution_cell(f"answer-{answer + 1}", name, name).id)
            if number == 0:
                task = gradebook.add_task_cell("task-1", name, name, max_score=4.0, cell_type="markdown")
                graded.append((task.id, task.max_score, "task"))
                commented.append(task.id)
            structure.append((assignment.id, due, [(notebook.id, graded, commented)]))

        students, submissions, notebooks, grades, comments = [], [], [], [], []
        for number in range(learners):
            student = f"learner-{number + 1:04d}"
            students.append({"id": student, "first_name": f"Given{number % 97}", "last_name": f"Family{number % 89}",
                             "email": f"{student}@example.org"})
            ability = rng.random()
            for assignment_id, due, assignment_notebooks in structure:
                if rng.random() < 0.06:  # not submitted
                    continue
                submission_id = new_uuid()
                extension = timedelta(days=2) if rng.random() < 0.02 else None
                late = rng.random() < 0.1
                timestamp = due + (timedelta(hours=rng.randint(1, 72)) if late else -timedelta(hours=rng.randint(1, 240)))
                submissions.append({"id": submission_id, "assignment_id": assignment_id, "student_id": student,
                                    "timestamp": timestamp, "extension": extension})
                for notebook_id, graded, commented in assignment_notebooks:
                    submitted_id = new_uuid()
                    notebooks.append({"id": submitted_id, "assignment_id": submission_id, "notebook_id": notebook_id,
                                      "flagged": False, "late_submission_penalty": None})
                    for cell_id, max_score, kind in graded:
                        row = {"id": new_uuid(), "notebook_id": submitted_id, "cell_id": cell_id,
                               "auto_score": None, "manual_score": None, "extra_credit": None,
                               "needs_manual_grade": False}
                        if kind == "code":
                            row["auto_score"] = max_score if rng.random() < ability + 0.2 else 0.0
                        elif rng.random() < 0.3:  # a written answer still waiting for its grader
                            row["needs_manual_grade"] = True
                        else:
                            row["manual_score"] = float(rng.randint(0, int(max_score)))
                            row["extra_credit"] = 1.0 if rng.random() < 0.05 else None
                        grades.append(row)
                    for cell_id in commented:
                        comments.append({"id": new_uuid(), "notebook_id": submitted_id, "cell_id": cell_id,
                                         "auto_comment": None, "manual_comment": None})
        db = gradebook.db
        for model, rows in ((Student, students), (SubmittedAssignment, submissions), (SubmittedNotebook, notebooks),
                            (Grade, grades), (Comment, comments)):
            for start in range(0, len(rows), 5000):
                db.execute(model.__table__.insert(), rows[start:start + 5000])
        db.commit()
    return {"students": len(students), "submissions": len(submissions), "grades": len(grades),
            "comments": len(comments)}
