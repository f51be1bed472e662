"""Autograde a cohort on a Dask distributed cluster: ``clientcare grade A --scheduler ADDRESS``.

(In Python: ``grade_on_cluster(root, assignment, client)`` with any ``distributed.Client``, a
dask-gateway cluster's included: deploy/dask/README.md.) The same per-learner grading as the local
pool (:mod:`.grading`): each learner is one task that calls
``grading._grade_one`` in a worker, so the grades are nbgrader's own. A worker plugin
(:class:`GradingSetup`) sets each worker up as the pool's initializer sets up a pool process: it moves
into the course folder, keeps only the environment grading needs, caps its data memory and loads
nbgrader's API once. Workers must run one thread each (``dask worker --nthreads 1``): a worker holds one
nbgrader API and one current folder.

Before anything is graded the cluster is checked:

* every worker must see the course folder at the same path, and the same one: a probe file written
  in the course folder for this run must be readable by every worker, which also reads the same
  gradebook URL from the course's configuration as this machine;
* a SQLite gradebook is refused when the scheduler or any worker is on another machine (a SQLite file
  on a shared file system is not safe for writers on several machines): use PostgreSQL
  (``CourseDirectory.db_url`` or ``CLIENTCARE_DB_URL``).

A worker that dies while grading (killed by the operating system) is replaced by the cluster and its
learner is retried on another worker; a learner whose grading kills workers again and again is
reported as such, and the others are graded on.
"""
from __future__ import annotations

import os
import secrets
import uuid
from pathlib import Path
from typing import Callable

from .course import NbgraderError, tools_on_path
from .grading import (DEFAULT_NOTEBOOK_BUDGET, require_assignment, DEFAULT_WORKER_MEMORY_MB, Outcome, _grade_one, _start_worker,
                      refusal, submitted_students)

PLUGIN_NAME = "clientcare-grading"
LOOPBACK_HOSTS = ("localhost", "::1")


class ClusterError(NbgraderError):
    """The Dask cluster cannot grade this course as it is (the message says why and what to change)."""


def _is_loopback(host: str) -> bool:
    return host.startswith("127.") or host in LOOPBACK_HOSTS


try:
    from distributed import WorkerPlugin as _WorkerPlugin
except ImportError:  # distributed is only needed for --scheduler; the message below says how to install it
    _WorkerPlugin = object


class GradingSetup(_WorkerPlugin):
    """Sets a Dask worker up to grade, as the local pool's initializer (``grading._start_worker``) does."""

    def __init__(self, root: str, notebook_budget: float, memory_mb: int):
        self.root, self.notebook_budget, self.memory_mb = root, notebook_budget, memory_mb

    def setup(self, worker) -> None:
        from .sandbox import install_kernelspec

        tools_on_path(os.environ)  # nbgrader runs `alembic` and kernels by name
        # the worker keeps its own log on stderr (the pool silences its processes' stderr for the progress bar)
        _start_worker(self.root, self.notebook_budget, self.memory_mb, quiet=False)
        install_kernelspec()  # the sandboxed kernel the course's configuration names, on this worker's machine

    def teardown(self, worker) -> None:
        from . import warm

        warm.close_all()  # this worker's warm sandboxes, with their slot users' processes


def _describe_course(root: str, probe: str) -> dict:
    """What a worker sees of the course at ``root`` (run on every worker by :func:`check_cluster`)."""
    from .config import gradebook_url

    found = Path(root) / probe
    seen = {"root": os.path.isdir(root), "probe": found.is_file() and found.read_text(encoding="utf-8")}
    try:
        seen["db_url"] = gradebook_url(root)
    except Exception as error:  # reported by name on the instructor's side
        seen["db_url"] = f"unreadable ({type(error).__name__}: {error})"
    return seen


def check_cluster(client, root: Path, db_url: str) -> list[str]:
    """Every worker's address, once the cluster is fit to grade the course in ``root``; else ClusterError."""
    from distributed.comm import get_address_host

    info = client.scheduler_info()
    workers = info.get("workers", {})
    if not workers:
        raise ClusterError(f"the Dask scheduler at {client.scheduler.address} has no workers: start some with "
                           "`dask worker ADDRESS --nthreads 1`")
    threaded = sorted(address for address, worker in workers.items() if worker.get("nthreads") != 1)
    if threaded:
        raise ClusterError(f"Dask worker(s) {', '.join(threaded)} run more than one thread: a grading worker "
                           "must run one (`dask worker ADDRESS --nthreads 1`; use more workers for more learners "
                           "at once)")
    hosts = {get_address_host(client.scheduler.address)} | {get_address_host(a) for a in workers}
    remote = sorted(host for host in hosts if not _is_loopback(host))
    if db_url.startswith("sqlite") and remote:
        raise ClusterError(f"the gradebook is a SQLite file ({db_url}) and the Dask cluster reaches other machines "
                           f"({', '.join(remote)}): a SQLite file cannot be written safely from several machines. "
                           "Use a PostgreSQL gradebook (c.CourseDirectory.db_url or CLIENTCARE_DB_URL) for a "
                           "cluster, or grade on this machine without --scheduler")
    probe = f".clientcare-dask-probe-{uuid.uuid4().hex}"
    token = secrets.token_hex(16)
    (root / probe).write_text(token, encoding="utf-8")
    try:
        seen = client.run(_describe_course, str(root), probe)
    finally:
        (root / probe).unlink(missing_ok=True)
    problems = []
    for address, view in sorted(seen.items()):
        if not view["root"]:
            problems.append(f"{address} has no folder {root}")
        elif view["probe"] != token:
            problems.append(f"{address} sees a different folder at {root} (not the course's shared file system)")
        elif view["db_url"] != db_url:
            problems.append(f"{address} reads another gradebook from the course's configuration: {view['db_url']}")
    if problems:
        raise ClusterError("every Dask worker must see the course folder at the same path, on a shared file "
                           f"system, with the same configuration: {'; '.join(problems)}")
    return sorted(workers)


def connect(scheduler: str, timeout: float = 30):
    """A Dask client of the scheduler at ``scheduler`` (``tcp://host:8786``, or a scheduler file's path)."""
    try:
        from distributed import Client
    except ImportError:
        raise ClusterError("grading on a Dask cluster needs the `distributed` package: "
                           "pip install 'clientcare[dask]'") from None
    try:
        if scheduler.endswith(".json") and Path(scheduler).is_file():
            return Client(scheduler_file=scheduler, timeout=timeout)
        return Client(scheduler, timeout=timeout)
    except OSError as error:  # refused, unreachable, timed out
        raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {error}") from None


def grade_on_cluster(
    root: Path,
    assignment: str,
    client,
    notebook_budget: float = DEFAULT_NOTEBOOK_BUDGET,
    students: list[str] | None = None,
    on_result: Callable[[Outcome], None] | None = None,
    worker_memory_mb: int = DEFAULT_WORKER_MEMORY_MB,
) -> list[Outcome]:
    """Autograde ``assignment`` in ``root`` on the Dask cluster of ``client`` (a ``distributed.Client``).

    ``clientcare grade --scheduler ADDRESS`` passes ``connect(ADDRESS)``; on dask-gateway pass the
    gateway cluster's ``get_client()`` (deploy/dask/README.md).
    """
    from distributed import KilledWorker, as_completed

    from .config import course_config, gradebook_url

    root = Path(root).resolve()
    students = submitted_students(root, assignment) if students is None else students
    if not students:
        return []
    db_url = gradebook_url(root, course_config(root))
    require_assignment(db_url, assignment)
    check_cluster(client, root, db_url)
    outcomes = []

    def report(outcome: Outcome) -> None:
        outcomes.append(outcome)
        if on_result:
            on_result(outcome)

    for student in students:
        if refusal(root, student, assignment):
            report(Outcome(student, False, 0.0, refusal(root, student, assignment)))
    pending = [s for s in students if not refusal(root, s, assignment)]
    client.register_plugin(GradingSetup(str(root), notebook_budget, worker_memory_mb), name=PLUGIN_NAME)
    try:
        run = uuid.uuid4().hex[:8]  # task keys of their own: Dask would otherwise reuse an earlier run's results
        futures = {client.submit(_grade_one, assignment, student, key=f"clientcare-grade-{run}-{n}", pure=False):
                   student for n, student in enumerate(pending)}
        for future in as_completed(futures):
            student = futures[future]
            try:
                report(future.result())
            except KilledWorker:
                report(Outcome(student, False, 0.0, "the grading worker died each time it graded this learner "
                                                    "(killed by the operating system, perhaps out of memory)"))
            except Exception as error:  # anything else from the cluster: report it, carry on
                report(Outcome(student, False, 0.0, f"grading task failed: {error!r}"[:500]))
    finally:
        client.unregister_worker_plugin(PLUGIN_NAME)
    return sorted(outcomes, key=lambda o: o.student)
