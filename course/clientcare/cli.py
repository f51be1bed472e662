"""The `clientcare` command for instructors and course authors.

    clientcare check     validate every content file and the lessons' references to them
    clientcare release   regenerate release/ from source/ with nbgrader
    clientcare demo      run the grading pipeline end to end on synthetic learners
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


def _demo(args: argparse.Namespace) -> int:
    from .instructor.demo import run_demo

    run_demo(learners=args.learners)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="clientcare", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="validate all course content").set_defaults(run=_check)
    release = commands.add_parser("release", help="regenerate release/ from source/")
    release.add_argument("assignments", nargs="*", help="assignment names (default: all)")
    release.set_defaults(run=_release)
    demo = commands.add_parser("demo", help="run the instructor pipeline on synthetic learners")
    demo.add_argument("--learners", type=int, default=6, help="number of synthetic learners (default 6)")
    demo.set_defaults(run=_demo)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except Exception as error:  # a clear message, not a traceback, for expected failures
        from .content import ContentError
        from .instructor.course import NbgraderError

        if isinstance(error, (ContentError, NbgraderError)):
            print(f"error: {error}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
