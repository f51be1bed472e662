"""Benchmark: what the grading boundary costs per submission, against PLAIN stock nbgrader, in one run.

Builds identical temporary courses with N synthetic learners (complete, blank and partly
done) for one assignment and grades them three ways, one after the other on the same machine:

1. plain stock nbgrader: ``nbgrader autograde`` with nbgrader's own defaults (its Execute
   preprocessor, the notebook's ``python3`` kernel, no course configuration), learners in turn;
2. the course's configuration, also as ``nbgrader autograde`` learners in turn: the release
   skeleton, the sandboxed kernel (warm, as the course configures it, when run as root), tests judged
   outside it (``JudgedExecute``), inert outputs;
   the difference from (1) per learner is the boundary's cost;
3. ``clientcare grade``: the same configuration with parallel workers (throughput), cold kernels
   (``c.SandboxKernelManager.warm = False``: a new sandbox and kernel per submission);
4. ``clientcare grade`` with warm kernels (``warm = True``: one sandbox per slot forks a fresh kernel per
   submission; ``course/clientcare/instructor/warm.py``);
5. the cost per learner by stage, cold and warm, grading some of the learners one after the other in
   one worker process exactly as ``clientcare grade``'s workers do: kernel start (until the grader's
   helper is installed), executing (learner cells in the kernel, tests on the grader's side), kernel
   stop (for warm kernels: killing the slot's processes and emptying its sandbox), saving the
   notebooks, the database (nbgrader's gradebook reads and writes: the assignment's set-up, the
   release's cells, late penalties, saving the grades) and the rest (nbgrader's sanitising and
   converting, preflight);

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


def build(root: Path, assignment: str, learners: int, plain: bool, seed: int = 7, warm: bool | None = None):
    course = make_scratch_course(root)
    if plain:
        (course.root / "nbgrader_config.py").write_text(PLAIN_CONFIG)
    if warm is not None:
        with open(course.root / "nbgrader_config.py", "a", encoding="utf-8") as config:
            config.write(f"\nc.SandboxKernelManager.warm = {warm}\n")
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
    parser.add_argument("--staged", type=int, default=10, help="learners graded one by one for the cost by stage")
    args = parser.parse_args()
    n = args.learners
    before = set(sandbox.slot_users()) if os.geteuid() == 0 else set()
    try:
        run(args, n)
    finally:
        if os.geteuid() == 0:
            sandbox.remove_slot_users(names=[name for name in sandbox.slot_users() if name not in before])


STAGES = ("start", "execute", "stop", "save", "database", "other")


def stage_costs(root: Path, assignment: str, students: list[str]) -> dict[str, float]:
    """Seconds per stage (``STAGES``) and in total for grading ``students`` in turn in a fresh worker process."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_stage_costs, str(root), assignment, students).result()


def _stage_costs(root: str, assignment: str, students: list[str]) -> dict[str, float]:
    from collections import defaultdict

    from nbgrader.converters.autograde import Autograde
    from nbgrader.converters.base import BaseConverter
    from nbgrader.preprocessors import AssignLatePenalties, OverwriteCells, SaveAutoGrades

    from clientcare.instructor import grading, warm
    from clientcare.instructor.preprocessors import _kernel, judged_execute

    spent: dict[str, float] = defaultdict(float)

    def timed(owner, name: str, stage: str) -> None:
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[stage] += time.perf_counter() - started

        setattr(owner, name, wrapper)

    timed(_kernel.LearnerKernel, "start", "start")
    timed(_kernel.LearnerKernel, "shutdown", "stop")
    timed(judged_execute.JudgedExecute, "preprocess", "judged")
    timed(BaseConverter, "write_single_notebook", "save")
    for owner, name in ((Autograde, "init_assignment"), (SaveAutoGrades, "preprocess"),
                        (OverwriteCells, "preprocess"), (AssignLatePenalties, "preprocess")):
        timed(owner, name, "database")
    grading._set_up_worker(root, grading.DEFAULT_NOTEBOOK_BUDGET, 0, True)
    started = time.perf_counter()
    for student in students:
        grading._grade(assignment, student, time.monotonic())
    spent["total"] = time.perf_counter() - started
    warm.close_all()
    spent["execute"] = spent.pop("judged") - spent["start"] - spent["stop"]
    spent["other"] = spent["total"] - sum(spent[stage] for stage in STAGES if stage != "other")
    return dict(spent)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} (1 / 5 / 15 min) on {os.cpu_count()} cores"


def run(args, n: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import sandbox_start

    with tempfile.TemporaryDirectory(prefix="clientcare-bench-") as scratch:
        plain = build(Path(scratch) / "plain", args.assignment, n, plain=True)
        serial = build(Path(scratch) / "serial", args.assignment, n, plain=False)
        parallel = build(Path(scratch) / "parallel", args.assignment, n, plain=False, warm=False)
        warmed = build(Path(scratch) / "warm", args.assignment, n, plain=False, warm=True)
        print(f"{n} learners, assignment {args.assignment}; {load()}", flush=True)

        stock = timed_autograde(plain, args.assignment)
        print(f"1. plain stock nbgrader autograde (python3 kernel, nbgrader's preprocessors): "
              f"{stock:6.1f} s  {stock / n:5.2f} s per learner", flush=True)
        ours = timed_autograde(serial, args.assignment)
        print(f"2. stock nbgrader autograde with the course's config (sandboxed kernel as configured, tests judged "
              f"outside): "
              f"{ours:6.1f} s  {ours / n:5.2f} s per learner", flush=True)
        print(f"   the boundary's cost: {(ours - stock) / n:+.2f} s per learner ({ours / stock:.2f}x plain stock)",
              flush=True)
        bar = ProgressBar(n, stream=sys.stdout)
        started = time.monotonic()
        outcomes = grade_cohort(parallel.root, args.assignment, args.workers, on_result=bar.update)
        fast = time.monotonic() - started
        workers = args.workers or default_workers()
        print(f"3. clientcare grade, {workers} workers, same boundary, cold kernels: {fast:6.1f} s  "
              f"{fast / n:5.2f} s per learner ({stock / fast:.2f}x the throughput of plain stock)", flush=True)
        bar = ProgressBar(n, stream=sys.stdout)
        started = time.monotonic()
        outcomes += grade_cohort(warmed.root, args.assignment, args.workers, on_result=bar.update)
        hot = time.monotonic() - started
        print(f"4. clientcare grade, {workers} workers, same boundary, warm kernels: {hot:6.1f} s  "
              f"{hot / n:5.2f} s per learner ({stock / hot:.2f}x the throughput of plain stock, "
              f"{fast / hot:.2f}x cold kernels)", flush=True)

        grades = [question_scores(c.db_url)[["student", "question", "score"]].reset_index(drop=True)
                  for c in (plain, serial, parallel, warmed)]
        failed = [o.student for o in outcomes if not o.ok]
        print(f"failed submissions: {len(failed)}; identical grades: plain = boundary: {grades[0].equals(grades[1])}, "
              f"boundary serial = parallel: {grades[1].equals(grades[2])}, cold = warm: {grades[2].equals(grades[3])}",
              flush=True)
        staged = sorted(p.name for p in (parallel.root / "submitted").iterdir())[:max(0, args.staged)]
        if staged:
            print(f"5. cost per learner by stage ({len(staged)} learners one after the other in one grading worker; "
                  "seconds):", flush=True)
            print(f"   {'':6s}" + "".join(f"{name:>10s}" for name in STAGES + ("total",)))
            for name, course in (("cold", parallel), ("warm", warmed)):
                costs = stage_costs(course.root, args.assignment, staged)
                print(f"   {name:6s}" + "".join(f"{costs[stage] / len(staged):10.3f}" for stage in STAGES + ("total",)),
                      flush=True)
        print(f"6. the boundary's own cost per kernel ({args.kernel_runs} kernels each, median):", flush=True)
        figures = sandbox_start.measure(args.kernel_runs)
        plain_start, plain_stop = figures["plain kernel (python3)"][:2]
        for name, (start, stop, fastest, slowest) in figures.items():
            extra = "" if name.startswith("plain") else \
                f"  (+{start - plain_start + stop - plain_stop:.2f} s per kernel over plain)"
            print(f"   {name:34s} start {start:.2f} s ({fastest:.2f}-{slowest:.2f}), shutdown {stop:.2f} s{extra}")
        print(f"after: {load()}")


if __name__ == "__main__":
    main()
