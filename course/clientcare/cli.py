"""The `clientcare` command for instructors and course authors.

    clientcare check     validate every content file and the lessons' references to them; cue lint
    clientcare release   regenerate release/ from source/ with nbgrader
    clientcare grade A   autograde every submission of assignment A in parallel
                         (--student ID, --new-only: only some; --scheduler ADDRESS: on a Dask cluster)
    clientcare export    grades per assignment and per question to CSV, and Canvas's and Moodle's import CSVs
    clientcare report    the cohort report (tables and plots) as HTML
    clientcare demo      run the grading pipeline end to end on a synthetic cohort
    clientcare publish D the learner bundle (lessons, no solutions or grading code) as a git repo in D

Every command works on the course in --course DIR (default: the current directory, as
nbgrader does) and reads its configuration as nbgrader does: the Jupyter config path
(`jupyter --paths`), then the course's nbgrader_config.py.
"""
from __future__ import annotations

import argparse
import sys


def _course(args: argparse.Namespace):
    from .instructor.course import Course

    return Course(args.course)


def _check(args: argparse.Namespace) -> int:
    from .catalogue import check_content, check_lesson_references, lessons_dir
    from .cues import lint

    checked, errors = check_content()
    errors += check_lesson_references(lessons_dir(_course(args).root))
    from .glossary import check_glossary  # lessons and glossary agree (issue 17)

    errors += check_glossary(lessons_dir(_course(args).root))
    errors += _schedule_errors(_course(args))
    lines, cue_errors, warnings = lint()  # the cue lint (see cues.py and content/README.md)
    print("\n".join(lines))
    errors += cue_errors
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    print(f"Checked {checked} content files: {'no problems' if not errors else f'{len(errors)} problem(s)'}.")
    return 1 if errors else 0


def _schedule_errors(course) -> list[str]:
    """The due dates file: valid, and one due date for every assignment of the course."""
    from .content import ContentError
    from .schedule import check_against, load_schedule

    try:
        schedule = load_schedule()
        return check_against(schedule, course.assignments()) if (course.root / "source").is_dir() else []
    except ContentError as error:
        return [str(error)]


def _release(args: argparse.Namespace) -> int:
    from .instructor.duedates import stamp_introductions, sync_gradebook
    from .schedule import load_schedule

    course = _course(args)
    names = args.assignments or course.assignments()
    schedule = load_schedule()  # due dates: each introduction's Due line, then the gradebook's
    for path in stamp_introductions(course.root, schedule, names):
        print(f"Due date written into {path.relative_to(course.root)}")
    from .instructor.new_gradebook import create_gradebook

    create_gradebook(course.db_url)  # (if it is new: in this process, not by nbgrader's `alembic heads`)
    for number, name in enumerate(names, start=1):
        print(f"[{number}/{len(names)}] nbgrader generate_assignment {name}", flush=True)
        course.nbgrader("generate_assignment", name, "--force")
    sync_gradebook(course.db_url, schedule, names)
    _index_gradebook(course.db_url)
    print(f"{course.root / 'release'} regenerated for {len(names)} assignment(s). Commit it with the source change.")
    return 0


def _index_gradebook(db_url: str) -> None:
    """Give the gradebook the indexes formgrader needs on a large cohort (once; a note, never a failure)."""
    from sqlalchemy.exc import SQLAlchemyError

    from .instructor.gradebook_indexes import add_indexes

    try:
        created = add_indexes(db_url)
    except SQLAlchemyError as error:  # e.g. a PostgreSQL account that does not own the tables
        print(f"note: the gradebook's indexes for formgrader were not added ({type(error).__name__}: "
              f"{str(error).splitlines()[0]}); run `python -m clientcare.instructor.gradebook_indexes` "
              "as the gradebook's owner", file=sys.stderr)
        return
    if created:
        print(f"Added the indexes formgrader needs on a large cohort to the gradebook: {', '.join(created)}")


def _grade(args: argparse.Namespace) -> int:
    from .instructor.grading import ProgressBar, grade_cohort, submitted_students

    from .instructor.duedates import sync_gradebook
    from .schedule import load_schedule

    if args.scheduler and args.workers:
        print("error: --workers does not apply with --scheduler: the cluster's workers grade "
              "(start more of them for more learners at once)", file=sys.stderr)
        return 1
    course = _course(args)
    root = course.root
    students = submitted_students(root, args.assignment)
    if args.student:
        from .instructor.incremental import named_students

        students, errors = named_students(root, args.assignment, args.student)
        for error in errors:
            print(f"error: {error}", file=sys.stderr)
        if errors:
            return 1
    if not students:
        print(f"error: no submissions of '{args.assignment}' in {root / 'submitted'}", file=sys.stderr)
        return 1
    from .instructor.grading import gradebook_has

    if gradebook_has(course.db_url, args.assignment):  # else grading stops with what to run first
        sync_gradebook(course.db_url, load_schedule(), [args.assignment])  # lateness from the due dates file
        _index_gradebook(course.db_url)
    if args.new_only:
        from .instructor.config import sqlite_path
        from .instructor.incremental import new_submissions

        db_url, count = course.db_url, len(students)
        never_graded = sqlite_path(db_url) is not None and not sqlite_path(db_url).is_file()  # no gradebook yet
        if not never_graded:
            students = new_submissions(root, args.assignment, students, db_url)
        if not students:
            print(f"Nothing new to grade: all {count} submission(s) of {args.assignment} were autograded "
                  "after they were submitted.")
            return 0
        print(f"{len(students)} of {count} submission(s) of {args.assignment} are new since their last autograde.")
    bar = ProgressBar(len(students), stream=sys.stderr)  # the stream of now (not of import time)
    if args.scheduler:
        from .instructor.dask_grading import connect, grade_on_cluster

        print(f"Autograding {len(students)} submissions of {args.assignment} on the Dask cluster at "
              f"{args.scheduler}, {args.budget:g} s budget per notebook", flush=True)
        with connect(args.scheduler) as client:
            outcomes = grade_on_cluster(root, args.assignment, client, args.budget, students, on_result=bar.update)
    else:
        print(f"Autograding {len(students)} submissions of {args.assignment} "
              f"with {args.workers or 'all'} worker(s), {args.budget:g} s budget per notebook", flush=True)
        outcomes = grade_cohort(root, args.assignment, args.workers, args.budget, students, on_result=bar.update)
    problems = [o for o in outcomes if not o.ok or o.message]
    for outcome in problems:
        print(f"{'FAILED' if not outcome.ok else 'note'}: {outcome.student}: {outcome.message}", file=sys.stderr)
    failed = sum(not o.ok for o in outcomes)
    print(f"Graded {len(outcomes) - failed} of {len(outcomes)} submissions"
          + (f"; {failed} failed (see above)" if failed else "") + ".")
    return 1 if failed else 0


def _demo(args: argparse.Namespace) -> int:
    from .instructor.demo import run_demo

    course = _course(args)
    run_demo(course.root / "demo", template=course.root, learners=args.learners, workers=args.workers)
    return 0


def _export(args: argparse.Namespace) -> int:
    from .instructor.lms import export_lms
    from .instructor.results import export_grades

    db_url, out = _gradebook(args), _out(args)
    for path in export_grades(db_url, out):
        print(f"Wrote {path}")
    lms_files, warning = export_lms(db_url, out)  # Canvas's and Moodle's import formats
    for path in lms_files:
        print(f"Wrote {path}")
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def _report(args: argparse.Namespace) -> int:
    from .instructor.report import render_html

    print(f"Wrote {render_html(_gradebook(args), _out(args))}")
    return 0


def _gradebook(args: argparse.Namespace) -> str:
    """--db-url, else the course's gradebook; never an empty SQLite file made by reading."""
    from .instructor.config import existing_gradebook

    return existing_gradebook(args.db_url or _course(args).db_url)


def _publish(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .catalogue import lessons_dir
    from .instructor.publish import publish

    lessons = Path(args.lessons) if args.lessons else lessons_dir(_course(args).root)
    commit = publish(lessons, Path(args.dest))
    print(f"Published the learner bundle in {Path(args.dest).resolve()} (commit {commit[:12]}).")
    return 0


def _out(args: argparse.Namespace):
    """--out, relative to the course folder (like nbgrader's own folders)."""
    from pathlib import Path

    return _course(args).root / Path(args.out)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clientcare", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, run, text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument("--course", default=".", metavar="DIR",
                         help="the course folder, holding nbgrader_config.py (default: the current directory)")
        sub.set_defaults(run=run)
        return sub

    command("check", _check, "validate all course content and the lessons' references to it")
    release = command("release", _release, "regenerate release/ from source/")
    release.add_argument("assignments", nargs="*", help="assignment names (default: all)")
    grade = command("grade", _grade, "autograde all submissions of an assignment in parallel")
    grade.add_argument("assignment")
    grade.add_argument("--workers", type=int, default=None, help="worker processes (default: one more than the cores)")
    grade.add_argument("--budget", type=float, default=120.0,
                       help="seconds of execution allowed for one learner's notebook (default 120)")
    grade.add_argument("--student", action="append", metavar="ID",
                       help="grade only this learner's submission (repeat for several); unsafe ids are refused")
    grade.add_argument("--new-only", action="store_true",
                       help="grade only submissions never autograded or submitted again since their last autograde")
    grade.add_argument("--scheduler", metavar="ADDRESS",
                       help="grade on the Dask cluster whose scheduler is at ADDRESS (e.g. tcp://10.0.0.5:8786); "
                            "its workers run one thread each and see the course folder at the same path")
    demo = command("demo", _demo, "run the instructor pipeline on synthetic learners (in DIR/demo)")
    demo.add_argument("--learners", type=int, default=50, help="number of synthetic learners (default 50)")
    demo.add_argument("--workers", type=int, default=None, help="grading processes (default: one more than the cores)")
    publish = command("publish", _publish, "build the learner bundle (for nbgitpuller links) in DEST")
    publish.add_argument("dest", help="folder for the bundle's git repository")
    publish.add_argument("--lessons", help="lesson notebooks (default: the course's lessons folder)")
    for name, run, default_out, text in (
        ("export", _export, "export", "export grades per assignment and per question to CSV files in OUT"),
        ("report", _report, "reports/cohort-report.html", "write the cohort report (tables and plots) as HTML"),
    ):
        sub = command(name, run, text)
        sub.add_argument("--db-url", help="gradebook URL (default: the course's nbgrader configuration)")
        sub.add_argument("--out", default=default_out,
                         help=f"where to write, relative to the course folder (default: {default_out})")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except Exception as error:  # a clear message, not a traceback, for expected failures
        from .content import ContentError
        from .instructor.config import GradebookError
        from .instructor.course import NbgraderError  # dask_grading.ClusterError is one
        from .instructor.publish import LeakError

        if isinstance(error, (ContentError, GradebookError, NbgraderError, LeakError, FileExistsError)):
            print(f"error: {error}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
