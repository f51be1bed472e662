"""Benchmark: stock `nbgrader autograde` against `clientcare grade` on the same synthetic cohort.

Builds two identical temporary courses with N synthetic learners (complete,
blank and partly done) for one assignment, grades one with stock nbgrader (one
process, learners in turn) and the other with the parallel grader, checks the
grades are identical, and prints both times and the ratio. A measurement, not a
test: run it on a quiet machine.

    .venv/bin/python benchmarks/grading_throughput.py --learners 200
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pandas as pd

from clientcare.instructor.course import make_scratch_course
from clientcare.instructor.grading import ProgressBar, default_workers, grade_cohort
from clientcare.instructor.results import question_scores
from clientcare.instructor.synthetic import ALL, Learner, solution_cells, submit


def build(root: Path, assignment: str, learners: int, seed: int = 7):
    course = make_scratch_course(root)
    course.nbgrader("generate_assignment", assignment, "--force", isolated=True)
    ids = sorted(solution_cells(nbformat.read(course.root / "source" / assignment / f"{assignment}.ipynb", as_version=4)))
    rng = random.Random(seed)
    for number in range(learners):
        solved = ALL if number % 3 == 0 else ([] if number % 10 == 1 else rng.sample(ids, rng.randint(1, len(ids))))
        submit(course, Learner(f"learner-{number:04d}", {assignment: solved}), assignment)
    return course


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--workers", type=int, default=None, help="default: clientcare grade's own default")
    parser.add_argument("--assignment", default="fee-proposals")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="clientcare-bench-") as scratch:
        stock_course = build(Path(scratch) / "stock", args.assignment, args.learners)
        ours_course = build(Path(scratch) / "parallel", args.assignment, args.learners)
        print(f"{args.learners} learners, assignment {args.assignment}, {os.cpu_count()} cores", flush=True)

        started = time.monotonic()
        stock_course.nbgrader("autograde", args.assignment, "--force", isolated=True)
        stock = time.monotonic() - started
        print(f"stock nbgrader autograde: {stock:.1f} s ({stock / args.learners:.2f} s per learner)", flush=True)

        bar = ProgressBar(args.learners, stream=sys.stdout)
        started = time.monotonic()
        outcomes = grade_cohort(ours_course.root, args.assignment, args.workers, on_result=bar.update)
        ours = time.monotonic() - started
        workers = args.workers or default_workers()
        print(f"clientcare grade, {workers} workers: {ours:.1f} s ({ours / args.learners:.2f} s per learner)")

        failed = [o for o in outcomes if not o.ok]
        same = question_scores(stock_course.db_url).equals(question_scores(ours_course.db_url))
        print(f"failed submissions: {len(failed)}; identical grades: {same}")
        print(f"throughput ratio (stock time / parallel time): {stock / ours:.2f}x")


if __name__ == "__main__":
    pd.set_option("display.width", 120)
    main()
