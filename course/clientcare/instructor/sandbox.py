"""The sandboxed grading kernel: ``python -m clientcare.instructor.sandbox -f CONNECTION_FILE``.

nbgrader runs learners' notebooks in this kernel (``c.Execute.kernel_name =
"clientcare-grader"``; ``install_kernelspec`` installs it). Before IPython
starts, ``main`` sets up the following; each step is one function below.

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

What is NOT protected
---------------------
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

For a hard boundary, run the grader as a user (or in a container) that has no
access to the course folders and no network.
"""
from __future__ import annotations

import json
import os
import resource
import signal
import sys
import threading
from pathlib import Path

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


# ---------------------------------------------------------------- the kernel


def main() -> None:
    """Sandbox this process, then run ipykernel in it (arguments as ``ipykernel_launcher``)."""
    protected = [p for p in os.environ.get(PROTECTED_ENV, "").split(os.pathsep) if p.strip()]
    limit_resources()
    scrub_environment()
    guard.install()  # the test guard (guard.py): imports pandas and numpy, then watches every cell
    block_self_termination()
    block_native_code()
    block_new_processes()
    protect_paths(protected)
    from ipykernel.kernelapp import launch_new_instance

    launch_new_instance()


if __name__ == "__main__":
    main()
