"""Benchmark: what the grading boundary costs per submission, against PLAIN stock nbgrader, in one run.

Builds identical temporary courses with N synthetic learners (complete, blank and partly
done) for one assignment and grades them three ways, one after the other on the same machine:

1. plain stock nbgrader: ``nbgrader autograde`` with nbgrader's own defaults (its Execute
   preprocessor, the notebook's ``python3`` kernel, no course configuration), learners in turn;
2. the course's configuration, also as ``nbgrader autograde`` learners in turn: the release
   skeleton, the sandboxed kernel, tests judged outside it (``JudgedExecute``), inert outputs;
   the difference from (1) per learner is the boundary's cost;
3. ``clientcare grade``: the same configuration with parallel workers (throughput);

and then the boundary's own cost per kernel (``sandbox_start.py``: bubblewrap's start and
teardown, with and without the in-kernel protections, against a plain kernel). Every
submission starts at least one kernel (one more for each kernel replaced after a fault).

It checks the grades are identical in all three and prints the times side by side, with
the machine's load before and after. A measurement, not a test: run it on a quiet machine.
Slot users it creates (run as root) are removed at the end.

    .venv/bin/python benchmarks/grading_throughput.py --learners 60
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

from clientcare.instructor import sandbox
from clientcare.instructor.course import make_scratch_course
from clientcare.instructor.grading import ProgressBar, default_workers, grade_cohort
from clientcare.instructor.results import question_scores
from clientcare.instructor.synthetic import ALL, Learner, solution_cells, submit

PLAIN_CONFIG = '''"""Plain stock nbgrader: nothing but the course id (every preprocessor and the kernel are nbgrader's defaults)."""
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "clientcare"
'''


def build(root: Path, assignment: str, learners: int, plain: bool, seed: int = 7):
    course = make_scratch_course(root)
    if plain:
        (course.root / "nbgrader_config.py").write_text(PLAIN_CONFIG)
    course.nbgrader("generate_assignment", assignment, "--force", isolated=True)
    ids = sorted(solution_cells(nbformat.read(course.root / "source" / assignment / f"{assignment}.ipynb",
                                              as_version=4)))
    rng = random.Random(seed)
    for number in range(learners):
        solved = ALL if number % 3 == 0 else ([] if number % 10 == 1 else rng.sample(ids, rng.randint(1, len(ids))))
        submit(course, Learner(f"learner-{number:04d}", {assignment: solved}), assignment)
    return course


def timed_autograde(course, assignment: str) -> float:
    started = time.monotonic()
    course.nbgrader("autograde", assignment, "--force", isolated=True)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=30)
    parser.add_argument("--workers", type=int, default=None, help="default: clientcare grade's own default")
    parser.add_argument("--assignment", default="fee-proposals")
    parser.add_argument("--kernel-runs", type=int, default=5, help="kernels started per kind for the boundary's cost")
    args = parser.parse_args()
    n = args.learners
    before = set(sandbox.slot_users()) if os.geteuid() == 0 else set()
    try:
        run(args, n)
    finally:
        if os.geteuid() == 0:
            sandbox.remove_slot_users(names=[name for name in sandbox.slot_users() if name not in before])


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} (1 / 5 / 15 min) on {os.cpu_count()} cores"


def run(args, n: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import sandbox_start

    with tempfile.TemporaryDirectory(prefix="clientcare-bench-") as scratch:
        plain = build(Path(scratch) / "plain", args.assignment, n, plain=True)
        serial = build(Path(scratch) / "serial", args.assignment, n, plain=False)
        parallel = build(Path(scratch) / "parallel", args.assignment, n, plain=False)
        print(f"{n} learners, assignment {args.assignment}; {load()}", flush=True)

        stock = timed_autograde(plain, args.assignment)
        print(f"1. plain stock nbgrader autograde (python3 kernel, nbgrader's preprocessors): "
              f"{stock:6.1f} s  {stock / n:5.2f} s per learner", flush=True)
        ours = timed_autograde(serial, args.assignment)
        print(f"2. stock nbgrader autograde with the course's config (sandboxed kernel, tests judged outside): "
              f"{ours:6.1f} s  {ours / n:5.2f} s per learner", flush=True)
        print(f"   the boundary's cost: {(ours - stock) / n:+.2f} s per learner ({ours / stock:.2f}x plain stock)",
              flush=True)
        bar = ProgressBar(n, stream=sys.stdout)
        started = time.monotonic()
        outcomes = grade_cohort(parallel.root, args.assignment, args.workers, on_result=bar.update)
        fast = time.monotonic() - started
        workers = args.workers or default_workers()
        print(f"3. clientcare grade, {workers} workers, same boundary: {fast:6.1f} s  {fast / n:5.2f} s per learner "
              f"({stock / fast:.2f}x the throughput of plain stock)")

        grades = [question_scores(c.db_url)[["student", "question", "score"]].reset_index(drop=True)
                  for c in (plain, serial, parallel)]
        failed = [o.student for o in outcomes if not o.ok]
        print(f"failed submissions: {len(failed)}; identical grades: plain = boundary: {grades[0].equals(grades[1])}, "
              f"boundary serial = parallel: {grades[1].equals(grades[2])}", flush=True)
        print(f"4. the boundary's own cost per kernel ({args.kernel_runs} kernels each, median):", flush=True)
        figures = sandbox_start.measure(args.kernel_runs)
        plain_start, plain_stop = figures["plain kernel (python3)"][:2]
        for name, (start, stop, fastest, slowest) in figures.items():
            extra = "" if name.startswith("plain") else \
                f"  (+{start - plain_start + stop - plain_stop:.2f} s per kernel over plain)"
            print(f"   {name:34s} start {start:.2f} s ({fastest:.2f}-{slowest:.2f}), shutdown {stop:.2f} s{extra}")
        print(f"after: {load()}")


if __name__ == "__main__":
    main()
