"""The sandboxed grading kernel: ``python -m clientcare.instructor.kernel -f CONNECTION_FILE``.

nbgrader is configured (``nbgrader_config.py``) to run learners' notebooks in
this kernel. Before IPython starts it:

1. limits the kernel's memory (address space, ``CLIENTCARE_KERNEL_MEMORY_MB``,
   default 2048) and the size of any file it writes (``CLIENTCARE_KERNEL_FILE_MB``,
   default 50), so a memory bomb is a ``MemoryError`` in its own cell;
2. refuses to open, list, copy, move, delete or connect to anything under the
   paths in ``CLIENTCARE_PROTECTED_PATHS`` (the course's source, submissions,
   grades and gradebook), through an audit hook that Python code cannot remove;
3. removes grader-specific environment variables, so the kernel looks like a
   learner's own;
4. turns ``os._exit``, ``os.abort`` and signals aimed at itself, when called
   from the learner's code, into an error in that cell, so the kernel lives on
   to run the other cells;
5. installs the test guard (``guard.py``).

Not protected: code that escapes Python (native extensions, ``ctypes``), files
outside the protected paths, the network, and the machine's other resources
(CPU time is bounded by the grader's timeouts, not here).
"""
from __future__ import annotations

import json
import os
import resource
import signal
import sys
from pathlib import Path

from .guard import GradingSandboxError

KERNEL_NAME = "clientcare-grader"
PROTECTED_ENV = "CLIENTCARE_PROTECTED_PATHS"
GRADER_ENV_PREFIXES = ("CLIENTCARE_", "NBGRADER", "JUPYTERHUB_")
MB = 1024 * 1024

# audit event -> positions of its path arguments
PATH_EVENTS = {
    "open": (0,), "os.listdir": (0,), "os.scandir": (0,), "glob.glob": (0,), "os.remove": (0,),
    "os.rmdir": (0,), "os.rename": (0, 1), "os.link": (0, 1), "os.symlink": (0,), "os.truncate": (0,),
    "os.chmod": (0,), "os.chown": (0,), "os.utime": (0,), "shutil.copyfile": (0, 1), "shutil.copytree": (0, 1),
    "shutil.move": (0, 1), "shutil.rmtree": (0,), "sqlite3.connect": (0,), "os.chdir": (0,),
}


def install_kernelspec(prefix: str = sys.prefix) -> Path:
    """Install the ``clientcare-grader`` kernel spec into ``prefix`` (idempotent)."""
    folder = Path(prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "clientcare.instructor.kernel", "-f", "{connection_file}"],
        "display_name": "Client Care grader (sandboxed)",
        "language": "python",
        "metadata": {"debugger": False},
    }
    (folder / "kernel.json").write_text(json.dumps(spec, indent=2) + "\n")
    return folder


def limit_resources() -> None:
    memory = int(os.environ.get("CLIENTCARE_KERNEL_MEMORY_MB", "2048")) * MB
    files = int(os.environ.get("CLIENTCARE_KERNEL_FILE_MB", "50")) * MB
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (files, files))


def protect(paths: list[str]) -> None:
    """Refuse every file operation under ``paths`` from now on."""
    protected = [os.path.realpath(p) for p in paths if p]
    if not protected:
        return

    def inside(target) -> str:
        if isinstance(target, int) or target is None:
            return ""
        try:
            real = os.path.realpath(os.fsdecode(target))
        except (TypeError, ValueError):
            return ""
        return next((p for p in protected if real == p or real.startswith(p + os.sep)), "")

    def hook(event: str, args: tuple) -> None:
        for position in PATH_EVENTS.get(event, ()):
            if position < len(args) and inside(args[position]):
                raise PermissionError(f"{event} of {args[position]} is not allowed while grading")

    sys.addaudithook(hook)


def scrub_environment() -> None:
    for name in [n for n in os.environ if n.startswith(GRADER_ENV_PREFIXES)]:
        del os.environ[name]


def _from_learner() -> bool:
    """Whether the caller of the guarded function is the learner's own code (the notebook's namespace)."""
    return sys._getframe(2).f_globals.get("__name__") == "__main__"


def block_self_termination() -> None:
    real_exit, real_abort, real_kill, real_killpg = os._exit, os.abort, os.kill, os.killpg
    me = os.getpid()

    def _exit(status=0):
        if _from_learner():
            raise GradingSandboxError(f"os._exit({status}) is not allowed while grading")
        real_exit(status)

    def abort():
        if _from_learner():
            raise GradingSandboxError("os.abort() is not allowed while grading")
        real_abort()

    def kill(pid, sig):
        if pid in (me, 0) and _from_learner():
            raise GradingSandboxError(f"sending signal {sig} to the grading kernel is not allowed")
        real_kill(pid, sig)

    def killpg(group, sig):
        if group == os.getpgid(me) and _from_learner():
            raise GradingSandboxError(f"sending signal {sig} to the grading kernel is not allowed")
        real_killpg(group, sig)

    real_raise = signal.raise_signal

    def raise_signal(sig):
        if _from_learner():
            raise GradingSandboxError(f"raising signal {sig} in the grading kernel is not allowed")
        real_raise(sig)

    os._exit, os.abort, os.kill, os.killpg, signal.raise_signal = _exit, abort, kill, killpg, raise_signal


def main() -> None:
    paths = os.environ.get(PROTECTED_ENV, "").split(os.pathsep)
    limit_resources()
    scrub_environment()
    block_self_termination()
    from . import guard

    guard.install()  # imports pandas and numpy before the file guard, then watches the notebook
    protect(paths)
    from ipykernel.kernelapp import launch_new_instance

    launch_new_instance()


if __name__ == "__main__":
    main()
