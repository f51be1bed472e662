"""Autograde a whole cohort across every core.

Per-learner faults never stop the cohort: a student id that is unsafe to hand
to nbgrader (``unsafe_student_id``) or a submission folder that is a link is
refused by name; an exception while grading one learner, or a grading worker
that dies, is reported for that learner and the others are graded on (a pool
that broke is replaced and the learners it had not finished are graded again;
one whose own worker died twice is not tried a third time). Every failure
carries its real cause (``death_cause``): a worker whose start-up failed names
the exception; one that died names the learner and the notebook it was grading
and the signal or exit status, and says "out of memory" only when Linux's
out-of-memory killer did it. Each worker keeps
only the environment it needs (``WORKER_ENVIRONMENT``) and a cap on its own
data memory (``worker_memory_mb``), so an output flood costs that learner, not
the machine.

Each worker is one long-lived process that loads nbgrader once and then grades
learner after learner through nbgrader's own Python API (the same code path as
``nbgrader autograde``, so the same grades), instead of paying nbgrader's start-up
for every learner. A whole-notebook time budget stops one runaway submission
from holding up the cohort: once a submission has used its budget, nothing more
of it runs and its parts not yet graded score 0 (``JudgedExecute.notebook_budget``).

Works with any gradebook nbgrader supports (SQLite by default, PostgreSQL via
``db_url`` / ``CLIENTCARE_DB_URL``).
"""
from __future__ import annotations

import json
import logging
import multiprocessing
import os
import select
import shutil
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, TextIO

from .course import NbgraderError, tools_on_path
from .integrity import LOG_PREFIX, notable_errors
from .submission_files import preflight, set_aside_folder, unsafe_student_id
from .sandbox import install_kernelspec

DEFAULT_NOTEBOOK_BUDGET = 120.0  # seconds of execution for one learner's notebook
DEFAULT_WORKER_MEMORY_MB = 4096  # data memory of one grading worker (RLIMIT_DATA)
EXIT_GRADER_GONE = 75  # a pool worker's exit status when the grading process that started it has gone
# What a grading worker keeps of the instructor's environment: the course's own
# settings, where things are, locale, and the gradebook's PostgreSQL client settings.
WORKER_ENVIRONMENT = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "VIRTUAL_ENV",
                      "MPLBACKEND", "SSL_CERT_FILE", "SSL_CERT_DIR")
# JUPYTERHUB_: on a hub, nbgrader's JupyterHubAuthPlugin asks the hub who is grading (without it the
# worker cannot even construct nbgrader's API).
WORKER_ENVIRONMENT_PREFIXES = ("CLIENTCARE_", "JUPYTER_", "JUPYTERHUB_", "NBGRADER_", "LC_", "PG")
# What the fork server the pool's workers are forked from imports once (an import that fails is left to the
# worker, which reports it as its start-up error)
PRELOADED = ["nbgrader.apps.api", "nbgrader.converters.autograde", "nbclient", "jupyter_client.manager",
             "clientcare.instructor.grading", "clientcare.instructor.preprocessors", "clientcare.instructor.sandbox",
             "clientcare.instructor.shared_engine", "clientcare.instructor.warm"]


@dataclass(frozen=True)
class Outcome:
    """What happened to one learner's submission."""

    student: str
    ok: bool
    seconds: float
    message: str = ""


def load_course_config(root: Path):
    """The course's nbgrader configuration, as `nbgrader` run in ``root`` would read it (config path, then course)."""
    from .config import course_config

    return course_config(root)


def gradebook_has(db_url: str, assignment: str) -> bool:
    """Whether the gradebook at ``db_url`` knows ``assignment``. Opening it also creates or upgrades the
    gradebook once, before grading workers race to do it (nbgrader runs `alembic`: this environment's
    bin folder goes first on PATH, which workers inherit)."""
    from nbgrader.api import Gradebook, MissingEntry

    tools_on_path(os.environ)
    with Gradebook(db_url) as gradebook:
        try:
            gradebook.find_assignment(assignment)
        except MissingEntry:
            return False
    return True


def require_assignment(db_url: str, assignment: str) -> None:
    """Stop with what to run first when the gradebook does not know ``assignment``."""
    if not gradebook_has(db_url, assignment):
        raise NbgraderError(f"the gradebook has no assignment '{assignment}': generate it first with "
                            f"`clientcare release {assignment}` (nbgrader generate_assignment), then grade "
                            "again")


def default_workers() -> int:
    """One more worker than cores: a worker waiting for its kernel leaves a core idle otherwise.

    Measured on 2 cores (60 learners): 0.87 s per learner with 2 workers, 0.78 s with 3, 0.80 s with 4.
    """
    return (os.cpu_count() or 1) + 1


def submitted_students(root: Path, assignment: str) -> list[str]:
    """Every name in submitted/ with an entry for ``assignment`` (unsafe names included: they are reported)."""
    submitted = Path(root) / "submitted"
    if not submitted.is_dir():
        return []
    return sorted(p.name for p in submitted.iterdir() if os.path.lexists(p / assignment))


def refusal(root: Path, student: str, assignment: str) -> str:
    """Why ``student``'s submission is not handed to nbgrader at all ("" if it can be graded)."""
    reason = unsafe_student_id(student)
    if reason:
        return f"not graded: the student id {student!r} is unsafe to grade ({reason}); rename the folder"
    if os.path.islink(Path(root) / "submitted" / student):
        return f"not graded: submitted/{student} is a link, not the learner's own folder"
    return ""


def worker_environment(environ=os.environ) -> dict[str, str]:
    """What a grading worker keeps of ``environ``: every variable it needs, no other (secrets of the instructor's
    shell dropped)."""
    return {name: value for name, value in environ.items()
            if name in WORKER_ENVIRONMENT or name.startswith(WORKER_ENVIRONMENT_PREFIXES)}


def _pool_context() -> multiprocessing.context.BaseContext:
    """Where the pool's workers come from: multiprocessing's fork server, which imports nbgrader and the grading
    code once (for the grading process's life) and forks each worker from that, instead of a new interpreter
    importing them again for every worker (about 1.2 to 1.5 CPU-seconds each on a 2-core machine).

    Each worker is given its environment (``worker_environment``, read when the cohort's grading starts) and
    its directory by its initializer, and runs on the fork server's imports and process settings (umask, nice,
    limits: the grading process's when the fork server started; a worker sets its own memory limit). The fork
    server keeps the environment the grading process had then; it runs no grading code, and learner code, in
    its sandbox as another user, cannot read it. The workers end when the grading process ends (the fork
    server too, once its workers have).
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOADED)
    with _FORK_SERVER_START:
        _start_fork_server()
    return context


_FORK_SERVER_START = threading.Lock()


def _start_fork_server() -> None:
    """Start the fork server if it is not running, importing from the grading process's own ``sys.path`` only.

    Python 3.11 starts it as ``python -c`` (the current folder first on its ``sys.path``) and ignores the path it
    is given: a ``secrets.py`` in the folder grading was started from would replace the standard library's, and a
    stray ``calendar.py`` there would run in it, outside every sandbox. ``PYTHONSAFEPATH`` leaves the current
    folder out and ``PYTHONPATH`` gives it this process's path; both are set only while it starts.
    """
    from multiprocessing import forkserver

    added = {"PYTHONSAFEPATH": "1", "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    saved = {name: os.environ.get(name) for name in added}
    os.environ.update(added)
    try:
        forkserver.ensure_running()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# ---------------------------------------------------------------- inside a worker process

_worker: dict = {}


def _status(**state) -> None:
    """Record what this worker is doing in its status file (read by the coordinator if the worker dies)."""
    folder = _worker.get("status_dir")
    if folder:
        path = os.path.join(folder, str(os.getpid()))
        with open(path + ".new", "w", encoding="utf-8") as file:
            json.dump(state, file)
        os.replace(path + ".new", path)


def _end_with_the_grader(grader: int, every: float = 0.5) -> None:
    """End this pool worker as soon as the grading process ``grader`` that started it is gone (killed, out of
    memory).

    A pool worker waits for work on a queue it holds both ends of: without this it would wait for ever,
    with its warm sandboxes and the slot users' processes in them. Those end with it (bubblewrap's
    ``--die-with-parent``), and so does the fork server it came from (``_pool_context``), which lives while
    any of its workers does. Watched through a pidfd (Linux 5.3 and later: woken when it ends, with no
    polling and no pid that a later process could reuse), else by asking every ``every`` seconds.
    Only pool workers: a Dask worker's life is its nanny's to manage.
    """
    try:
        handle = os.pidfd_open(grader)
    except ProcessLookupError:
        os._exit(EXIT_GRADER_GONE)
    except (AttributeError, OSError):
        handle = None

    def watch() -> None:
        if handle is not None:
            select.select([handle], [], [])
        else:
            while os.path.exists(f"/proc/{grader}"):
                time.sleep(every)
        os._exit(EXIT_GRADER_GONE)

    threading.Thread(target=watch, name="clientcare-grader-watch", daemon=True).start()


def _start_worker(root: str, notebook_budget: float, memory_mb: int = DEFAULT_WORKER_MEMORY_MB,
                  quiet: bool = True, status_dir: str = "", grader: int = 0,
                  environment: dict[str, str] | None = None) -> None:
    """The pool's initializer (``grader``: the grading process, which this worker does not outlive;
    ``environment``: the worker's whole environment; a Dask worker has neither and keeps what it needs of its
    own environment). Never raises: a failure is kept and reported for every learner this worker gets
    (an initializer that raised would break the pool with no cause but "terminated abruptly")."""
    if grader:
        _end_with_the_grader(grader)
    _worker.update(status_dir=status_dir, start_error="")
    _status(state="starting", started=time.time())
    try:
        _set_up_worker(root, notebook_budget, memory_mb, quiet, environment)
    except Exception as error:
        _worker["start_error"] = f"{type(error).__name__}: {error}"[:500]
    _status(state="idle")


def _set_up_worker(root: str, notebook_budget: float, memory_mb: int, quiet: bool,
                   environment: dict[str, str] | None) -> None:
    import resource

    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    os.chdir(root)
    environment = worker_environment() if environment is None else environment
    for name in set(os.environ) - set(environment):  # (never all at once: a Dask worker has other threads)
        del os.environ[name]
    os.environ.update(environment)
    if memory_mb > 0:
        resource.setrlimit(resource.RLIMIT_DATA, (memory_mb * 1024 * 1024, resource.getrlimit(resource.RLIMIT_DATA)[1]))
    # Kernels inherit this process's stdout and stderr and print start-up chatter on them; keep the
    # instructor's terminal for the progress bar. nbgrader's own log is captured per learner. (A pool worker's
    # are the fork server's, those of the grading process when it started the fork server. A Dask worker,
    # set up by dask_grading.GradingSetup, keeps its own: they are the worker's log.)
    if quiet:
        silent = os.open(os.devnull, os.O_WRONLY)
        os.dup2(silent, 1), os.dup2(silent, 2)
        os.close(silent)
    config = load_course_config(Path(root))
    config.JudgedExecute.notebook_budget = float(notebook_budget)  # a hard cap, enforced by JudgedExecute
    from .shared_engine import share_engines

    share_engines()  # nbgrader's queries compiled once per worker, not once per learner
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    api.log.setLevel(logging.WARNING)
    _worker.update(api=api)
    # Warm sandboxes (warm.py) serve this worker's learners and end with it. A pool process ends without running
    # atexit handlers, so the pool's own exit finalizers close them (each kills its sandbox and waits until
    # its slot user has no process left).
    from multiprocessing.util import Finalize

    from . import warm

    Finalize(None, warm.close_all, exitpriority=10)


def _grade_one(assignment: str, student: str) -> Outcome:
    started = time.monotonic()
    if _worker.get("start_error"):
        return Outcome(student, False, 0.0, f"not graded: the grading worker could not start "
                                            f"({_worker['start_error']}); none of this learner's code was run")
    _status(state="grading", student=student, assignment=assignment, started=time.time())
    try:
        return _grade(assignment, student, started)
    except MemoryError:
        return Outcome(student, False, time.monotonic() - started,
                       "grading ran out of memory (an output flood?); this learner was not graded")
    except Exception as error:  # one learner's fault, reported by its cause; the cohort goes on
        return Outcome(student, False, time.monotonic() - started, f"grading failed: {type(error).__name__}: {error}"[:500])
    finally:
        _status(state="idle")


def _grade(assignment: str, student: str, started: float) -> Outcome:
    api = _worker["api"]
    coursedir = api.coursedir
    notes = preflight(Path(coursedir.format_path(coursedir.submitted_directory, student, assignment)),
                      Path(coursedir.format_path(coursedir.release_directory, ".", assignment)),
                      set_aside_folder(Path(coursedir.root), student, assignment))
    result = api.autograde(assignment, student, force=True, create=True)
    seconds = time.monotonic() - started
    # The grader's notes are in the graded notebooks' metadata; the log has those of a notebook never written.
    notes += notable_errors(Path(coursedir.format_path(coursedir.autograded_directory, student, assignment)))
    notes += [line.split(LOG_PREFIX, 1)[1].strip() for line in (result.get("log") or "").splitlines()
              if LOG_PREFIX in line]
    if not result.get("success"):
        notes.append(_failure_reason(result))
    return Outcome(student, bool(result.get("success")), seconds, "; ".join(dict.fromkeys(notes)))


def _failure_reason(result: dict) -> str:
    """The most useful line of nbgrader's error report."""
    text = (result.get("error") or "") + "\n" + (result.get("log") or "")
    generic = ("Please see the", "There was an error processing")  # nbgrader's wrappers around the cause
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith(generic)
             and not any(g in line for g in generic)]
    errors = [line for line in lines if "[ERROR]" in line or "Error" in line]
    return (errors[-1] if errors else (lines[-1] if lines else "nbgrader reported a failure")).replace("[ERROR] ", "")


# ---------------------------------------------------------------- the coordinator


class ProgressBar:
    """``[#####.....] 57/200 graded, 1 failed, 62 s, about 1m40s left`` on one line (or a line per 5 %)."""

    def __init__(self, total: int, stream: TextIO = sys.stderr, width: int = 30):
        self.total, self.stream, self.width = total, stream, width
        self.done = self.failed = 0
        self.started = time.monotonic()
        self.live = stream.isatty()
        self.every = max(1, total // 20)

    def update(self, outcome: Outcome) -> None:
        self.done += 1
        self.failed += not outcome.ok
        if self.live or self.done % self.every == 0 or self.done == self.total:
            end = "" if self.live and self.done < self.total else "\n"
            print(("\r" if self.live else "") + self.line(), end=end, file=self.stream, flush=True)

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        filled = int(self.width * self.done / self.total) if self.total else self.width
        left = elapsed / self.done * (self.total - self.done) if self.done else 0
        eta = f"about {int(left // 60)}m{int(left % 60):02d}s left" if self.done < self.total else "done"
        return (f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} graded, "
                f"{self.failed} failed, {elapsed:.0f} s, {eta}")


def grade_cohort(
    root: Path,
    assignment: str,
    workers: int | None = None,
    notebook_budget: float = DEFAULT_NOTEBOOK_BUDGET,
    students: list[str] | None = None,
    on_result: Callable[[Outcome], None] | None = None,
    worker_memory_mb: int = DEFAULT_WORKER_MEMORY_MB,
) -> list[Outcome]:
    """Autograde every submitted learner's ``assignment`` in ``root``; returns one Outcome per learner."""
    from .config import gradebook_url

    root = Path(root).resolve()
    students = submitted_students(root, assignment) if students is None else students
    if not students:
        return []
    workers = max(1, min(workers or default_workers(), len(students)))
    config = load_course_config(root)
    require_assignment(gradebook_url(root, config), assignment)
    install_kernelspec()  # the sandboxed kernel nbgrader_config.py names
    outcomes = []
    for student in [s for s in students if refusal(root, s, assignment)]:
        outcomes.append(Outcome(student, False, 0.0, refusal(root, student, assignment)))
        if on_result:
            on_result(outcomes[-1])
    pending = [s for s in students if not refusal(root, s, assignment)]
    context = _pool_context()
    environment = worker_environment()
    status_dir = tempfile.mkdtemp(prefix="clientcare-workers-")  # each worker's status, by pid
    died: dict[str, tuple[bool, str]] = {}  # learner -> (their own worker died?, why the pool broke), last time
    deaths: dict[str, int] = {}  # learner -> how often the worker grading them died
    try:
        # A pool that broke (a worker died) is replaced for what it left undone; a learner whose own worker
        # died twice is reported, not graded a third time (each round counts a death for at least one learner).
        while pending:
            broken = []
            oom_before = _oom_kills()
            with ProcessPoolExecutor(min(workers, len(pending)), mp_context=context, initializer=_start_worker,
                                     initargs=(str(root), notebook_budget, worker_memory_mb, True, status_dir,
                                               os.getpid(), environment)) as pool:
                # The pool's worker processes (a private attribute, but the only way to their exit codes)
                processes = getattr(pool, "_processes", None)
                processes = {} if processes is None else processes  # (the pool's own dict, filled as they start)
                futures = {pool.submit(_grade_one, assignment, student): student for student in pending}
                for future in as_completed(futures):
                    try:
                        outcome = future.result()
                    except BrokenProcessPool:
                        broken.append(futures[future])
                        continue
                    except Exception as error:  # anything else from the pool: report it, carry on
                        outcome = Outcome(futures[future], False, 0.0, f"grading process failed: {error!r}")
                    own, cause = died.pop(outcome.student, (False, ""))
                    if own:  # graded on another attempt: say what happened to the first
                        outcome = replace(outcome, message="; ".join(filter(None, (f"graded again after {cause}",
                                                                                   outcome.message))))
                    outcomes.append(outcome)
                    if on_result:
                        on_result(outcome)
            if not broken:
                break
            died.update(_dead_workers(root, processes, status_dir, oom_before, broken))
            for student in [s for s in broken if died[s][0]] or broken:
                deaths[student] = deaths.get(student, 0) + 1
            pending = sorted(s for s in broken if deaths.get(s, 0) < 2)
            for student in sorted(s for s in broken if deaths.get(s, 0) >= 2):
                outcomes.append(Outcome(student, False, 0.0, f"not graded: {died.pop(student)[1]} "
                                                             "(tried twice; the pool broke both times)"))
                if on_result:
                    on_result(outcomes[-1])
    finally:
        shutil.rmtree(status_dir, ignore_errors=True)
    return sorted(outcomes, key=lambda o: o.student)


# ---------------------------------------------------------------- why a worker died


def _oom_kills() -> int | None:
    """How many processes the Linux out-of-memory killer has killed on this machine (None: not shown)."""
    try:
        with open("/proc/vmstat", encoding="ascii") as vmstat:
            for line in vmstat:
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def death_cause(exitcode: int | None, oom_before: int | None = None, oom_after: int | None = None) -> str:
    """Why a process ended, from its exit code (negative: the signal that killed it) and the OOM killer's count.

    "Out of memory" only when the out-of-memory killer's count grew meanwhile and the process died of SIGKILL.
    """
    if exitcode is None:
        return "it was still running when the pool broke"
    if exitcode >= 0:
        return f"it exited with status {exitcode}"
    number = -exitcode
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    described = f"{name} ({signal.strsignal(number)})" if signal.strsignal(number) else name
    if number != signal.SIGKILL:
        return f"it was killed by {described}"
    if oom_before is None or oom_after is None:
        return (f"it was killed by {described}, by another process or by the out-of-memory killer (this system "
                "does not say which)")
    if oom_after > oom_before:
        return f"it was killed by {described} from the out-of-memory killer: the machine ran out of memory"
    return f"it was killed by {described}, sent by another process (not the out-of-memory killer)"


def _notebook_in_progress(root: Path, student: str, assignment: str, started: float) -> str:
    """The notebook of ``student``'s ``assignment`` nbgrader was grading (in its order) since ``started``.

    nbgrader writes each notebook to autograded/ twice: sanitised (no cell run yet), then graded; a notebook
    counts as graded once a code cell there has run since ``started``.
    """
    names = sorted(p.name for p in (root / "submitted" / student / assignment).glob("*.ipynb"))
    for name in names:
        graded = root / "autograded" / student / assignment / name
        try:
            ran = graded.stat().st_mtime >= started and any(
                cell.get("execution_count") is not None
                for cell in json.loads(graded.read_text(encoding="utf-8")).get("cells", []))
        except (OSError, ValueError, AttributeError):
            ran = False
        if not ran:
            return f"{assignment}/{name}"
    return f"{assignment} (after its notebooks: {', '.join(names) or 'none found'})"


def _fork_server_ended(wait: float = 0.0) -> bool:
    """Whether the fork server the pool's workers come from (``_pool_context``) has ended, waiting up to ``wait``
    seconds for one that is ending (its sockets close, which breaks the pool, a moment before it has ended)."""
    from multiprocessing import forkserver

    from .warm import _stat

    pid = getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)
    if not pid:
        return False
    try:  # not reaped here: multiprocessing reaps it when it starts another
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    except (AttributeError, OSError):  # no pidfds: its state, once
        try:
            return _stat(pid)[0] in ("Z", "X")
        except (OSError, IndexError):
            return True
    try:
        return bool(select.select([handle], [], [], wait)[0])
    finally:
        os.close(handle)


def _dead_workers(root: Path, processes: dict, status_dir: str, oom_before: int | None,
                  broken: list[str]) -> dict[str, tuple[bool, str]]:
    """For every learner in ``broken``: (whether their own worker died, why the pool broke), naming the learner
    and the notebook each dead worker was grading."""
    codes = {pid: process.exitcode for pid, process in processes.items()}
    # A worker's exit code is unknown (multiprocessing says 255) once the fork server has ended: no learner's fault
    if _fork_server_ended(wait=2.0 if 255 in codes.values() else 0.0):
        return {student: (False, "its worker was stopped because the fork server the grading workers are forked "
                                 "from ended (killed?); it is started again") for student in broken}
    oom_after = _oom_kills()
    # When one worker dies the pool ends the others with SIGTERM: those are not causes (unless all died so)
    dead = {pid: code for pid, code in codes.items() if code not in (0, -signal.SIGTERM)} or \
        {pid: code for pid, code in codes.items() if code == -signal.SIGTERM}
    causes, general = {}, []
    for pid, code in sorted(dead.items()):
        try:
            with open(os.path.join(status_dir, str(pid)), encoding="utf-8") as file:
                state = json.load(file)
        except (OSError, ValueError):
            state = {"state": "starting"}  # it died before its initializer wrote anything
        cause = death_cause(code, oom_before, oom_after)
        if state.get("state") == "grading" and state.get("student") in broken:
            student = state["student"]
            notebook = _notebook_in_progress(root, student, state.get("assignment", ""), state.get("started", 0))
            causes[student] = f"the grading worker died while grading {student}'s {notebook}: {cause}"
        else:
            general.append(f"a grading worker died while {'starting' if state.get('state') == 'starting' else 'idle'}"
                           f": {cause}")
    reason = "; ".join(list(causes.values())[:3] + general[:1]) or "a grading worker died (its cause was not found)"
    return {student: (True, causes[student]) if student in causes else
            (False, f"its worker was stopped because the pool broke ({reason})") for student in broken}
