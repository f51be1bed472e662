"""Benchmark: `clientcare export` and the cohort report on a large cohort (1,000 learners x 4 assignments).

Builds a synthetic gradebook (``clientcare.instructor.synthetic_gradebook``: 15 autograded tests and
two written answers per assignment, most learners submitting, some late) and times, on it:

1. reading the two grade tables (``assignment_grades`` and ``question_scores``) in bulk, as
   ``clientcare.instructor.results`` does, and learner by learner through nbgrader's ORM API, as it
   did before (``tests/nbgrader_reference.py``), and checks both give the same tables;
2. the LMS exports (Canvas's and Moodle's CSVs, ``clientcare.instructor.lms``) read in bulk, and
   learner by learner through ``Gradebook.find_submission`` as they did before
   (``reference_lms_results``), checking both give the same rows; before, ``clientcare export``
   read them three times (once per format, once more for the warning about unmatched learners);
3. ``clientcare export`` (the two grade CSVs and the two LMS CSVs);
4. ``clientcare report`` (the report notebook run in a kernel, plots included, saved as HTML);
5. nbgrader's formgrader on the same gradebook: a Jupyter server with the formgrader extension,
   bound to 127.0.0.1 with a throwaway token and stopped afterwards, in a course folder (course id and
   exchange set as the course's ``nbgrader_config.py`` sets them) holding the
   ``source/``, ``submitted/`` (with ``timestamp.txt``) and ``autograded/`` folders the gradebook's
   submissions imply; each gradebook API endpoint its pages call is requested twice (the first
   request also opens the gradebook), then twice again after adding the foreign-key indexes of
   ``clientcare.instructor.gradebook_indexes`` (which nbgrader's schema lacks).

The times "before" of export and report are estimated as their times now plus the difference between
the two ways of reading (the report notebook reads the tables once, in its first cell). The learner
by learner LMS read can be timed on part of the roll (``--lms-reference-learners``): each
``find_submission`` costs the same whichever learner it is for (the tables are the full cohort's), so
its time is scaled to the whole roll, and the output says so.

    .venv/bin/python benchmarks/export_and_report.py                      # SQLite, 1,000 x 4
    .venv/bin/python benchmarks/export_and_report.py --db-url postgresql://user@host/empty_db
    .venv/bin/python benchmarks/export_and_report.py --learners 200 --skip-reference --skip-formgrader

A measurement, not a test: run it on a quiet machine, and say how quiet it was.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the nbgrader-API reference the bulk reads are checked against


def timed(function, *args):
    started = time.monotonic()
    result = function(*args)
    return result, time.monotonic() - started


def late_penalties(db_url: str) -> None:
    """A late penalty on every late submission (the synthetic gradebook has none), so the exports carry some."""
    from nbgrader.api import Assignment, Gradebook, SubmittedAssignment, SubmittedNotebook
    from sqlalchemy import select, update

    late = (select(SubmittedAssignment.id).join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
            .where(SubmittedAssignment.timestamp > Assignment.duedate))
    with Gradebook(db_url) as gradebook:
        gradebook.db.execute(update(SubmittedNotebook).where(SubmittedNotebook.assignment_id.in_(late))
                             .values(late_submission_penalty=1.5))
        gradebook.db.commit()


def lms_exports(db_url: str, folder: Path, reference_learners: int | None):
    """Time the LMS exports in bulk and learner by learner; check both give the same learners' rows."""
    from nbgrader.api import Gradebook
    from nbgrader_reference import reference_lms_results

    from clientcare.instructor.lms import CanvasExport, MoodleExport, export_lms, gradebook_results

    rows = []
    _, bulk = timed(export_lms, db_url, folder / "lms-bulk")
    rows.append(("LMS exports (Canvas + Moodle), in bulk, now", bulk))
    if reference_learners == 0:
        return rows
    with Gradebook(db_url) as gradebook:
        roll = sorted(student.id for student in gradebook.students)
        sample = roll[:reference_learners] if reference_learners else roll
        learners, reference = timed(reference_lms_results, gradebook, sample if len(sample) < len(roll) else None)
        assert learners == gradebook_results(gradebook, sample), "the bulk LMS rows differ from nbgrader's API"
    print(f"the bulk LMS rows equal nbgrader's API's ({len(sample)} learners)", flush=True)
    (folder / "lms-reference").mkdir()
    _, writing = timed(lambda: [plugin(to=str(folder / "lms-reference" / plugin.default_file)).write(learners)
                                for plugin in (CanvasExport, MoodleExport)])
    scale = len(roll) / len(sample)
    if scale != 1:
        rows.append((f"one LMS read learner by learner, {len(sample)} of {len(roll)} learners (measured)", reference))
    rows.append(("LMS exports learner by learner, before: 3 reads + writing"
                 + (f" (x{scale:g}, scaled)" if scale != 1 else ""), 3 * reference * scale + writing))
    return rows


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def course_folders(db_url: str, course: Path) -> list[tuple[str, str]]:
    """The course folders formgrader reads beside the gradebook: source/<assignment>/, and for each submission
    submitted/<learner>/<assignment>/timestamp.txt and autograded/<learner>/<assignment>/<notebook>.ipynb."""
    from nbgrader.api import Assignment, Gradebook, Notebook, SubmittedAssignment, SubmittedNotebook

    with Gradebook(db_url) as gradebook:
        db = gradebook.db
        for (name,) in db.query(Assignment.name):
            (course / "source" / name).mkdir(parents=True)
        notebooks = (db.query(SubmittedAssignment.student_id, Assignment.name, Notebook.name,
                              SubmittedAssignment.timestamp)
                     .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
                     .join(SubmittedNotebook, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
                     .join(Notebook, Notebook.id == SubmittedNotebook.notebook_id).all())
    for student, assignment, notebook, timestamp in notebooks:
        submitted = course / "submitted" / student / assignment
        submitted.mkdir(parents=True, exist_ok=True)
        (submitted / "timestamp.txt").write_text(f"{timestamp.isoformat(' ')} UTC\n" if timestamp else "")
        autograded = course / "autograded" / student / assignment
        autograded.mkdir(parents=True, exist_ok=True)
        (autograded / f"{notebook}.ipynb").write_text('{"cells": [], "metadata": {}, "nbformat": 4, '
                                                      '"nbformat_minor": 5}\n')
        (autograded / "timestamp.txt").write_text((submitted / "timestamp.txt").read_text())
    return sorted({(assignment, notebook) for _, assignment, notebook, _ in notebooks})


def formgrader(db_url: str, scratch: Path, repeat: int = 2, indexes: bool = True):
    """Time formgrader's gradebook API endpoints on the gradebook, in a Jupyter server started and stopped here:
    on the gradebook as nbgrader makes it, then (``indexes``) again after ``gradebook_indexes.add_indexes``."""
    from nbgrader.api import Gradebook

    course = scratch / "formgrader-course"
    course.mkdir()
    exchange = scratch / "exchange"  # as the course's nbgrader_config.py: a course id and a working exchange
    (exchange / "clientcare" / "outbound").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()  # noqa: F821\nc.CourseDirectory.root = {str(course)!r}\n"
        f"c.CourseDirectory.db_url = {db_url!r}\nc.CourseDirectory.course_id = 'clientcare'\n"
        f"c.Exchange.root = {str(exchange)!r}\nc.Exchange.path_includes_course = True\n")
    notebooks = course_folders(db_url, course)
    assignment, notebook = notebooks[-1]
    with Gradebook(db_url) as gradebook:
        student = sorted(s.id for s in gradebook.students)[len(gradebook.students) // 2]
        expected = {"students": len(gradebook.students), "submissions": len(gradebook.assignment_submissions(assignment))}
    expected["submitted_notebooks"] = expected["submissions"]
    endpoints = [
        ("assignments", "the gradebook page and Manage assignments"),
        (f"notebooks/{assignment}", "gradebook: an assignment's notebooks"),
        (f"submitted_notebooks/{assignment}/{notebook}", "gradebook: a notebook's submissions"),
        (f"submissions/{assignment}", "Manage submissions of an assignment"),
        ("students", "Manage students"),
        (f"student_submissions/{student}", "a learner's assignments"),
        (f"student_notebook_submissions/{student}/{assignment}", "a learner's notebooks in one assignment"),
        (f"submission/{assignment}/{student}", "one submission"),
    ]
    token, port = secrets.token_hex(24), free_port()
    home = scratch / "jupyter"
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "JUPYTER_DATA_DIR": str(home / "data"), "JUPYTER_PLATFORM_DIRS": "1"}
    log = open(scratch / "formgrader.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={course}",
         "--ServerApp.open_browser=False", *(["--ServerApp.allow_root=True"] if os.geteuid() == 0 else [])],
        cwd=course, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def get(path: str):
        request = urllib.request.Request(base + path, headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(request, timeout=1800) as response:
            return json.loads(response.read())

    rows = []
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                get("/api/status")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    raise RuntimeError("the Jupyter server did not start:\n"
                                       + (scratch / "formgrader.log").read_text()[-3000:])
                time.sleep(0.5)
        for indexed in (False, True) if indexes else (False,):
            if indexed:  # the same server, gradebook and requests, after adding the foreign-key indexes
                from clientcare.instructor.gradebook_indexes import add_indexes

                _, seconds = timed(add_indexes, db_url)
                rows.append(("adding clientcare's foreign-key indexes (gradebook_indexes)", seconds))
                print(f"  {rows[-1][0]}: {seconds:.2f} s", flush=True)
            rows.extend(requests(get, endpoints, expected, repeat, " [indexed]" if indexed else ""))
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
    return rows


def requests(get, endpoints, expected, repeat: int, label: str):
    """Each endpoint ``repeat`` times; the row counts checked against the gradebook's."""
    rows = []
    for endpoint, page in endpoints:
        for attempt in range(repeat):
            answer, seconds = timed(get, f"/formgrader/api/{endpoint}")
            size = len(answer) if isinstance(answer, list) else 1
            kind = endpoint.split("/")[0]
            if kind in expected and size != expected[kind]:  # every submission counted as autograded
                raise RuntimeError(f"/formgrader/api/{endpoint} gave {size} rows, not {expected[kind]}")
            if kind == "assignments" and not all(assignment["releaseable"] for assignment in answer):
                raise RuntimeError("formgrader does not see the exchange: assignments are not releaseable")
            rows.append((f"/formgrader/api/{kind} ({page}; {size} rows)"
                         + ("" if attempt == 0 else ", again") + label, seconds))
            print(f"  {rows[-1][0]}: {seconds:.2f} s", flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=1000)
    parser.add_argument("--assignments", type=int, default=4)
    parser.add_argument("--db-url", help="an EMPTY database to fill (default: a SQLite file in a temporary folder)")
    parser.add_argument("--skip-reference", action="store_true",
                        help="do not time nbgrader's learner-by-learner API (it takes minutes at 1,000 learners)")
    parser.add_argument("--lms-reference-learners", type=int, default=None, metavar="N",
                        help="time the LMS exports' learner-by-learner read on the first N learners of the roll and "
                             "scale it to the whole roll (default: the whole roll; 0: skip it)")
    parser.add_argument("--skip-formgrader", action="store_true", help="do not time formgrader's API")
    parser.add_argument("--skip-indexes", action="store_true",
                        help="time formgrader only on the gradebook as nbgrader makes it, not again with the "
                             "foreign-key indexes of clientcare.instructor.gradebook_indexes")
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
        late_penalties(db_url)
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

        lms = lms_exports(db_url, scratch, 0 if args.skip_reference else args.lms_reference_learners)
        rows.extend(lms)

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
        if not args.skip_reference and len(lms) > 1:
            lms_now, lms_before = lms[0][1], lms[-1][1]
            rows.append(("clientcare export before (estimated: + reference reading)",
                         export - bulk + reference - lms_now + lms_before))
            rows.append(("clientcare report before (estimated: + reference reading)", report - bulk + reference))
        if not args.skip_formgrader:
            print("formgrader's gradebook API:", flush=True)
            rows.extend(formgrader(db_url, scratch, indexes=not args.skip_indexes))
        size = (scratch / "export" / "grades-by-question.csv").stat().st_size
        print(f"\n{args.learners} learners x {args.assignments} assignments, {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.1f} at the end")
        for name, seconds in rows:
            print(f"  {name:88s} {seconds:8.2f} s")
        print(f"  grades-by-question.csv: {size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
