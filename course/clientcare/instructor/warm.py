"""Warm kernels: one long-lived sandbox per grading slot that forks a fresh kernel per submission.

Why: a cold sandboxed kernel (``SandboxKernelManager`` with ``warm=False``) starts
bubblewrap, isolated Python, ipykernel and pandas for every learner; that start-up
and the shutdown are most of a submission's cost. With ``warm=True`` (run as root)
the same sandbox (the same command line: mounts, no network, pid namespace, slot
user, hard limits) is started once per slot and runs a *zygote* (``zygote_main``)
instead of a kernel. The zygote imports ipykernel, IPython, pandas and numpy, compiles
the grader's helper (the source every kernel is sent, mounted read-only beside this
module; each forked kernel's first installation runs that code, ``install_helper``), then
makes itself non-dumpable (``PR_SET_DUMPABLE`` 0: processes of the same uid cannot
ptrace it or read its ``/proc/<pid>/mem``, ``fd`` or ``environ``) and waits for
commands on a socket it inherited (never a socket in the file system).

Per submission (``WarmSandbox.fork``): the grader writes the kernel's connection
file as it always does, packs the scratch folder's regular files into a memfd and
sends "fork" with that memfd attached (``SCM_RIGHTS``). The zygote forks without
reading it; only the child reads the files, so the zygote never holds any
learner's data or code and every kernel is a fresh process that never saw another
learner's. The child closes the command socket and every other descriptor, starts
a new session, restores default signal handling and dumpability, reseeds numpy,
writes the files into a new working folder, installs the in-kernel protections
(defence in depth, as a cold kernel does) and runs ipykernel on the connection
file. The kernel manager drives it through a process handle (``KernelProcess``:
host pid, pidfd), so ``JudgedExecute`` and nbclient see an ordinary kernel.

After the submission (``WarmSandbox.clean``), every process of the slot user but
the zygote and its own ancestors is SIGKILLed, round after round until none is left
(learner code may fork while it is killed; the process cap bounds it); the zygote
reaps its child, empties the home folder, ``/tmp`` and ``/dev/shm``, removes every
System V IPC object and checks its own resource limits; the grader checks that no
process of the slot is left, that the zygote is running, has no pending signal and
has its limits unchanged, that no message is waiting on the socket, and empties
the kernel's socket folder. Anything unexpected (the zygote killed, stopped,
signalled, its limits lowered, a leftover it could not remove, a reply it did not
expect) discards the whole sandbox: it is killed and the next submission starts a
new one. POSIX message queues, which would outlive processes in the sandbox's IPC
namespace and cannot be listed from inside, are refused outright (``RLIMIT_MSGQUEUE`` 0).

What warm kernels share, by design, and what a learner could still do: see the
``Warm kernels`` section of ``sandbox.py``'s docstring.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import struct
import sys
import time

READY, FORK, CLEAN, PING = "ready", "fork", "clean", "ping"
RLIMITS = ("RLIMIT_AS", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_CPU", "RLIMIT_CORE",
           "RLIMIT_MSGQUEUE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_MEMLOCK")
# What a cold kernel imports before the first cell (ipykernel's debugger brings debugpy, half the start-up;
# tornado's asyncio loop; psutil, which jupyter_client uses to list the network interfaces), what the in-kernel
# protections and the grader's helper use (the guard snapshots numpy.testing and pandas.testing), and what the
# course's notebooks import.
PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.debugger", "IPython",
           "IPython.core.completerlib", "IPython.core.debugger", "IPython.core.oinspect",
           "IPython.extensions.storemagic", "jupyter_client.session", "tornado", "tornado.platform.asyncio",
           "psutil", "faulthandler", "pdb", "pydoc", "pandas", "pandas.testing", "numpy", "numpy.testing", "zmq",
           "json", "base64", "decimal", "datetime", "hashlib", "hmac", "math", "re", "collections", "copy", "ctypes",
           "sqlite3", "unicodedata")
PR_SET_DUMPABLE = 4
MAX_MESSAGE = 1 << 16


# ---------------------------------------------------------------- inside the sandbox: the zygote


def _prctl_dumpable(value: int) -> None:
    import ctypes

    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE) failed")


def _limits() -> dict:
    import resource

    return {name: list(resource.getrlimit(getattr(resource, name))) for name in RLIMITS if hasattr(resource, name)}


def _send(sock: socket.socket, message: dict) -> None:
    sock.sendall(json.dumps(message).encode())


def zygote_main(fd: int, home: str, defence_in_depth: bool) -> None:
    """The warm sandbox's first process: preload, become non-dumpable, then serve fork and clean requests."""
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGPIPE):
        signal.signal(number, signal.SIG_DFL)  # any signal kills or stops the zygote: never a half-done request
    sock = socket.socket(fileno=fd)
    for module in PRELOAD:
        __import__(module)
    from . import sandbox  # (the in-kernel protections, installed in each child)

    _compile_helper(os.path.join(os.path.dirname(os.path.abspath(__file__)), sandbox.HELPER_SOURCE))

    limits = _limits()
    layout = _layout(home)
    os.chdir("/")
    _prctl_dumpable(0)
    _send(sock, {"op": READY, "pid": os.getpid(), "threads": len(os.listdir("/proc/self/task")), "limits": limits})
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(sock, MAX_MESSAGE, 4)
        except OSError:
            os._exit(3)
        if not data:
            os._exit(0)  # the grader closed its end
        try:
            request = json.loads(data)
            op, nonce = request["op"], request["nonce"]
        except (ValueError, KeyError, TypeError):
            os._exit(4)  # not the grader's
        if op == FORK:
            if _limits() != limits or len(fds) != 1:
                _send(sock, {"op": op, "nonce": nonce, "error": "the zygote's limits changed"})
                os._exit(5)
            pid = os.fork()
            if pid == 0:
                _child(request, fds[0], sock, defence_in_depth)  # never returns
            os.close(fds[0])
            _send(sock, {"op": op, "nonce": nonce, "pid": pid})
        elif op == CLEAN:
            for fd in fds:
                os.close(fd)
            problems = _clean(home, limits, layout)
            _send(sock, {"op": op, "nonce": nonce, "problems": problems})
        else:
            _send(sock, {"op": op, "nonce": nonce, "pid": os.getpid()})


_helper: tuple = ()  # (sha-256 of the grader's helper source, its code), compiled by the zygote


def _compile_helper(path: str) -> None:
    """Compile the grader's helper once, before forking: each kernel's first installation runs that code."""
    global _helper
    import hashlib

    with open(path, encoding="utf-8") as file:
        source = file.read()
    _helper = (hashlib.sha256(source.encode("utf-8")).hexdigest(), compile(source, "<clientcare boundary>", "exec"))


def install_helper(shell, comm_id: str, digest: str) -> None:
    """In a forked kernel, before any learner code: install the helper from the code the zygote compiled."""
    import types

    if not _helper or _helper[0] != digest:
        raise RuntimeError("the helper compiled before the fork is not the one the grader sends")
    module = types.ModuleType("_clientcare_boundary")
    exec(_helper[1], module.__dict__)
    module.install(shell, comm_id)


def _child(request: dict, files_fd: int, sock: socket.socket, defence_in_depth: bool) -> None:
    """In the forked child: a clean process for one learner's kernel (see the module docstring). Never returns."""
    code = 1
    try:
        sock.detach()
        os.closerange(3, files_fd)
        os.closerange(files_fd + 1, 1 << 16)
        os.setsid()
        for number in range(1, signal.NSIG):
            try:
                signal.signal(number, signal.SIG_DFL)
            except (OSError, ValueError, RuntimeError):
                pass
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # as Python sets them at start-up
        _prctl_dumpable(1)  # as a cold kernel: its own processes may inspect it
        import numpy

        numpy.random.seed()  # the legacy global generator was seeded once, in the zygote
        workdir = request["workdir"]
        _write_files(files_fd, workdir)
        os.chdir(workdir)
        sys.argv = ["ipykernel", "-f", request["connection_file"], *request["arguments"]]
        from .sandbox import kernel_main

        kernel_main(defence_in_depth=defence_in_depth)
        code = 0
    except BaseException:  # noqa: B036  (whatever happens, the child never returns into the zygote's loop)
        code = 1
    finally:
        os._exit(code)


def _write_files(fd: int, workdir: str) -> None:
    """Write the scratch copy the grader packed (``pack_files``) into ``workdir``."""
    (length,) = struct.unpack("<Q", os.pread(fd, 8, 0))
    index = json.loads(os.pread(fd, length, 8))
    offset = 8 + length
    mask = os.umask(0)
    try:
        os.mkdir(workdir, 0o777)
        for folder in index["folders"]:
            os.mkdir(os.path.join(workdir, folder), 0o777)
        for path, size in index["files"]:
            out = os.open(os.path.join(workdir, path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            try:
                done = 0
                while done < size:
                    sent = os.sendfile(out, fd, offset + done, size - done)
                    if sent == 0:
                        raise OSError("the packed files ended early")
                    done += sent
            finally:
                os.close(out)
            offset += size
    finally:
        os.umask(mask)
        os.close(fd)


def _run(*argv: str) -> None:
    import subprocess

    subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False, close_fds=True)


def _writable_places(home: str) -> list[str]:
    return [home, "/dev/shm"] + ([] if os.path.islink("/tmp") else ["/tmp"])


def _layout(home: str) -> frozenset[str]:
    """What the writable places hold before any learner code ran, other than the home's ``.tmp``: the
    folders bubblewrap made on the way to what it bound read-only (a checkout under /tmp puts the way to
    its virtualenv there). Every clean keeps them; none may be writable by the slot user."""
    places = _writable_places(home)
    return frozenset(os.path.join(top, entry) for top in places if os.path.isdir(top) for entry in os.listdir(top)
                     if os.path.join(top, entry) != os.path.join(home, ".tmp"))


def _clean(home: str, limits: dict, layout: frozenset[str] = frozenset()) -> list[str]:
    """After the grader killed every other process of the slot: reap, empty the writable places, check."""
    problems = []
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            problems.append("a child of the zygote is still running")
            break
    keep = {os.path.join(home, ".tmp")} if os.path.islink("/tmp") else set()
    tops = _writable_places(home)
    for path in sorted(layout):
        if os.access(path, os.W_OK, follow_symlinks=False):
            problems.append(f"{path}, made by bubblewrap, is writable by learner code")
    for top in tops + [p for p in keep if os.path.isdir(p)]:
        try:
            entries = [os.path.join(top, e) for e in os.listdir(top)]
        except OSError as error:
            problems.append(f"{top} could not be listed: {error}")
            continue
        doomed = [e for e in entries if e not in keep and e not in layout]
        if doomed:
            _run("/usr/bin/chmod", "-R", "u+rwX", "--", *doomed)  # learner code may have made folders unreadable
            _run("/usr/bin/rm", "-rf", "--one-file-system", "--", *doomed)
    for top in tops + [p for p in keep if os.path.isdir(p)]:
        left = sorted(set(os.listdir(top)) - {os.path.basename(p) for p in keep | layout if os.path.dirname(p) == top})
        if left:
            problems.append(f"{top} still holds {left[:5]}")
    if any(os.path.isdir(p) is False for p in keep):
        problems.append("the sandbox's /tmp folder is gone")
    _run("/usr/bin/ipcrm", "--all")
    for kind in ("shm", "sem", "msg"):
        try:
            with open(f"/proc/sysvipc/{kind}") as table:
                if len(table.read().strip().splitlines()) > 1:
                    problems.append(f"System V {kind} objects are left")
        except OSError:
            pass
    if _limits() != limits:
        problems.append("the zygote's resource limits were changed")
    return problems


# ---------------------------------------------------------------- the grader's side


def pack_files(folder: str | None, max_files: int, max_bytes: int, log) -> int:
    """A memfd holding the regular files of ``folder`` (see ``sandbox._scratch_files``) for the child to write."""
    from .sandbox import _scratch_files

    folders, files = _scratch_files(folder, max_files, max_bytes, log) if folder else ([], [])
    try:
        sizes = [(path, os.fstat(fd).st_size) for path, fd in files]
        index = json.dumps({"folders": folders, "files": sizes}).encode()
        out = os.memfd_create("scratch", os.MFD_CLOEXEC)
        os.write(out, struct.pack("<Q", len(index)) + index)
        for (path, fd), (_, size) in zip(files, sizes):
            done = 0
            while done < size:
                sent = os.sendfile(out, fd, done, size - done)
                if sent == 0:  # the file shrank meanwhile: pad, so the index stays right
                    os.write(out, b"\0" * (size - done))
                    break
                done += sent
        return out
    finally:
        for _, fd in files:
            os.close(fd)


def _status(pid: int) -> dict:
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def _stat(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command's name (the state first): one short line to read."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()


def _start_time(pid: int) -> int | None:
    try:
        return int(_stat(pid)[19])
    except (OSError, IndexError, ValueError):
        return None


def slot_processes(uid: int) -> dict[int, str]:
    """Processes (host pid -> state letter) whose real user is ``uid``, zombies included."""
    found = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                fields = _status(int(entry.name))
            except OSError:
                continue
            if int(fields.get("Uid", "-1 0").split()[0]) == uid:
                found[int(entry.name)] = fields.get("State", "?")[:1]
    return found


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (by parent pid, as /proc shows them now)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                parent = int(_stat(int(entry.name))[1])
            except (OSError, IndexError, ValueError):
                continue  # it ended meanwhile
            children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        found.append(queue.pop())
        queue += children.get(found[-1], [])
    return found


def host_pid(uid: int, ns_pid: int, parent: int | None = None) -> int:
    """The host pid of the slot's process whose pid in the sandbox is ``ns_pid`` (child of ``parent``)."""
    for pid in slot_processes(uid):
        try:
            fields = _status(pid)
        except OSError:
            continue
        if fields.get("NSpid", "").split()[-1:] == [str(ns_pid)] and (
                parent is None or fields.get("PPid") == str(parent)):
            return pid
    raise LookupError(f"no process of uid {uid} is pid {ns_pid} in its sandbox")


class KernelProcess:
    """A ``subprocess.Popen``-like handle on a forked kernel (by host pid and pidfd), for jupyter_client."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode = None
        self._pidfd = os.pidfd_open(pid)
        self._killed = False

    def poll(self):
        if self.returncode is None:
            import select

            readable, _, _ = select.select([self._pidfd], [], [], 0)
            try:
                state = _stat(self.pid)[0]
            except (OSError, IndexError):
                state = "X"
            if readable or state in ("Z", "X"):
                self.returncode = -signal.SIGKILL if self._killed else 1
                os.close(self._pidfd)
                self._pidfd = None
        return self.returncode

    def wait(self, timeout: float | None = None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                import subprocess

                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.01)
        return self.returncode

    def send_signal(self, number: int) -> None:
        if self.poll() is None:
            signal.pidfd_send_signal(self._pidfd, number)
            if number == signal.SIGKILL:  # wait (briefly) until it is gone: a kill is done in milliseconds
                import select

                self._killed = True
                select.select([self._pidfd], [], [], 1.0)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.kill()  # a learner's kernel is never asked politely

    def close(self) -> None:
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None


class WarmSandbox:
    """One slot's long-lived sandbox and its zygote (grader side); see the module docstring.

    ``template`` is a sandbox kernel manager configured as the kernels this sandbox
    serves (its traits decide the command line); it holds the slot.
    """

    def __init__(self, template, protected: str):
        self.template, self.protected = template, protected
        self.process = self.sock = None
        self.uid = self.zygote = None
        self.keep: set[int] = set()
        self.limits: dict = {}
        self.runtime = ""
        self.served = 0
        self.log = template.log

    # -- life cycle

    def start(self, timeout: float) -> None:
        import subprocess
        import tempfile

        template = self.template
        base = template._runtime_base()
        template._acquire_slot(base)
        _, _, self.uid, gid = template._slot
        self.runtime = tempfile.mkdtemp(prefix="warm-", dir=base)
        os.chown(self.runtime, self.uid, gid)
        template._runtime = self.runtime
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        fds: list[int] = []
        try:
            command = template.sandbox_command(None, fds, self.protected, zygote_fd=theirs.fileno())
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                cwd="/", env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"},
                pass_fds=tuple(fds) + (theirs.fileno(),), start_new_session=True)
        finally:
            theirs.close()
            for fd in fds:
                os.close(fd)
        self.sock = ours
        try:
            ready = self._receive(READY, None, timeout)
            if ready["threads"] != 1:  # forking a process with other threads could copy a lock held mid-way
                from .sandbox import SandboxUnavailable

                raise SandboxUnavailable(f"the warm sandbox's zygote runs {ready['threads']} threads; it must run "
                                         "one to fork safely (set warm to False)")
            self.limits = ready["limits"]
            self.zygote = host_pid(self.uid, ready["pid"])
            self.keep = self._ancestors(self.zygote)
        except BaseException:
            self.close()
            raise

    def _ancestors(self, pid: int) -> set[int]:
        """The zygote and the sandbox's processes above it (bubblewrap's), up to the one the grader started."""
        chain = {pid}
        while pid not in (self.process.pid, 0, 1):
            pid = int(_status(pid)["PPid"])
            chain.add(pid)
        return chain

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None and all(
            os.path.exists(f"/proc/{pid}") for pid in self.keep)

    def close(self) -> None:
        """Kill the whole sandbox (its pid namespace ends with bubblewrap) and give the slot back."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except OSError:
                pass
            self.process.kill()
            self.process.wait()
            if self.uid is not None:
                deadline = time.monotonic() + self.template.kill_timeout
                while slot_processes(self.uid) and time.monotonic() < deadline:
                    self._kill_round(set())
                    time.sleep(0.01)
            self.process = None
        if self.runtime:
            import shutil

            shutil.rmtree(self.runtime, ignore_errors=True)
            self.runtime = ""
        self.template._runtime = None
        self.template._release_slot()

    # -- requests

    def _receive(self, op: str, nonce: str | None, timeout: float) -> dict:
        import select

        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                raise TimeoutError(f"the warm sandbox did not answer '{op}' in {timeout:g} s")
            data = self.sock.recv(MAX_MESSAGE)
            if not data:
                raise ConnectionError("the warm sandbox's zygote has gone")
            reply = json.loads(data)
            if reply.get("op") != op or reply.get("nonce") != nonce:
                raise ConnectionError(f"the warm sandbox answered something unexpected ({str(reply)[:100]})")
            return reply

    def _request(self, op: str, timeout: float, fds=(), **fields) -> dict:
        import select

        if select.select([self.sock], [], [], 0)[0]:
            raise ConnectionError("a message nobody asked for is waiting from the warm sandbox")
        nonce = os.urandom(16).hex()
        socket.send_fds(self.sock, [json.dumps({"op": op, "nonce": nonce, **fields}).encode()], list(fds))
        reply = self._receive(op, nonce, timeout)
        if reply.get("error"):
            raise ConnectionError(reply["error"])
        return reply

    def fork(self, source: str | None, workdir: str, connection_file: str, timeout: float) -> KernelProcess:
        """A fresh kernel for one submission, its files copied from ``source`` into ``workdir``."""
        template = self.template
        files = pack_files(source, template.max_scratch_files, template.disk_mb * 1024 * 1024 // 2, template.log)
        try:
            reply = self._request(FORK, timeout, fds=[files], workdir=workdir, connection_file=connection_file,
                                  arguments=list(_kernel_arguments()))
        finally:
            os.close(files)
        self.served += 1
        return KernelProcess(host_pid(self.uid, reply["pid"], parent=self.zygote))

    def _kill_round(self, keep: set[int]) -> int:
        """SIGKILL every live process of the slot user but ``keep``; how many were signalled."""
        signalled = 0
        for pid, state in slot_processes(self.uid).items():
            if pid not in keep and state not in ("Z", "X"):
                try:
                    os.kill(pid, signal.SIGKILL)
                    signalled += 1
                except OSError:
                    pass
        return signalled

    def clean(self, timeout: float) -> list[str]:
        """After a submission: kill what it left running, empty what it wrote, check the zygote (see above).

        Returns the problems found ([] when the sandbox can serve the next submission).
        """
        deadline = time.monotonic() + timeout
        while self._kill_round(self.keep) and time.monotonic() < deadline:
            pass  # learner code may fork while it is being killed: again until a round finds nothing
        problems = []
        if not self.alive():
            return ["the warm sandbox's zygote (or bubblewrap) was killed"]
        try:
            state = _status(self.zygote)
        except OSError:
            return ["the warm sandbox's zygote has gone"]
        if state.get("State", "")[:1] not in ("S", "R"):
            problems.append(f"the zygote is in state {state.get('State')}")
        if int(state.get("SigPnd", "0"), 16) or int(state.get("ShdPnd", "0"), 16):
            problems.append("a signal is pending for the zygote")
        if problems:
            return problems
        try:
            problems += self._request(CLEAN, max(0.5, deadline - time.monotonic()))["problems"]
        except (OSError, ValueError, TimeoutError) as error:
            return [f"the zygote did not clean up ({error})"]
        while time.monotonic() < deadline and set(slot_processes(self.uid)) - self.keep:
            self._kill_round(self.keep)
            time.sleep(0.005)
        left = set(slot_processes(self.uid)) - self.keep
        if left:
            problems.append(f"{len(left)} processes of the slot user are still there")
        if _proc_limits(self.zygote) != self.limits:
            problems.append("the zygote's resource limits were changed")
        import shutil

        for entry in os.scandir(self.runtime):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                try:
                    os.unlink(entry.path)
                except OSError:
                    pass
        if os.listdir(self.runtime):
            problems.append("the kernels' socket folder could not be emptied")
        return problems


def _kernel_arguments():
    from .sandbox import KERNEL_ARGUMENTS

    return KERNEL_ARGUMENTS


LIMIT_NAMES = {"Max cpu time": "RLIMIT_CPU", "Max file size": "RLIMIT_FSIZE", "Max data size": "RLIMIT_DATA",
               "Max stack size": "RLIMIT_STACK", "Max core file size": "RLIMIT_CORE",
               "Max processes": "RLIMIT_NPROC", "Max open files": "RLIMIT_NOFILE",
               "Max locked memory": "RLIMIT_MEMLOCK", "Max address space": "RLIMIT_AS",
               "Max msgqueue size": "RLIMIT_MSGQUEUE"}


def _proc_limits(pid: int) -> dict:
    """The limits of ``pid`` as ``_limits`` gives them, read by the grader from ``/proc/<pid>/limits``."""
    import resource

    found = {}
    with open(f"/proc/{pid}/limits") as table:
        for line in table.readlines()[1:]:
            for label, name in LIMIT_NAMES.items():
                if line.startswith(label):
                    soft, hard = line[len(label):].split()[:2]
                    found[name] = [resource.RLIM_INFINITY if v == "unlimited" else int(v) for v in (soft, hard)]
    return {name: value for name, value in found.items() if name in RLIMITS}


# ---------------------------------------------------------------- the pool (one per grading process)

_idle: dict[tuple, list[WarmSandbox]] = {}
_all: list[WarmSandbox] = []


def take(manager, protected: str, timeout: float) -> WarmSandbox:
    """An idle warm sandbox configured as ``manager`` is (started if there is none)."""
    key = _key(manager, protected)
    idle = _idle.setdefault(key, [])
    while idle:
        box = idle.pop()
        if box.alive():
            return box
        discard(box, "its zygote had died")
    template = type(manager)(parent=None, config=manager.config, **{
        name: getattr(manager, name) for name in _sandbox_traits(manager)})
    box = WarmSandbox(template, protected)
    box.key = key
    box.start(timeout)
    _all.append(box)
    return box


def give_back(box: WarmSandbox, timeout: float) -> list[str]:
    """Clean ``box`` after a submission and keep it for the next, or discard it; returns the problems found."""
    try:
        problems = box.clean(timeout)
    except Exception as error:  # anything unexpected while checking: never reuse
        problems = [f"{type(error).__name__}: {error}"]
    if problems:
        discard(box, "; ".join(problems))
    else:
        _idle.setdefault(box.key, []).append(box)
    return problems


def discard(box: WarmSandbox, why: str) -> None:
    box.log.info("[clientcare] warm sandbox replaced: %s", why)
    box.close()
    if box in _all:
        _all.remove(box)
    for idle in _idle.values():
        if box in idle:
            idle.remove(box)


def close_all() -> None:
    """Kill every warm sandbox of this process (at exit; tests and benchmarks call it to free the slots)."""
    for box in list(_all):
        discard(box, "closing")


def _sandbox_traits(manager) -> list[str]:
    from .sandbox import _Sandboxed

    return sorted(name for name in _Sandboxed.class_trait_names(config=True))


def _key(manager, protected: str) -> tuple:
    return (type(manager).__name__, protected,
            tuple((name, repr(getattr(manager, name))) for name in _sandbox_traits(manager)))


import atexit  # noqa: E402

atexit.register(close_all)
