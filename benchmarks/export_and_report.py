"""Benchmark: `clientcare export` and the cohort report on a large cohort (1,000 learners x 4 assignments).

Builds a synthetic gradebook (``clientcare.instructor.synthetic_gradebook``: 15 autograded tests and
two written answers per assignment, most learners submitting, some late) and times, on it:

1. reading the two grade tables (``assignment_grades`` and ``question_scores``) in bulk, as
   ``clientcare.instructor.results`` does, and learner by learner through nbgrader's ORM API, as it
   did before (``tests/nbgrader_reference.py``), and checks both give the same tables;
2. ``clientcare export`` (both CSV files);
3. ``clientcare report`` (the report notebook run in a kernel, plots included, saved as HTML).

The report's time "before" is estimated as its time now plus the difference between the two ways
of reading the tables (the notebook reads them once, in its first cell).

    .venv/bin/python benchmarks/export_and_report.py                      # SQLite, 1,000 x 4
    .venv/bin/python benchmarks/export_and_report.py --db-url postgresql://user@host/empty_db
    .venv/bin/python benchmarks/export_and_report.py --learners 200 --skip-reference

A measurement, not a test: run it on a quiet machine, and say how quiet it was.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the nbgrader-API reference the bulk reads are checked against


def timed(function, *args):
    started = time.monotonic()
    result = function(*args)
    return result, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=1000)
    parser.add_argument("--assignments", type=int, default=4)
    parser.add_argument("--db-url", help="an EMPTY database to fill (default: a SQLite file in a temporary folder)")
    parser.add_argument("--skip-reference", action="store_true",
                        help="do not time nbgrader's learner-by-learner API (it takes minutes at 1,000 learners)")
    args = parser.parse_args()

    import pandas as pd

    from clientcare.cli import main as clientcare
    from clientcare.instructor.results import assignment_grades, question_scores
    from clientcare.instructor.synthetic_gradebook import build_gradebook

    with tempfile.TemporaryDirectory(prefix="clientcare-bench-") as scratch:
        scratch = Path(scratch)
        db_url = args.db_url or f"sqlite:///{scratch / 'gradebook.db'}"
        counts, seconds = timed(build_gradebook, db_url, args.learners, args.assignments)
        print(f"gradebook ({db_url.split(':', 1)[0]}): {counts['students']} learners, {counts['submissions']} "
              f"submissions, {counts['grades']} grades, {counts['comments']} comments, made in {seconds:.1f} s",
              flush=True)
        course = scratch / "course"  # the commands need a course folder; --db-url names the gradebook
        course.mkdir()
        (course / "nbgrader_config.py").write_text("c = get_config()  # noqa: F821\n")
        rows = []

        (grades, questions), bulk = timed(lambda: (assignment_grades(db_url), question_scores(db_url)))
        rows.append(("read both tables, in bulk", bulk))
        if not args.skip_reference:
            from nbgrader_reference import reference_assignment_grades, reference_question_scores

            (ref_grades, ref_questions), reference = timed(
                lambda: (reference_assignment_grades(db_url), reference_question_scores(db_url)))
            pd.testing.assert_frame_equal(grades, ref_grades)
            pd.testing.assert_frame_equal(questions, ref_questions)
            rows.append(("read both tables, learner by learner (nbgrader API, before)", reference))
            print("the bulk tables equal nbgrader's API's", flush=True)

        argv = ["--course", str(course), "--db-url", db_url]
        null = open(os.devnull, "w")
        stdout, sys.stdout = sys.stdout, null
        try:
            _, export = timed(clientcare, ["export", *argv, "--out", str(scratch / "export")])
            _, report = timed(clientcare, ["report", *argv, "--out", str(scratch / "report" / "cohort.html")])
        finally:
            sys.stdout = stdout
        rows.append(("clientcare export", export))
        rows.append(("clientcare report (HTML, plots)", report))
        if not args.skip_reference:
            rows.append(("clientcare export before (estimated: + reference reading)", export - bulk + reference))
            rows.append(("clientcare report before (estimated: + reference reading)", report - bulk + reference))
        size = (scratch / "export" / "grades-by-question.csv").stat().st_size
        print(f"\n{args.learners} learners x {args.assignments} assignments, {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.1f} at the end")
        for name, seconds in rows:
            print(f"  {name:62s} {seconds:8.1f} s")
        print(f"  grades-by-question.csv: {size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
