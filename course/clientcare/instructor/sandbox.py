"""Learner code behind an OS boundary, with in-kernel protections as defence in depth.

The boundary: ``SandboxKernelManager``
--------------------------------------
A ``jupyter_client`` kernel manager (``SandboxKernelManager``, blocking API, as
the verdict side drives kernels; ``AsyncSandboxKernelManager`` for nbclient,
i.e. stock nbgrader's ``c.Execute.kernel_manager_class``) that starts the learner's ipykernel under
bubblewrap (``bwrap``, Debian package ``bubblewrap``; ``make install`` installs
it). What the learner's code then sees and may do is decided by the operating
system, not by Python:

* **Files**: a read-only ``/usr``, Python installation and virtualenv, a few
  files of ``/etc`` (the dynamic linker's cache, the time zone) and a made-up
  ``/etc/passwd``; its working folder ``/home/learner/<assignment>`` holding
  copies of the regular files of the scratch folder it was given, and ``/tmp``,
  both on one private tmpfs of ``disk_mb`` (the cap on all the disk it can
  fill); a small tmpfs ``/dev/shm``; nothing of the course, other learners, the
  exchange, the gradebook, the grader's home or ``/work``. The tmpfs dies with
  the sandbox, so nothing the learner wrote is left on disk.
* **No network**: a network namespace of its own (only a loopback interface).
  The kernel talks to the grader over the IPC transport (Unix sockets in a
  per-kernel folder bound into the sandbox, deleted at shutdown).
* **An unprivileged user**: run as root (as CI and a hub's grader service do),
  each kernel runs as a dedicated Unix user ``clientcare-sbx<N>``, one per
  concurrent kernel ("slot"), created on first use (``ensure_slot_user``), with
  no capabilities, no new privileges and no user namespaces of its own. A real
  user is what makes ``RLIMIT_NPROC`` count: it caps the processes and threads
  of that slot (``max_processes``), which root-mapped namespace users escape.
  Run as another user, the kernel runs as that user in a user namespace, and
  the process cap counts the grader's own processes too.
* **Limits** (``prlimit``, hard, set before Python starts): address space
  (``memory_mb``), largest file (``file_mb``), open files, processes, CPU
  seconds (``cpu_seconds``); no core dumps; no raising of its CPU priority
  (``RLIMIT_NICE`` 0).
* **Its own process tree**: a pid namespace (``--unshare-pid``), a new session,
  ``--die-with-parent``. Shutdown is always a kill (``shutdown_kernel`` ignores
  ``now=False``): killing bubblewrap ends the namespace's init, and the kernel
  kills every process left in it, so nothing outlives grading.
* **Environment by allowlist** (``environment``): nothing of the grader's
  environment reaches the kernel but the names of its protected paths, for the
  in-kernel protections (removed from ``os.environ`` before learner code runs).
* Python starts isolated (``-I -S``: no user site, no ``PYTHON*`` variables, no
  ``.pth`` files, the working folder not on ``sys.path``) and runs
  ``kernel_main`` below, which installs the in-kernel protections before it
  imports anything else (``defence_in_depth``).

What the boundary does not cover
--------------------------------
* The Linux kernel itself: no seccomp filter beyond bubblewrap's, so every
  system call open to an unprivileged user is open to learner code; a kernel
  vulnerability is a way out.
* Memory in total: ``memory_mb`` is per process, so up to ``max_processes``
  times that, plus the tmpfs (``disk_mb`` + ``shm_mb``, which live in RAM); no
  memory cgroup. Nor the number of files on the tmpfs (each costs kernel
  memory); the notebook's time budget bounds both in practice.
* CPU: ``cpu_seconds`` per process is a backstop only; grading's time budget
  is what stops a busy cell. A kernel whose processes have used
  ``low_priority_after`` seconds of CPU on one request gets the lowest CPU
  priority (nice 19, every process and thread of it, and its session's
  autogroup; ``RLIMIT_NICE`` 0 and a read-only ``/proc``, so learner code
  cannot raise it again): a busy notebook yields the CPU to those graded
  beside it, but the machine is still shared. The grader looks only while a
  request runs, once a second from a quarter of a second in: CPU used between
  requests, or by processes that live less than a second between two looks,
  is not counted, so a process left running in the background while the
  notebook's requests are all short keeps the usual priority. A process that
  learner code starts in a new session of its own (``setsid``) has a new
  autogroup at nice 0 until the next look: code that keeps starting new
  sessions keeps getting a fair share of the CPU. A CPU cgroup per sandbox
  would close all of these; the grader does not make cgroups.
  Timing and other side channels; ``/proc`` still shows the machine's load,
  memory and CPU model.
* What is read-only but visible: ``/usr``, the Python installation and the
  virtualenv (public software), and the kernel-side modules (``sandbox.py``,
  ``guard.py``; grader code, no secrets), and the names (not the contents) of
  the grader's protected paths, which the in-kernel protections are given in
  the kernel's initial environment (``/proc/self/environ``). Output the
  learner's code prints goes back to the grader: capping and judging it is the
  verdict side's job.
* Run as a user other than root: no slot users, so the process cap counts the
  grader's own processes too and the kernel runs as the grader's uid (mapped in
  a user namespace); files and network stay walled off as above.

Warm kernels (``warm=True``, run as root; ``warm.py``)
------------------------------------------------------
The same sandbox, started once per slot: its first process is a zygote that has
imported ipykernel (with its debugger), IPython, pandas and numpy and forks a fresh
kernel for each submission; the kernel is SIGKILLed afterwards and the sandbox
emptied (every process of the slot user killed, round after round; the home,
``/tmp``, ``/dev/shm`` and System V IPC emptied; POSIX message queues refused).
What every kernel of one warm sandbox shares, by design: the zygote's memory image
(modules as loaded from the read-only system and the grader's helper compiled from
its read-only source, never any learner's code or data: the scratch files reach the
child through a memfd the zygote does not read), so
also its string-hash secret and its address-space layout; and the sandbox's
namespaces (pid, network, IPC, user, the tmpfs), which outlive one submission.
What a learner's code can still do, and what it costs:

* Signal the zygote, stop it or lower its resource limits (same uid): the grader
  finds it killed, stopped, with a pending signal or with other limits (or a reply
  it did not ask for), and replaces the whole sandbox; the next kernel starts cold.
  It makes grading slower, never another learner's kernel different.
* Leave state that outlives its processes in the long-lived namespaces beyond what
  is emptied, for a *colluding* learner graded next in the same slot (the user's
  kernel keyring, the pid counter): a channel between two learners who want one,
  not a way to read or change an unwilling learner's work or grade.
* Not: ptrace the zygote, read its memory, environment or descriptors
  (``PR_SET_DUMPABLE`` 0), reach its command socket (inherited, closed in every
  child, never in the file system), change the modules it has loaded (read-only),
  or survive the kill (SIGKILL cannot be caught; the kill loop runs until a whole
  round finds no process). ``tests/instructor/test_warm_kernels.py`` tries each.
Run as another user, ``warm`` falls back to cold kernels (with a warning): the
kill-all-but-the-zygote step needs the slot user.

The in-kernel protections (``python -m clientcare.instructor.sandbox``)
----------------------------------------------------------------------
Before IPython starts, ``main`` sets up the following; each step is one
function below. They predate the OS boundary and stay as defence in depth:
no grade and no guarantee depends on them (the boundary tests switch them off).

What is protected
-----------------
1. ``limit_resources``: memory (address space, ``CLIENTCARE_KERNEL_MEMORY_MB``,
   default 2048) and the largest file the kernel may write
   (``CLIENTCARE_KERNEL_FILE_MB``, default 50); no core dumps. Hard limits, so
   learner code cannot raise them: a memory bomb is a ``MemoryError`` in its own
   cell, not a machine that grinds to a halt. The limit counts reserved address
   space, not memory used, so two things keep the kernel's own share small: at
   most two glibc malloc arenas (each of the kernel's ~13 threads would
   otherwise reserve 64 MB) and one thread per numerical library
   (``OPENBLAS_NUM_THREADS`` and friends, unless already set; each OpenBLAS
   thread reserves about 40 MB, so on a 64-core server numpy alone would not fit
   in 2 GB, and parallel grading already uses every core). A kernel with numpy,
   pandas and matplotlib loaded then reserves about 0.55 GB, leaving about
   1.5 GB to the learner; below about 768 MB the kernel cannot start.
2. ``protect_paths``: nothing under the paths in ``CLIENTCARE_PROTECTED_PATHS``
   (the course's source, submissions, grades, gradebook, exchange) may be opened,
   listed, copied, moved, linked, changed, deleted, entered or connected to with
   sqlite3 (including ``ATTACH``). Paths are resolved first (relative paths,
   ``..``, symbolic links, ``/proc/<pid>/cwd``), and folders that contain a
   protected path cannot be opened as file descriptors (which would allow
   ``dir_fd``-relative opens). Other processes' environments
   (``/proc/<pid>/environ``) cannot be read either.
3. ``block_native_code``: ``ctypes`` (loading libraries, calling C functions,
   reading raw memory) and ``cffi`` are refused. numpy, pandas and matplotlib do
   not need them once ``ctypes`` itself is imported, which ``main`` does first.
4. ``block_new_processes``: no ``subprocess``, ``os.system``, ``os.exec*``,
   ``os.fork``, ``!shell`` commands: a child process would not be sandboxed.
5. ``scrub_environment``: no ``CLIENTCARE_*``, ``NBGRADER_*`` or ``JUPYTERHUB_*``
   variables (the grader's, including the protected paths), so the environment
   does not say the notebook is being graded. (Graded notebooks use pandas only;
   nothing in them saves learner progress.)
6. ``block_self_termination``: ``os._exit``, ``os.abort``,
   ``signal.raise_signal``, ``exit()``/``quit()``, signals to any process
   (except the interrupt ipykernel sends itself) and resource-limit changes
   raise ``GradingSandboxError`` in the cell; the kernel lives on to run the
   other cells. (``raise SystemExit`` is already just an error in IPython.)

The checks are audit hooks (``sys.addaudithook``), which Python code cannot
remove, so they hold against the one-line cheats a learner might try.

What this layer alone does NOT protect (the OS boundary above does)
-------------------------------------------------------------------
* A determined attacker: code that digs the hooks' state out of memory (``gc``,
  frames, closures), races a symbolic link between the check and the open,
  recovers the real ``os._exit`` (from the wrapper's closure, or by re-creating
  the ``posix`` module), connects to SQLite with a factory of its own to
  ``ATTACH`` a protected database, or runs native code another way (a compiled
  extension on ``sys.path``).
* Files outside the protected paths: anything the grading user can read (home
  folder, other learners' scratch copies of their data files, ``/etc``) is
  readable. ``os.stat`` and ``os.path.exists`` have no audit event, so the
  existence and size of protected files can be discovered.
* The network: no network isolation at all.
* Timing and other side channels; detecting that grading is happening (the
  parent process, the scratch folder's name).
* Crashing the kernel natively (a segmentation fault, deep recursion past the C
  stack, resetting signal handlers then triggering them): nbgrader then reports
  a dead kernel for that notebook. CPU time is bounded by nbgrader's timeouts,
  disk use only per file.

What the boundary does not cover: see ``SandboxKernelManager``.
"""
from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager, KernelManager
from jupyter_core.utils import run_sync
from traitlets.config import LoggingConfigurable
from traitlets import Bool, Dict, Float, Integer, Unicode

from . import guard
from .guard import GradingSandboxError

KERNEL_NAME = "clientcare-grader"
DISPLAY_NAME = "Client Care grader (sandboxed)"
PROTECTED_ENV = "CLIENTCARE_PROTECTED_PATHS"
MEMORY_ENV, DEFAULT_MEMORY_MB = "CLIENTCARE_KERNEL_MEMORY_MB", 2048
FILE_ENV, DEFAULT_FILE_MB = "CLIENTCARE_KERNEL_FILE_MB", 50
GRADER_ENV_PREFIXES = ("CLIENTCARE_", "NBGRADER_", "JUPYTERHUB_")
THREAD_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
MB = 1024 * 1024

# Audit event -> (what the learner tried, positions of its path arguments); see
# https://docs.python.org/3.11/library/audit_events.html
PATH_EVENTS = {
    "open": ("reading", (0,)),
    "os.listdir": ("listing", (0,)),
    "os.scandir": ("listing", (0,)),
    "os.walk": ("listing", (0,)),
    "os.fwalk": ("listing", (0,)),
    "glob.glob": ("listing", (0,)),
    "glob.glob/2": ("listing", (0, 2)),
    "os.chdir": ("entering", (0,)),
    "os.mkdir": ("creating", (0,)),
    "os.rename": ("moving", (0, 1)),
    "shutil.move": ("moving", (0, 1)),
    "os.remove": ("deleting", (0,)),
    "os.rmdir": ("deleting", (0,)),
    "shutil.rmtree": ("deleting", (0,)),
    "os.link": ("linking to", (0, 1)),
    "os.symlink": ("linking to", (0, 1)),
    "shutil.copyfile": ("copying", (0, 1)),
    "shutil.copymode": ("copying", (0, 1)),
    "shutil.copystat": ("copying", (0, 1)),
    "shutil.copytree": ("copying", (0, 1)),
    "shutil.make_archive": ("archiving", (0, 2)),
    "shutil.unpack_archive": ("unpacking", (0, 1)),
    "os.truncate": ("changing", (0,)),
    "os.chmod": ("changing", (0,)),
    "os.chown": ("changing", (0,)),
    "shutil.chown": ("changing", (0,)),
    "os.utime": ("changing", (0,)),
    "os.listxattr": ("reading", (0,)),
    "os.getxattr": ("reading", (0,)),
    "os.setxattr": ("changing", (0,)),
    "os.removexattr": ("changing", (0,)),
    "sqlite3.connect": ("opening the database", (0,)),
}
PROCESS_EVENTS = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
                  "os.forkpty", "pty.spawn", "os.startfile"}
SIGNAL_EVENTS = {"os.kill", "os.killpg", "signal.pthread_kill"}
NATIVE_MODULES = {"cffi", "_cffi_backend"}


# ---------------------------------------------------------------- the kernel spec


def install_kernelspec(prefix: str = sys.prefix) -> Path:
    """Write the ``clientcare-grader`` kernel spec into ``prefix`` (idempotent); return its folder.

    Installed into ``sys.prefix`` (the virtualenv), jupyter_client's
    KernelSpecManager finds it, so nbgrader can run ``c.Execute.kernel_name =
    "clientcare-grader"``.
    """
    folder = Path(prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME
    spec = {
        "argv": [sys.executable, "-m", "clientcare.instructor.sandbox", "-f", "{connection_file}"],
        "display_name": DISPLAY_NAME,
        "language": "python",
        "metadata": {"debugger": False},
    }
    text = json.dumps(spec, indent=2) + "\n"
    folder.mkdir(parents=True, exist_ok=True)
    spec_file = folder / "kernel.json"
    if not _same_spec(spec_file, spec):  # a grader without write access uses the spec root installed
        spec_file.write_text(text)
    return folder


def _same_spec(spec_file: Path, spec: dict) -> bool:
    """Whether ``spec_file`` already says ``spec`` (the interpreter compared as a file, not a name)."""
    try:
        found = json.loads(spec_file.read_text())
        same_python = os.path.samefile(found["argv"][0], spec["argv"][0])
    except (OSError, ValueError, KeyError, IndexError):
        return False
    return same_python and {**found, "argv": found["argv"][1:]} == {**spec, "argv": spec["argv"][1:]}


# ---------------------------------------------------------------- 1. resources


def _megabytes(name: str, default: int) -> int:
    """A size in MB from the environment; the default if unset or not a whole number."""
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        print(f"clientcare sandbox: {name} is not a whole number of MB; using {default}", file=sys.stderr)
        return default


def _set_limit(which: int, megabytes: int) -> None:
    """Set soft and hard limit (0 or less: leave unlimited), never above an existing hard limit."""
    if megabytes <= 0:
        return
    wanted = megabytes * MB
    _, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    resource.setrlimit(which, (wanted, wanted))


def _fewer_malloc_arenas() -> None:
    """At most two glibc malloc arenas (the kernel's threads would each reserve 64 MB of address space).

    An idle kernel with pandas and matplotlib loaded then uses about 0.5 GB of
    address space instead of 1.1 GB, leaving the rest of the limit to the learner.
    """
    try:
        import ctypes

        ctypes.CDLL(None).mallopt(-8, 2)  # M_ARENA_MAX; not glibc (no mallopt): nothing to do
    except (OSError, AttributeError):
        pass


def limit_resources() -> None:
    """Cap address space and file size (hard limits), no core dumps, one thread per numerical library."""
    for name in THREAD_ENV:
        os.environ.setdefault(name, "1")  # read when numpy is first imported, i.e. later
    _fewer_malloc_arenas()
    _set_limit(resource.RLIMIT_AS, _megabytes(MEMORY_ENV, DEFAULT_MEMORY_MB))
    _set_limit(resource.RLIMIT_FSIZE, _megabytes(FILE_ENV, DEFAULT_FILE_MB))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


# ---------------------------------------------------------------- 2. protected paths


def _resolve(target) -> str:
    """The real absolute path ``target`` names, or "" for file descriptors and non-paths."""
    if target is None or isinstance(target, int):
        return ""
    try:
        name = os.fsdecode(target)
    except TypeError:
        return ""
    return os.path.realpath(name) if name else ""


def _sqlite_file(database) -> str:
    """The file an sqlite3 database name refers to ("" for in-memory); understands ``file:`` URIs."""
    from urllib.parse import unquote, urlsplit

    name = os.fsdecode(database) if isinstance(database, (str, bytes, os.PathLike)) else ""
    if name.startswith("file:"):
        name = unquote(urlsplit(name).path)
    return "" if name in ("", ":memory:") else name


def _check(protected: tuple[str, ...], verb: str, target, shown=None) -> None:
    """Raise PermissionError if ``target`` is a protected path or inside one."""
    real = _resolve(target)
    if not real:
        return
    if any(real == p or real.startswith(p.rstrip(os.sep) + os.sep) for p in protected):
        raise PermissionError(f"{verb} {shown if shown is not None else target} is not allowed while grading")
    if real.startswith("/proc/") and real.endswith("/environ"):
        raise PermissionError(f"{verb} {target} is not allowed while grading")


def _is_ancestor(protected: tuple[str, ...], target) -> bool:
    """Whether ``target`` is a folder holding a protected path (``/`` holds them all)."""
    real = _resolve(target)
    return bool(real) and any(p.startswith(real.rstrip(os.sep) + os.sep) for p in protected)


def protect_paths(paths: list[str]) -> None:
    """Refuse, from now on, every file operation on or under ``paths`` (an audit hook: permanent)."""
    protected = tuple(os.path.realpath(p) for p in paths if p)
    if not protected:
        return
    check, is_ancestor, sqlite_file = _check, _is_ancestor, _sqlite_file  # bound now, not looked up later

    def hook(event: str, args: tuple) -> None:
        if event not in PATH_EVENTS:
            return
        verb, positions = PATH_EVENTS[event]
        for position in positions:
            if position >= len(args):
                continue
            target = args[position]
            if event == "sqlite3.connect":
                check(protected, verb, sqlite_file(target) or None, target)
            elif event == "open" and isinstance(args[1], str) and any(m in args[1] for m in "wax+"):
                check(protected, "writing", target)
            else:
                check(protected, verb, target)
        if event == "open" and args[1] is None and is_ancestor(protected, args[0]):
            # os.open() of a folder above protected paths would allow open("gradebook.db", dir_fd=...)
            raise PermissionError(f"opening the folder {args[0]} is not allowed while grading")

    sys.addaudithook(hook)
    _refuse_sqlite_attach(protected)


def _refuse_sqlite_attach(protected: tuple[str, ...]) -> None:
    """Make ``sqlite3.connect`` connections refuse ``ATTACH`` of a protected database.

    SQLite opens attached files itself, without an audit event, and a connection
    is not usable yet when ``sqlite3.connect/handle`` is raised, so connections
    get an authorizer instead (a learner who asks for another factory can avoid it).
    """
    import sqlite3
    import sqlite3.dbapi2

    check, sqlite_file, original = _check, _sqlite_file, sqlite3.connect

    def authorise(action, filename, *_):
        try:
            if action == sqlite3.SQLITE_ATTACH and filename:
                check(protected, "attaching", sqlite_file(filename) or None, filename)
        except PermissionError:
            return sqlite3.SQLITE_DENY  # sqlite3.DatabaseError: not authorized
        return sqlite3.SQLITE_OK

    class Connection(sqlite3.Connection):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.set_authorizer(authorise)

    def connect(database, *args, **kwargs):
        if len(args) < 5:  # factory is the sixth positional argument
            kwargs.setdefault("factory", Connection)
        return original(database, *args, **kwargs)

    connect.__doc__ = original.__doc__
    sqlite3.connect = sqlite3.dbapi2.connect = connect


# ---------------------------------------------------------------- 3. native code


def block_native_code() -> None:
    """Refuse ctypes (loading libraries, calling C, raw memory) and importing cffi from now on."""
    import ctypes  # noqa: F401  (imported first: importing ctypes loads the Python library itself)

    def hook(event: str, args: tuple) -> None:
        if event.startswith("ctypes."):
            raise GradingSandboxError(f"ctypes ({event}) is not allowed while grading")
        if event == "import" and args[0] in NATIVE_MODULES:
            raise GradingSandboxError(f"importing {args[0]} is not allowed while grading")

    sys.addaudithook(hook)


# ---------------------------------------------------------------- 4. other programs


def block_new_processes() -> None:
    """Refuse starting programs and forking: a child process would escape the sandbox."""

    def hook(event: str, args: tuple) -> None:
        if event in PROCESS_EVENTS:
            raise PermissionError(f"starting another process ({event}) is not allowed while grading")

    sys.addaudithook(hook)


# ---------------------------------------------------------------- 5. environment


def scrub_environment() -> None:
    """Remove the grader's variables, so nothing in the environment says "this is being graded"."""
    for name in [n for n in os.environ if n.startswith(GRADER_ENV_PREFIXES)]:
        del os.environ[name]
    os.environ.pop("OLDPWD", None)
    os.environ["PWD"] = os.getcwd()  # the grader's shell folder is usually the course itself


# ---------------------------------------------------------------- 6. self-termination


def _kernel_may_exit() -> bool:
    """Whether the caller is ipykernel's parent poller (it exits the kernel when the grader dies)."""
    poller = sys.modules.get("ipykernel.parentpoller")
    return poller is not None and isinstance(threading.current_thread(), poller.ParentPollerUnix)


def _refusing(original, what: str):
    """``original`` wrapped so that it raises GradingSandboxError unless ipykernel itself calls it."""

    def refuse(*args, **kwargs):
        if _kernel_may_exit():
            return original(*args, **kwargs)
        shown = ", ".join(map(repr, args))
        raise GradingSandboxError(f"{what}({shown}) is not allowed while grading: the kernel must keep running")

    refuse.__name__ = refuse.__qualname__ = original.__name__
    refuse.__doc__ = original.__doc__
    return refuse


def block_self_termination() -> None:
    """``os._exit``, ``os.abort``, ``raise_signal``, ``exit()``, signals and rlimit changes raise instead."""
    import posix

    import _signal

    for module, name, what in ((os, "_exit", "os._exit"), (posix, "_exit", "os._exit"),
                               (os, "abort", "os.abort"), (posix, "abort", "os.abort"),
                               (signal, "raise_signal", "signal.raise_signal"),
                               (_signal, "raise_signal", "signal.raise_signal")):
        setattr(module, name, _refusing(getattr(module, name), what))

    from ipykernel.zmqshell import ZMQInteractiveShell

    def ask_exit(self):
        raise GradingSandboxError("exit() is not allowed while grading: the kernel must keep running")

    ZMQInteractiveShell.ask_exit = ask_exit  # exit() and quit() in a cell

    me = os.getpid()
    harmless = {0, signal.SIGINT}  # probing, and the interrupt ipykernel sends itself

    def hook(event: str, args: tuple) -> None:
        if event in SIGNAL_EVENTS:
            target, sig = args
            own = target in (me, os.getpgid(me)) or event == "signal.pthread_kill"
            if not (sig in harmless and own):
                raise GradingSandboxError(f"{event}({target}, {sig}) is not allowed while grading")
        elif event in ("resource.setrlimit", "resource.prlimit"):
            raise GradingSandboxError("changing resource limits is not allowed while grading")

    sys.addaudithook(hook)


# ---------------------------------------------------------------- the OS boundary (see the module's docstring)

SLOT_USER_PREFIX = "clientcare-sbx"
SANDBOX_HOME = "/home/learner"
KERNEL_PACKAGE_ROOT = "/opt/clientcare"  # where the kernel-side modules appear inside the sandbox
KERNEL_PACKAGE = "clientcare_kernel"
KERNEL_MODULES = ("sandbox.py", "guard.py", "warm.py")  # what runs inside: this file, the in-kernel test guard
                                                        # and warm kernels' zygote
HELPER_SOURCE = "helper_source.py"  # the grader's helper, as the grader sends it to every kernel (not imported)
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/timezone",
             "/etc/mime.types")
TOP_LEVEL = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
DEFAULT_ENVIRONMENT = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": SANDBOX_HOME,
    "USER": "learner",
    "LOGNAME": "learner",
    "LANG": "C.UTF-8",
    "TMPDIR": "/tmp",
    "MPLBACKEND": "Agg",
    "JUPYTER_PLATFORM_DIRS": "1",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    "MALLOC_ARENA_MAX": "2",  # see limit_resources: glibc reads it before Python starts
    "JPY_PARENT_PID": "1",  # ipykernel: no parent to poll (the pid namespace ends with bubblewrap)
    **{name: "1" for name in THREAD_ENV},
}
# Kernel start-up: the kernel's own message loop, no IPython history database on the tmpfs.
KERNEL_ARGUMENTS = ("--HistoryManager.enabled=False",)


class SandboxUnavailable(RuntimeError):
    """The OS boundary cannot be set up here (no bubblewrap, no slot user): nothing was run."""


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _account_command(args: list[str], done) -> "subprocess.CompletedProcess":
    """Run ``useradd``/``userdel``/``groupdel``; while ``done()`` is false, retry for up to 5 s: another
    process (a second grading worker, a test making slot users) may hold the lock on /etc/passwd."""
    import subprocess

    for _ in range(20):
        result = subprocess.run(args, capture_output=True, text=True, check=False)
        if done():
            return result
        time.sleep(0.25)
    return result


def ensure_slot_user(name: str) -> tuple[int, int]:
    """The uid and gid of the Unix user ``name``, created (a system user, no home, no shell) if missing.

    Needs root. Several workers may race to create the same user; whoever loses finds it made.
    """
    import pwd
    import subprocess

    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        result = _account_command(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                                   "--shell", "/usr/sbin/nologin", "--user-group",
                                   "--comment", "Client Care grading sandbox slot", name],
                                  lambda: _user_exists(name))
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            raise SandboxUnavailable(f"could not create the sandbox user {name}: "
                                     f"{result.stderr.strip() or result.returncode}") from None
    return entry.pw_uid, entry.pw_gid


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _group_exists(name: str) -> bool:
    import grp

    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def slot_users(prefix: str = SLOT_USER_PREFIX) -> list[str]:
    """Names of the existing sandbox slot users with ``prefix`` followed by a number."""
    import pwd

    return sorted(e.pw_name for e in pwd.getpwall()
                  if e.pw_name.startswith(prefix) and e.pw_name[len(prefix):].isdigit())


def runtime_base(runtime_root: str = "") -> str:
    """The folder of slot locks and per-kernel socket folders (made if missing; see ``runtime_root``)."""
    if runtime_root:
        base = runtime_root
    elif _running_as_root():
        base = "/run/clientcare-sandbox"
    else:
        from jupyter_core.paths import jupyter_runtime_dir

        base = os.path.join(jupyter_runtime_dir(), "clientcare-sandbox")
    base = os.path.realpath(base)
    if base == "/tmp" or base.startswith(("/tmp/", SANDBOX_HOME, KERNEL_PACKAGE_ROOT)):
        raise SandboxUnavailable(f"runtime_root {base} would be hidden inside the sandbox; choose another")
    os.makedirs(base, mode=0o711, exist_ok=True)
    return base


def remove_slot_users(prefix: str = SLOT_USER_PREFIX, names: list[str] | None = None,
                      runtime_root: str = "") -> list[str]:
    """Delete slot users with ``prefix`` (all, or those in ``names``) and their groups; returns those deleted.

    A user in use (its slot's lock held by a kernel of this process or any other)
    is kept: each user is deleted while holding its slot's lock, so no kernel
    can be starting as it meanwhile. Needs root.
    """
    import fcntl
    import subprocess

    base = runtime_base(runtime_root)
    removed = []
    for name in slot_users(prefix):
        if names is not None and name not in names:
            continue
        fd = os.open(os.path.join(base, f"{name}.lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue  # in use
        try:
            _account_command(["userdel", name], lambda: not _user_exists(name))
            if not _user_exists(name):
                removed.append(name)
            _account_command(["groupdel", name], lambda: not _group_exists(name))
        finally:
            os.close(fd)
    return removed


def processes_of(uid: int) -> list[int]:
    """Process ids (on this machine) whose real user is ``uid``."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/status") as status:
                    for line in status:
                        if line.startswith("Uid:"):
                            if int(line.split()[1]) == uid:
                                found.append(int(entry.name))
                            break
            except OSError:
                continue  # it ended meanwhile
    return found


# /proc read-only for learner code, which may read its own entries but not set its session's CPU priority back
# (``lowest_priority``); in the bubblewrap that runs it (the inner one as root: the outer one writes the inner's
# user namespace maps through its /proc).
READ_ONLY_PROC = ["--remount-ro", "/proc"]


def lowest_priority(pids) -> None:
    """Give every thread of the processes ``pids`` the lowest CPU priority (nice 19; on Linux, nice is per thread),
    and their autogroups too.

    A sandbox's processes cannot raise it again (``RLIMIT_NICE`` 0, set by ``sandbox_command``); what they start inherits it.
    Where the kernel groups processes by session (``/proc/sys/kernel/sched_autogroup_enabled``, on by default in
    Debian's kernel), a thread's nice counts only against the threads of its own session, and every sandbox is a
    session of its own (``--new-session``): the scheduler shares the CPU between sessions, so a busy sandbox at
    nice 19 still took a whole session's share. So each sandbox session's autogroup is set to nice 19 as well
    (never the grader's own); learner code cannot set it back, ``/proc`` being read-only in the sandbox.
    """
    own_group = _autogroup(os.getpid())
    lowered = set()
    for pid in pids:
        try:
            threads = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for thread in threads:
            try:
                os.setpriority(os.PRIO_PROCESS, int(thread), 19)
            except OSError:
                pass  # it ended meanwhile
        group = _autogroup(pid)
        if group is not None and group != own_group and group not in lowered:
            try:
                Path(f"/proc/{pid}/autogroup").write_text("19")
                lowered.add(group)
            except OSError:
                pass  # it ended meanwhile, or the kernel has no autogroups


def _cpu_seconds_each(pids) -> dict[int, float]:
    """pid -> the CPU seconds it has used, with those of its children that ended and were waited for."""
    from .warm import _stat

    used, tick = {}, os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            used[pid] = sum(int(value) for value in _stat(pid)[11:15]) / tick  # utime, stime, cutime, cstime
        except (OSError, IndexError, ValueError):
            pass  # it ended meanwhile
    return used


def _autogroup(pid) -> str | None:
    """The scheduler's autogroup of process ``pid`` ("/autogroup-N"), or None where there is none to read."""
    try:
        return Path(f"/proc/{pid}/autogroup").read_text().split()[0]
    except (OSError, IndexError):
        return None


def _memfd(name: str, text: str) -> int:
    fd = os.memfd_create(name, 0)
    os.write(fd, text.encode())
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _scratch_files(folder: str, max_files: int, max_bytes: int, log) -> tuple[list[str], list[tuple[str, int]]]:
    """The sub-folders and regular files (relative path, open fd) to copy from ``folder`` into the sandbox.

    Only regular files and folders, never following a link (``O_NOFOLLOW``, the
    type checked on the open file), at most ``max_files`` files and
    ``max_bytes`` in all; anything else is left out and logged.
    """
    import stat

    folders, files, total = [], [], 0
    stack = [""]
    while stack:
        relative = stack.pop()
        try:
            entries = sorted(os.scandir(os.path.join(folder, relative)), key=lambda e: e.name)
        except OSError as error:
            log.warning("[clientcare] sandbox: folder %r left out: %s", relative, error)
            continue
        for entry in entries:
            path = os.path.join(relative, entry.name)
            try:
                fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
            except OSError:
                log.warning("[clientcare] sandbox: %r left out: not a regular file or folder", path)
                continue
            info = os.fstat(fd)
            if stat.S_ISDIR(info.st_mode) and path.count(os.sep) < 8:
                os.close(fd)
                folders.append(path)
                stack.append(path)
            elif stat.S_ISREG(info.st_mode) and len(files) < max_files and total + info.st_size <= max_bytes:
                total += info.st_size
                files.append((path, fd))
            else:
                os.close(fd)
                log.warning("[clientcare] sandbox: %r left out (not a regular file, or over the caps)", path)
    return folders, files


class _Sandboxed(LoggingConfigurable):
    """What both sandbox kernel managers add to jupyter_client's (see the module's docstring).

    The kernel's working folder is a copy of the ``cwd`` it is started with; the
    ``env`` passed to ``start_kernel`` is ignored (the kernel gets
    ``environment``), except ``CLIENTCARE_PROTECTED_PATHS`` for the in-kernel
    protections (see ``sandbox_command``). Shutting down always kills, whatever ``now`` says.
    Interrupts go over the control channel (``interrupt_request``), not as
    signals to bubblewrap.
    """

    bwrap = Unicode("bwrap", help="The bubblewrap program (Debian package bubblewrap)").tag(config=True)
    disk_mb = Integer(256, help="Size of the sandbox's private tmpfs, holding its working folder and /tmp: "
                                "all the disk learner code can fill").tag(config=True)
    shm_mb = Integer(16, help="Size of the sandbox's /dev/shm (multiprocessing's semaphores)").tag(config=True)
    memory_mb = Integer(DEFAULT_MEMORY_MB, help="Address space of each process in the sandbox (MB)").tag(config=True)
    file_mb = Integer(DEFAULT_FILE_MB, help="Largest file a process in the sandbox may write (MB)").tag(config=True)
    max_processes = Integer(64, help="Processes and threads the sandbox user may run (RLIMIT_NPROC); "
                                     "the kernel itself uses about a dozen threads").tag(config=True)
    cpu_seconds = Integer(600, help="CPU seconds per process in the sandbox (RLIMIT_CPU, a backstop: the notebook "
                                    "budget stops busy cells)").tag(config=True)
    max_open_files = Integer(256, help="Open files per process in the sandbox (RLIMIT_NOFILE)").tag(config=True)
    max_scratch_files = Integer(500, help="Files copied from the scratch folder into the sandbox").tag(config=True)
    user_prefix = Unicode(SLOT_USER_PREFIX, help="Prefix of the per-slot Unix users (run as root): "
                                                 "<prefix>0, <prefix>1, ...").tag(config=True)
    slots = Integer(64, help="Most sandboxed kernels running at once with this user_prefix (one slot user each)"
                    ).tag(config=True)
    runtime_root = Unicode("", help="Folder for slot locks and per-kernel socket folders (default: "
                                    "/run/clientcare-sandbox as root, else Jupyter's runtime folder)"
                           ).tag(config=True)
    environment = Dict(DEFAULT_ENVIRONMENT, help="The kernel's whole environment (an allowlist: "
                                                 "nothing of the grader's is passed)").tag(config=True)
    kill_timeout = Float(5.0, help="Seconds to wait, after the kill, for the sandbox's processes to be gone"
                         ).tag(config=True)
    defence_in_depth = Bool(True, help="Also install the in-kernel protections (audit hooks, guard) "
                                       "inside the boundary").tag(config=True)
    warm = Bool(False, help="Warm kernels (run as root; see warm.py): each slot's sandbox is started once and "
                            "forks a fresh kernel per submission from a process that has already imported "
                            "ipykernel, pandas and numpy; after each submission every process of the slot is "
                            "killed and its files removed, and anything unexpected replaces the sandbox. "
                            "False: a new sandbox and kernel for every submission").tag(config=True)
    warm_timeout = Float(60.0, help="Seconds a warm sandbox may take to start, and to fork or clean up"
                         ).tag(config=True)
    low_priority_after = Float(3.0, help="Seconds of CPU the kernel's processes may use on one request (a cell, "
                                         "or the calls of a test) before every process of the sandbox gets the "
                                         "lowest CPU priority (nice 19) "
                                         "for the rest of its submission, so that a notebook keeping the CPU busy "
                                         "yields it to those graded beside it; its time budget, wall-clock time, is "
                                         "unchanged. 0: never").tag(config=True)

    _slot = None  # (index, lock fd, uid, gid)
    _runtime = None  # this kernel's socket folder
    _warm_box = None  # the warm sandbox (warm.WarmSandbox) serving this kernel, which holds the slot
    _told_cold = False  # the warning that warm kernels need root was given
    sandbox_seconds = 0.0  # of the last start, seconds spent starting a new warm sandbox (the grader's own set-up)
    _request = None  # (the grader's request being measured, pid -> CPU seconds at the first look, pid -> most seen)
    _lowered = False  # this kernel's processes were given the lowest priority (for the rest of the submission)
    _looked_at = 0.0  # when this kernel's processes were last measured (or lowered)

    # ------------------------------------------------------------ set-up

    def _runtime_base(self) -> str:
        return runtime_base(self.runtime_root)

    def _acquire_slot(self, base: str) -> None:
        import fcntl

        if self._slot is not None:
            return
        for index in range(self.slots):
            lock = os.path.join(base, f"{self.user_prefix}{index}.lock")  # held while the slot's user runs a kernel
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            if _running_as_root():
                try:
                    uid, gid = ensure_slot_user(f"{self.user_prefix}{index}")
                except BaseException:
                    os.close(fd)
                    raise
            else:
                uid, gid = os.getuid(), os.getgid()
            self._slot = (index, fd, uid, gid)
            return
        raise SandboxUnavailable(f"all {self.slots} sandbox slots are in use")

    def _release_slot(self) -> None:
        if self._warm_box is not None:  # the warm sandbox holds the slot, not this kernel
            self._slot = None
            return
        if self._slot is not None:
            os.close(self._slot[1])  # closing the file releases its lock
            self._slot = None

    async def _async_pre_start_kernel(self, **kw):
        if not shutil.which(self.bwrap):
            raise SandboxUnavailable("bubblewrap (bwrap) is not installed: run `make install` or "
                                     "`apt-get install bubblewrap`; learner code is never run without it")
        self._request, self._lowered = None, False
        base = self._runtime_base()
        if self.warm and _running_as_root():
            from . import warm

            protected = (kw.get("env") or {}).get(PROTECTED_ENV, "")
            started = time.monotonic()
            self._warm_box = warm.take(self, protected, self.warm_timeout)
            self.sandbox_seconds = time.monotonic() - started if self._warm_box.served == 0 else 0.0
            self._slot = self._warm_box.template._slot
            base = self._warm_box.runtime
        else:
            if self.warm and not _Sandboxed._told_cold:
                _Sandboxed._told_cold = True  # once per grading process, not once per learner
                self.log.warning("[clientcare] sandbox: warm kernels need root (slot users); grading with cold "
                                 "kernels, a new sandbox for each submission")
            self._acquire_slot(base)
        _, _, uid, gid = self._slot
        self._runtime = tempfile.mkdtemp(prefix="kernel-", dir=base)
        os.chown(self._runtime, uid, gid)
        self.transport, self.cache_ports = "ipc", False
        self.ip = os.path.join(self._runtime, "ipc")
        self.connection_file = os.path.join(self._runtime, "connection.json")
        self.shell_port = self.iopub_port = self.stdin_port = self.hb_port = self.control_port = 0
        return await super()._async_pre_start_kernel(**kw)

    def _filesystem(self, workdir: str | None, source: str | None, fds: list[int]) -> list[str]:
        """bwrap arguments for the sandbox's file system; opened files are appended to ``fds``."""
        made = set()

        def folders_to(path: str) -> list[str]:
            args, parent = [], os.path.dirname(path)
            chain = []
            while parent not in ("/", "") and parent not in made:
                chain.append(parent)
                parent = os.path.dirname(parent)
            for folder in reversed(chain):
                if not folder.startswith("/usr/"):
                    args += ["--perms", "0755", "--dir", folder]
                made.add(folder)
            return args

        args = []
        for top in TOP_LEVEL:
            if os.path.islink(top):
                args += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                args += ["--ro-bind", top, top]
        args += ["--ro-bind", "/usr", "/usr", "--perms", "0755", "--dir", "/etc", "--perms", "0755", "--dir", "/home"]
        made.update(("/usr", "/etc", "/home"))
        for path in ETC_FILES:
            args += ["--ro-bind-try", path, path]
        _, _, uid, gid = self._slot
        for name, text in (("passwd", f"learner:x:{uid}:{gid}:learner:{SANDBOX_HOME}:/usr/sbin/nologin\n"),
                           ("group", f"learner:x:{gid}:\n")):
            fds.append(_memfd(name, text))
            args += ["--perms", "0444", "--ro-bind-data", str(fds[-1]), f"/etc/{name}"]
        args += ["--proc", "/proc", "--dev", "/dev",
                 "--perms", "01777", "--size", str(self.shm_mb * MB), "--tmpfs", "/dev/shm"]
        # Python, its installation and the virtualenv, read-only (each only if outside /usr)
        roots = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix), sys.prefix,
                 os.path.dirname(os.path.realpath(sys.executable))}
        roots = {r for r in roots if not any(r.startswith(o.rstrip("/") + "/") for o in roots | {"/usr"})}
        # With the environment under /tmp (a checkout there), /tmp is a private tmpfs of its own, mounted
        # first so that the environment is bound read-only inside it; the disk cap is then split in
        # half between it and the home, so the total stays the same.
        tmp_holds_environment = any(r.startswith("/tmp/") for r in roots)
        disk = self.disk_mb * MB // (2 if tmp_holds_environment else 1)
        if tmp_holds_environment:
            args += ["--perms", "01777", "--size", str(disk), "--tmpfs", "/tmp"]
            made.add("/tmp")
        for root in sorted(roots):
            if root != "/usr" and os.path.isdir(root):
                args += folders_to(root + "/") + ["--ro-bind", root, root]
                made.add(root)
        package = os.path.join(KERNEL_PACKAGE_ROOT, KERNEL_PACKAGE)
        fds.append(_memfd("init", '"""Client Care\'s in-kernel protections, inside the sandbox."""\n'))
        args += folders_to(package + "/") + ["--perms", "0755", "--dir", package,
                                             "--perms", "0444", "--ro-bind-data", str(fds[-1]), f"{package}/__init__.py"]
        here = os.path.dirname(os.path.abspath(__file__))
        for module in KERNEL_MODULES:
            args += ["--ro-bind", os.path.join(here, module), f"{package}/{module}"]
        from .preprocessors._kernel import KERNEL_SIDE  # (a warm sandbox's zygote compiles it once for its kernels)

        fds.append(_memfd("helper", KERNEL_SIDE))
        args += ["--perms", "0444", "--ro-bind-data", str(fds[-1]), f"{package}/{HELPER_SOURCE}"]
        # the private, size-capped tmpfs: home, working folder and /tmp
        args += ["--perms", "0777", "--size", str(disk), "--tmpfs", SANDBOX_HOME]
        if not tmp_holds_environment:
            args += ["--perms", "01777", "--dir", f"{SANDBOX_HOME}/.tmp", "--symlink", f"{SANDBOX_HOME}/.tmp", "/tmp"]
        if workdir:  # (a warm sandbox's kernels make their own)
            args += ["--perms", "0777", "--dir", workdir]
        if source:
            folders, files = _scratch_files(source, self.max_scratch_files, self.disk_mb * MB // 2, self.log)
            for folder in folders:
                args += ["--perms", "0777", "--dir", f"{workdir}/{folder}"]
            for path, fd in files:
                fds.append(fd)
                args += ["--perms", "0666", "--file", str(fd), f"{workdir}/{path}"]
        args += folders_to(self._runtime + "/") + ["--bind", self._runtime, self._runtime]
        return args

    def sandbox_command(self, source: str | None, fds: list[int], protected: str = "",
                        zygote_fd: int | None = None) -> list[str]:
        """The whole command line: bubblewrap, limits, the slot user, isolated Python running ipykernel.

        With ``zygote_fd`` (warm kernels), the same sandbox runs a warm sandbox's zygote instead of a
        kernel, serving requests on that descriptor (``warm.zygote_main``), and POSIX message queues
        are refused (they would outlive the processes of one submission in the sandbox's IPC namespace).

        ``protected``: the grader's protected paths (``CLIENTCARE_PROTECTED_PATHS``), passed on only to the
        in-kernel protections, which read it and remove it before any learner code runs. None of those
        paths is in the sandbox; the audit hooks only name an attempt on one as "not allowed".
        """
        _, _, uid, gid = self._slot
        name = os.path.basename(os.path.normpath(source)) if source else ""
        workdir = f"{SANDBOX_HOME}/{name if name and name.isprintable() and not name.startswith('.') else 'work'}"
        start_in = workdir if zygote_fd is None else SANDBOX_HOME
        bwrap = os.path.realpath(shutil.which(self.bwrap))
        root = _running_as_root()
        args = [bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                "--hostname", "sandbox", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
        if root:  # kept only to become the slot user (setpriv below), then dropped
            args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        else:
            args += ["--unshare-user", "--disable-userns"]
        args += self._filesystem(workdir if zygote_fd is None else None, source, fds)
        if not root:
            args += READ_ONLY_PROC  # once the sandbox's /proc is mounted
        args += ["--chdir", start_in, "--clearenv"]
        for key, value in sorted(self.environment.items()):
            args += ["--setenv", key, str(value)]
        if protected and self.defence_in_depth:
            args += ["--setenv", PROTECTED_ENV, protected]
        nproc = self.max_processes if root else self.max_processes + len(processes_of(os.getuid()))
        args += ["--", "/usr/bin/prlimit", f"--nproc={nproc}", f"--as={self.memory_mb * MB}",
                 f"--fsize={self.file_mb * MB}", f"--nofile={self.max_open_files}", f"--cpu={self.cpu_seconds}",
                 "--core=0", "--nice=0", *(["--msgqueue=0"] if zygote_fd is not None else []), "--"]
        if root:  # the slot user, no groups, no capabilities; a nested user namespace only to forbid more
            args += ["/usr/bin/setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups",
                     "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs",
                     bwrap, "--unshare-user", "--disable-userns", "--dev-bind", "/", "/",
                     "--die-with-parent", "--new-session", "--cap-drop", "ALL", *READ_ONLY_PROC,
                     "--chdir", start_in, "--"]
        site_packages = [p for p in __import__("site").getsitepackages() if os.path.isdir(p)]
        bootstrap = (f"import sys; sys.path += {site_packages + [KERNEL_PACKAGE_ROOT]!r}; "
                     f"from {KERNEL_PACKAGE}.sandbox import kernel_main; "
                     f"kernel_main(defence_in_depth={bool(self.defence_in_depth)})")
        if zygote_fd is not None:
            bootstrap = (f"import sys; sys.path += {site_packages + [KERNEL_PACKAGE_ROOT]!r}; "
                         f"from {KERNEL_PACKAGE}.warm import zygote_main; "
                         f"zygote_main({int(zygote_fd)}, {SANDBOX_HOME!r}, {bool(self.defence_in_depth)})")
            return args + [sys.executable, "-I", "-S", "-c", bootstrap]
        return args + [sys.executable, "-I", "-S", "-c", bootstrap, "-f", self.connection_file, *KERNEL_ARGUMENTS]

    def helper_boot(self, comm_id: str, digest: str) -> str | None:
        """For a kernel forked by a warm sandbox: a cell installing the helper its zygote compiled (``LearnerKernel``
        asks once, before any learner code runs; if the zygote's helper is not the grader's, it sends the source)."""
        if self._warm_box is None:
            return None
        return (f"__import__('sys').modules['{KERNEL_PACKAGE}.warm'].install_helper(get_ipython(), {comm_id!r}, "
                f"{digest!r})")

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        source = kw.pop("cwd", None)
        protected = (kw.get("env") or {}).get(PROTECTED_ENV, "")
        _, _, uid, gid = self._slot
        os.chown(self.connection_file, uid, gid)
        if self._warm_box is not None:
            name = os.path.basename(os.path.normpath(source)) if source else ""
            workdir = f"{SANDBOX_HOME}/{name if name and name.isprintable() and not name.startswith('.') else 'work'}"
            try:
                process = self._warm_box.fork(source, workdir, self.connection_file, self.warm_timeout)
            except BaseException:  # a sandbox that could not fork is never reused
                from . import warm

                box, self._warm_box, self._slot = self._warm_box, None, None
                warm.discard(box, "it could not fork a kernel")
                raise
            provisioner = self.provisioner
            provisioner.process, provisioner.pid, provisioner.pgid = process, process.pid, None
            provisioner.cwd = workdir
            self._reconcile_connection_info(provisioner.connection_info)
            return
        fds: list[int] = []
        try:
            command = self.sandbox_command(source, fds, protected)
            kw.update(cwd="/", env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"},
                      pass_fds=tuple(fds))
            await super()._async_launch_kernel(command, **kw)
        finally:
            for fd in fds:
                os.close(fd)

    # ------------------------------------------------------------ a busy kernel yields

    def still_busy(self, seconds: float, request: str) -> None:
        """The grader's word that the kernel's current request (``request``) has been running for ``seconds``.

        Once the kernel's processes have used ``low_priority_after`` seconds of CPU on this request (counted
        from the grader's first look, a quarter of a second in, with what their ended children used; measured
        once a second, since finding them reads every process's status; a process keeps counting with the most
        it was seen to use after it ends, so ending never hides CPU; a child waited for may then count twice,
        which only lowers sooner), every process of this kernel gets the lowest CPU priority, and at every look
        after that, in this request and the later ones of the submission, any process it has started since
        (``lowest_priority``). CPU, not the time the request has taken: a cell that waits, or that the machine's
        load slows down, is not kept busy, and lowering it would only starve it of the CPU it needs before its
        time limit. The processes: as root, every process of the slot user (but a warm sandbox's zygote and
        bubblewrap above it, whose children start at the usual priority); otherwise the kernel's process and
        everything below it.
        """
        if not self.low_priority_after or not self.has_kernel or seconds < 0.2:
            return
        now = time.monotonic()
        same = self._request is not None and self._request[0] == request
        if same and now - self._looked_at < 1.0:
            return
        self._looked_at = now
        pids = self._kernel_processes()
        used = _cpu_seconds_each(pids)
        if not same:
            self._request = (request, used, dict(used))
        else:
            for pid, cpu in used.items():
                self._request[2][pid] = max(cpu, self._request[2].get(pid, 0.0))
        start, most = self._request[1], self._request[2]
        if self._lowered or sum(cpu - start.get(pid, 0.0) for pid, cpu in most.items()) >= self.low_priority_after:
            self._lowered = True  # for the rest of the submission
            lowest_priority(pids)

    def _kernel_processes(self) -> set[int]:
        from .warm import descendants, slot_processes

        if self._warm_box is not None:
            return set(slot_processes(self._warm_box.uid)) - self._warm_box.keep
        if self._slot is not None and _running_as_root():
            return set(processes_of(self._slot[2]))
        return set(descendants(self.provisioner.pid))

    # ------------------------------------------------------------ interrupt and shutdown

    async def _async_interrupt_kernel(self) -> None:
        """Ask the kernel to interrupt itself (a signal to bubblewrap would end the sandbox)."""
        if self.has_kernel:
            self._connect_control_socket()
            self.session.send(self._control_socket, self.session.msg("interrupt_request", content={}))


    async def _async_shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
        """Kill the sandbox, always: its pid namespace ends and every process in it with it.

        As root, also waits (up to ``kill_timeout``) until the slot user has no
        process left, so the next kernel in this slot starts with none.
        """
        slot = self._slot
        box, self._warm_box = self._warm_box, None
        if box is not None:
            from . import warm

            try:
                await super()._async_shutdown_kernel(now=True, restart=restart)
            finally:
                self._slot = None
                warm.give_back(box, self.warm_timeout)
            return
        try:
            await super()._async_shutdown_kernel(now=True, restart=restart)
            if slot is not None and _running_as_root():
                deadline = time.monotonic() + self.kill_timeout
                while processes_of(slot[2]) and time.monotonic() < deadline:
                    await asyncio.sleep(0.02)
                left = processes_of(slot[2])
                if left:
                    self.log.warning("[clientcare] sandbox: %d processes of %s still running after the kill",
                                     len(left), f"{self.user_prefix}{slot[0]}")
        finally:
            if not restart:
                self._release_slot()


    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        if self._warm_box is not None:  # taken, but its kernel never ran or was never shut down
            from . import warm

            box, self._warm_box, self._slot = self._warm_box, None, None
            warm.give_back(box, self.warm_timeout)
        try:
            await super()._async_cleanup_resources(restart=restart)
        finally:
            if self._runtime:
                shutil.rmtree(self._runtime, ignore_errors=True)
                self._runtime = None

    def __del__(self):
        self._release_slot()


class SandboxKernelManager(_Sandboxed, KernelManager):
    """A ``jupyter_client.KernelManager`` (blocking API) whose kernel runs behind bubblewrap."""

    shutdown_kernel = run_sync(_Sandboxed._async_shutdown_kernel)
    interrupt_kernel = run_sync(_Sandboxed._async_interrupt_kernel)
    cleanup_resources = run_sync(_Sandboxed._async_cleanup_resources)


class AsyncSandboxKernelManager(_Sandboxed, AsyncKernelManager):
    """The same for asyncio callers: nbclient, and so nbgrader's ``c.Execute.kernel_manager_class``."""

    shutdown_kernel = _Sandboxed._async_shutdown_kernel
    interrupt_kernel = _Sandboxed._async_interrupt_kernel
    cleanup_resources = _Sandboxed._async_cleanup_resources


# ---------------------------------------------------------------- the kernel


def install_protections() -> None:
    """Every in-kernel protection above, in order (defence in depth; nothing depends on it)."""
    protected = [p for p in os.environ.get(PROTECTED_ENV, "").split(os.pathsep) if p.strip()]
    limit_resources()
    scrub_environment()
    guard.install()  # the test guard (guard.py): imports pandas and numpy, then watches every cell
    block_self_termination()
    block_native_code()
    block_new_processes()
    protect_paths(protected)


def kernel_main(defence_in_depth: bool = True) -> None:
    """Inside the OS boundary: optionally the in-kernel protections, then ipykernel (``sys.argv`` as for it)."""
    if defence_in_depth:
        install_protections()
    from ipykernel.kernelapp import launch_new_instance

    launch_new_instance()


def main() -> None:
    """Sandbox this process, then run ipykernel in it (arguments as ``ipykernel_launcher``)."""
    kernel_main(defence_in_depth=True)


if __name__ == "__main__":
    main()
