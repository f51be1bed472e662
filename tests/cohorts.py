"""Synthetic cohorts shared by the grading tests (imported as ``import cohorts``).

``COHORT`` hands in ``fee-proposals`` (36 points) with every kind of result: full marks, a blank
notebook, partial work, a late submission, work that depends on an unsolved part; ``gus`` is on the
roll and never submits. ``tests/conftest.py``'s ``stock_cohort`` is this cohort graded once by stock
``nbgrader autograde``: the grades every other way of grading must equal.
"""
from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

from nbgrader.api import Gradebook

from clientcare.instructor.course import Course
from clientcare.instructor.new_gradebook import create_gradebook
from clientcare.instructor.synthetic import ALL, Learner, submit

ASSIGNMENT = "fee-proposals"
DUE = datetime(2026, 12, 4, 17, 0)
COHORT = [
    Learner("ada", {ASSIGNMENT: ALL}, {ASSIGNMENT: DUE - timedelta(days=1)}),
    Learner("ben", {}, {ASSIGNMENT: DUE - timedelta(days=1)}),
    Learner("chloe", {ASSIGNMENT: ["validate-resourcing", "cost-lines"]}, {ASSIGNMENT: DUE + timedelta(hours=5)}),
    Learner("dev", {ASSIGNMENT: ["fee-proposal", "cost-lines"]}, {ASSIGNMENT: DUE - timedelta(hours=1)}),
    Learner("emeka", {ASSIGNMENT: ["staged-invoices", "scope-options", "cost-lines"]}),  # scope-options needs fee-proposal
    Learner("fay", {ASSIGNMENT: ["validate-resourcing"]}),
]
# each learner's total, as stock nbgrader grades them
TOTALS = {"ada": 36, "ben": 0, "chloe": 8, "dev": 14, "emeka": 10, "fay": 3}
NOT_SUBMITTED = "gus"


def cohort_course(course):
    """``course`` (with ``fee-proposals`` generated, alone) with the due date set, gus on the roll and COHORT submitted.

    Copy the run's template with ``copy_course(..., assignments=[ASSIGNMENT])`` to make ``course``.
    """
    with Gradebook(course.db_url) as gradebook:
        gradebook.update_or_create_assignment(ASSIGNMENT, duedate=DUE)
        gradebook.update_or_create_student(NOT_SUBMITTED)
    for learner in COHORT:
        submit(course, learner, ASSIGNMENT)
    return course


def copy_course(template: Path, root: Path, db_url: str | None = None, assignments: list[str] | None = None):
    """A course at ``root`` copied from the course folder ``template`` (its release/, gradebook and all).

    The copy keeps its own gradebook and exchange (``nbgrader_config.json`` is rewritten for ``root``,
    as ``make_scratch_course`` writes it); with ``db_url`` it uses that gradebook instead (which then
    holds none of the template's assignments: generate them there). With ``assignments`` only those
    are generated in the copy (the others' release folders and gradebook entries are left out), as in
    a course where only those were generated.
    """
    root = Path(root).resolve()
    shutil.copytree(template, root, symlinks=True, ignore=shutil.ignore_patterns(".built"))
    pinned = {"CourseDirectory": {"db_url": db_url or f"sqlite:///{root / 'gradebook.db'}"},
              "Exchange": {"root": str(root / "exchange")}}
    (root / "nbgrader_config.json").write_text(json.dumps(pinned, indent=2) + "\n", encoding="utf-8")
    course = Course(root)
    if db_url:
        (root / "gradebook.db").unlink(missing_ok=True)
        create_gradebook(db_url)
    if assignments is not None:
        others = sorted(set(course.assignments()) - set(assignments))
        for name in others:
            shutil.rmtree(root / "release" / name, ignore_errors=True)
        if others and not db_url:
            with Gradebook(course.db_url) as gradebook:
                for name in others:
                    gradebook.remove_assignment(name)
    return course
