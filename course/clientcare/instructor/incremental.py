"""Which submissions ``clientcare grade`` grades: named learners (``--student``) and new work (``--new-only``).

A submission is *new* when it has never been autograded, or when it was submitted again after its
last autograde. That is nbgrader's own rule for re-converting without ``--force``
(``BaseConverter._output_outdated``): the submission's ``timestamp.txt`` is later than the copy nbgrader
keeps in ``autograded/``. A submission without a timestamp on either side is new when any of its files
was written or copied into ``submitted/`` after the graded notebook was written. A submission the
gradebook does not hold (a gradebook rebuilt or reset) is new too.
"""
from __future__ import annotations

import os
from pathlib import Path

from .submission_files import unsafe_student_id


def _timestamp(folder: Path):
    """The parsed ``timestamp.txt`` in ``folder`` (None if there is none, it is empty or it is unreadable)."""
    from nbgrader.utils import parse_utc

    path = folder / "timestamp.txt"
    if path.is_symlink() or not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8").strip()
        return parse_utc(text) if text else None
    except (OSError, ValueError):
        return None


def _newest_change(folder: Path) -> float:
    """The latest write or arrival (mtime or ctime) of any entry under ``folder``, links not followed."""
    newest = 0.0
    for parent, folders, files in os.walk(folder):
        for name in folders + files:
            info = os.lstat(os.path.join(parent, name))
            newest = max(newest, info.st_mtime, info.st_ctime)
    return newest


def _graded_at(folder: Path) -> float:
    """When the graded notebooks in ``autograded/<student>/<assignment>`` were written (0 if there are none)."""
    notebooks = [p for p in folder.glob("*.ipynb") if p.is_file()]
    return max((p.stat().st_mtime for p in notebooks), default=0.0)


def is_new(root: Path, assignment: str, student: str) -> bool:
    """Whether ``student``'s submission of ``assignment`` was submitted after its last autograde (or never graded)."""
    submitted = Path(root) / "submitted" / student / assignment
    autograded = Path(root) / "autograded" / student / assignment
    graded_at = _graded_at(autograded)
    if not graded_at:
        return True
    submitted_stamp, graded_stamp = _timestamp(submitted), _timestamp(autograded)
    if submitted_stamp is not None and graded_stamp is not None:
        return submitted_stamp > graded_stamp
    return _newest_change(submitted) > graded_at


def graded_in_gradebook(db_url: str, assignment: str) -> set[str]:
    """The learners the gradebook holds a submission of ``assignment`` for (one query)."""
    from nbgrader.api import Assignment, Gradebook, SubmittedAssignment

    with Gradebook(db_url) as gradebook:
        rows = (gradebook.db.query(SubmittedAssignment.student_id)
                .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
                .filter(Assignment.name == assignment).all())
    return {student for (student,) in rows}


def new_submissions(root: Path, assignment: str, students: list[str], db_url: str) -> list[str]:
    """Those of ``students`` whose submission is new (see the module's text); unsafe ids are kept to be reported."""
    in_gradebook = graded_in_gradebook(db_url, assignment)
    return [s for s in students
            if unsafe_student_id(s) or s not in in_gradebook or is_new(root, assignment, s)]


def named_students(root: Path, assignment: str, names: list[str]) -> tuple[list[str], list[str]]:
    """(the learners named with ``--student``, in order and once each; the errors that stop grading).

    An unsafe id is refused by name before it is used in any path; a learner with no submission of
    ``assignment`` is an error too (a typo must not look like a learner graded).
    """
    chosen, errors = [], []
    for name in dict.fromkeys(names):
        reason = unsafe_student_id(name)
        if reason:
            errors.append(f"refusing --student {name!r}: the student id is unsafe to grade ({reason})")
        elif not os.path.lexists(Path(root) / "submitted" / name / assignment):
            errors.append(f"--student {name!r}: no submission of '{assignment}' in {Path(root) / 'submitted' / name}")
        else:
            chosen.append(name)
    return chosen, errors
