"""The `clientcare` command for instructors and course authors.

    clientcare check     validate every content file and the lessons' references to them
    clientcare release   regenerate release/ from source/ with nbgrader
    clientcare grade A   autograde every submission of assignment A in parallel
    clientcare export    grades per assignment and per question to CSV
    clientcare report    the cohort report (tables and plots) as HTML
    clientcare demo      run the grading pipeline end to end on a synthetic cohort
    clientcare publish D the learner bundle (lessons, no solutions or grading code) as a git repo in D
"""
from __future__ import annotations

import argparse
import sys


def _check(args: argparse.Namespace) -> int:
    from .catalogue import check_content, check_lesson_references

    checked, errors = check_content()
    errors += check_lesson_references()
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    print(f"Checked {checked} content files: {'no problems' if not errors else f'{len(errors)} problem(s)'}.")
    return 1 if errors else 0


def _release(args: argparse.Namespace) -> int:
    from .instructor.course import REPO_ROOT, Course

    course = Course(REPO_ROOT)
    names = args.assignments or course.assignments()
    for number, name in enumerate(names, start=1):
        print(f"[{number}/{len(names)}] nbgrader generate_assignment {name}", flush=True)
        course.nbgrader("generate_assignment", name, "--force")
    print(f"release/ regenerated for {len(names)} assignment(s). Commit it with the source change.")
    return 0


def _grade(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .instructor.grading import ProgressBar, grade_cohort, submitted_students

    root = Path(args.course).resolve()
    students = submitted_students(root, args.assignment)
    if not students:
        print(f"error: no submissions of '{args.assignment}' in {root / 'submitted'}", file=sys.stderr)
        return 1
    print(f"Autograding {len(students)} submissions of {args.assignment} "
          f"with {args.workers or 'all'} worker(s), {args.budget:g} s budget per notebook", flush=True)
    bar = ProgressBar(len(students))
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

    run_demo(learners=args.learners, workers=args.workers)
    return 0


def _export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .instructor.results import export_grades

    db_url = args.db_url or _course_db_url(Path(args.course))
    for path in export_grades(db_url, Path(args.out)):
        print(f"Wrote {path}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .instructor.report import render_html

    db_url = args.db_url or _course_db_url(Path(args.course))
    print(f"Wrote {render_html(db_url, Path(args.out))}")
    return 0


def _publish(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .instructor.publish import publish

    commit = publish(Path(args.lessons), Path(args.dest))
    print(f"Published the learner bundle in {Path(args.dest).resolve()} (commit {commit[:12]}).")
    return 0


def _course_db_url(root) -> str:
    from nbgrader.coursedir import CourseDirectory

    from .instructor.grading import load_course_config

    return CourseDirectory(config=load_course_config(root.resolve())).db_url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="clientcare", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="validate all course content").set_defaults(run=_check)
    release = commands.add_parser("release", help="regenerate release/ from source/")
    release.add_argument("assignments", nargs="*", help="assignment names (default: all)")
    release.set_defaults(run=_release)
    grade = commands.add_parser("grade", help="autograde all submissions of an assignment in parallel")
    grade.add_argument("assignment")
    grade.add_argument("--workers", type=int, default=None, help="worker processes (default: one more than the cores)")
    grade.add_argument("--budget", type=float, default=120.0,
                       help="seconds of execution allowed for one learner's notebook (default 120)")
    grade.add_argument("--course", default=".", help="the course directory (default: current directory)")
    grade.set_defaults(run=_grade)
    demo = commands.add_parser("demo", help="run the instructor pipeline on synthetic learners")
    demo.add_argument("--learners", type=int, default=50, help="number of synthetic learners (default 50)")
    demo.add_argument("--workers", type=int, default=None, help="grading processes (default: one more than the cores)")
    demo.set_defaults(run=_demo)
    publish = commands.add_parser("publish", help="build the learner bundle (for nbgitpuller) in DEST")
    publish.add_argument("dest", help="folder for the bundle's git repository")
    publish.add_argument("--lessons", default="course/lessons", help="lesson notebooks (default: course/lessons)")
    publish.set_defaults(run=_publish)
    for name, run, default_out, text in (
        ("export", _export, "export", "export grades per assignment and per question to CSV files in OUT"),
        ("report", _report, "reports/cohort-report.html", "write the cohort report (tables and plots) as HTML"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("--course", default=".", help="the course directory (default: current directory)")
        command.add_argument("--db-url", help="gradebook URL (default: the course's nbgrader configuration)")
        command.add_argument("--out", default=default_out, help=f"where to write (default: {default_out})")
        command.set_defaults(run=run)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except Exception as error:  # a clear message, not a traceback, for expected failures
        from .content import ContentError
        from .instructor.course import NbgraderError
        from .instructor.publish import LeakError

        if isinstance(error, (ContentError, NbgraderError, LeakError, FileExistsError, FileNotFoundError)):
            print(f"error: {error}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
