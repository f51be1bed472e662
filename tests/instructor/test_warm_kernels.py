"""Warm kernels (``SandboxKernelManager.warm``, ``warm.py``), attacked from inside the sandbox.

A warm sandbox serves learner after learner from one zygote, so every test here is
an attempt by one learner's code to outlive its submission, to leave something for
the next learner, or to tamper with the zygote; each asserts what an instructor
cares about: the next learner's kernel is a fresh process in an empty sandbox with
the configured limits, and whatever the zygote cannot vouch for is replaced.

As in ``test_sandbox_boundary.py``, the in-kernel protections are off
(``defence_in_depth=False``): what holds is the boundary and the warm sandbox's
clean-up alone. Hostile code is sent only to a kernel that was first checked to be
behind the boundary (``assert_sandboxed``). Slot users have the prefix
``clientcare-sbxwarm`` and are removed at the end. Needs bubblewrap and root.
"""
from __future__ import annotations

import json
import logging
import os
import resource
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from clientcare.instructor import sandbox, warm
from clientcare.instructor.preprocessors import JudgedExecute
from clientcare.instructor.sandbox import SANDBOX_HOME, SandboxKernelManager
from instructor.preprocessors.tiny import cell, notebook, scores

REPO = Path(__file__).resolve().parents[2]
PREFIX = "clientcare-sbxwarm"
MB = 1024 * 1024

pytestmark = [
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed"),
    pytest.mark.skipif(os.geteuid() != 0, reason="warm kernels run only as root (slot users)"),
]


class Warm(SandboxKernelManager):
    user_prefix = sandbox.Unicode(PREFIX)
    defence_in_depth = sandbox.Bool(False)
    warm = sandbox.Bool(True)


class Cold(Warm):
    warm = sandbox.Bool(False)


class Kernel:
    """A sandboxed kernel (warm unless ``manager`` says otherwise): ``run(code)`` collects its output."""

    def __init__(self, cwd: Path, manager=Warm):
        self.manager = manager()
        self.manager.start_kernel(cwd=str(cwd))
        self.box = self.manager._warm_box
        self.pid = self.manager.provisioner.pid
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    def run(self, code: str, timeout: float = 30) -> dict:
        result = {"stdout": "", "error": None}

        def collect(message):
            if message["msg_type"] == "stream":
                result["stdout"] += message["content"]["text"]
            elif message["msg_type"] == "error":
                result["error"] = f"{message['content']['ename']}: {message['content']['evalue']}"

        # stop_on_error=False, as the grader sends every cell (ipykernel aborts a request that reaches it
        # before it has finished the abort it starts after an error)
        self.client.execute_interactive(textwrap.dedent(code), output_hook=collect, timeout=timeout,
                                        stop_on_error=False)
        return result

    def value(self, expression: str):
        out = self.run(f"import json as _j\nprint(_j.dumps({expression}))")
        assert out["error"] is None, out
        return json.loads(out["stdout"].strip().splitlines()[-1])

    def shutdown(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
        self.manager.cleanup_resources()


@pytest.fixture(autouse=True)
def fresh_pool():
    """Each test starts without a warm sandbox and leaves none running."""
    warm.close_all()
    yield
    warm.close_all()


@pytest.fixture(scope="module", autouse=True)
def slot_users():
    yield
    warm.close_all()
    sandbox.remove_slot_users(PREFIX)
    assert sandbox.slot_users(PREFIX) == []


@pytest.fixture
def work(tmp_path) -> Path:
    folder = tmp_path / "fee-proposals"
    folder.mkdir()
    (folder / "rates.csv").write_text("grade,rate\npartner,250\n")
    return folder


def assert_sandboxed(kernel: Kernel) -> None:
    """SAFETY: hostile code goes only to a kernel behind the boundary (it sees no course, only its sandbox's
    few processes, and runs as the slot user in a warm sandbox)."""
    assert kernel.box is not None and kernel.box.uid != 0
    assert kernel.value(f"__import__('os').path.exists({str(REPO / 'source')!r})") is False
    assert kernel.value("len([p for p in __import__('os').listdir('/proc') if p.isdigit()])") <= 6
    assert kernel.value("__import__('socket').gethostname()") == "sandbox"
    assert kernel.value("__import__('os').getuid()") == kernel.box.uid


# what /tmp holds in a sandbox no learner has used: nothing, or (a checkout under /tmp) the read-only way to
# its virtualenv, which bubblewrap makes
FRESH_TMP = "sorted(__import__('os').listdir('/tmp'))"


def strays(box) -> set[int]:
    """Live processes of the warm sandbox's slot user other than the zygote and bubblewrap above it."""
    return {pid for pid, state in warm.slot_processes(box.uid).items() if pid not in box.keep and state != "Z"}


# ---------------------------------------------------------------- fresh kernels from one sandbox


def test_each_learner_gets_a_fresh_process_from_the_same_warm_sandbox(work):
    first = Kernel(work)
    assert_sandboxed(first)
    first.run("import os, numpy, random\nsecret = 'learner one'\nos.environ['LEAK'] = '1'\nos.chdir('/tmp')\n"
              "import pandas\npandas.LEAK = 1\npandas.set_option('display.max_rows', 3)\n"
              "__builtins__.LEAK = 1\nnumbers = [numpy.random.rand(), random.random()]")
    numbers = first.value("numbers")
    box, pid = first.box, first.pid
    first.shutdown()
    assert strays(box) == set()

    second = Kernel(work)
    assert second.box is box and second.pid != pid and box.served == 2  # no new sandbox was started
    assert second.value("'secret' in globals() or 'LEAK' in __import__('os').environ") is False
    assert second.value("__import__('os').getcwd()") == f"{SANDBOX_HOME}/fee-proposals"
    assert second.value("hasattr(__import__('pandas'), 'LEAK') or hasattr(__import__('builtins'), 'LEAK')") is False
    assert second.value("__import__('pandas').get_option('display.max_rows')") == 60
    # random generators are seeded per kernel, not inherited from the zygote
    assert second.value("[__import__('numpy').random.rand(), __import__('random').random()]") != numbers
    # its descriptors are its own: the zygote's command socket never reaches a kernel
    command = {os.readlink(f"/proc/{box.zygote}/fd/{fd}") for fd in os.listdir(f"/proc/{box.zygote}/fd")} - {
        "/dev/null"}
    assert command and not command & {os.readlink(f"/proc/{second.pid}/fd/{fd}")
                                      for fd in os.listdir(f"/proc/{second.pid}/fd")}
    environment = second.value("sorted(__import__('os').environ)")
    second.shutdown()
    cold = Kernel(work, manager=Cold)
    assert cold.value("sorted(__import__('os').environ)") == environment  # the same allowlist as a cold kernel
    cold.shutdown()


def test_the_course_grades_with_warm_kernels_and_the_class_is_cold_unless_configured():
    """The course's configuration (``clientcare grade`` and stock ``nbgrader autograde`` both read it) turns
    warm kernels on; a ``SandboxKernelManager`` configured by nobody starts cold ones."""
    from clientcare.instructor.config import course_config

    assert SandboxKernelManager().warm is False
    assert SandboxKernelManager(config=course_config(REPO)).warm is True


def test_grades_are_those_of_a_cold_kernel(tmp_path):
    def graded(manager):
        nb = notebook(
            cell("setup", "import pandas as pd\nrates = pd.DataFrame({'rate': [250, 150]})"),
            cell("answer", "def total(hours):\n    print('working')\n    return float((rates.rate * hours).sum())",
                 "total"),
            cell("test", "assert total(2) == 800.0", "t-total", points=2),
            cell("answer", "def broken(x):\n    return x / 0", "broken"),
            cell("test", "assert broken(1) == 1", "t-broken"),
            cell("extra", "import os\nprint(len(os.listdir('.')))"),
        )
        (tmp_path / "work").mkdir(exist_ok=True)
        JudgedExecute(kernel_manager_class=manager, kernel_name="python3", timeout=20, notebook_budget=60,
                      trusted_directory=str(tmp_path / "none")).preprocess(
            nb, {"nbgrader": {"assignment": "a"}, "metadata": {"path": str(tmp_path / "work")}})
        return scores(nb), [[dict(o) for o in c.get("outputs", [])] for c in nb.cells]

    probe = Kernel(tmp_path)
    assert_sandboxed(probe)  # SAFETY: the sandbox JudgedExecute uses below is this one
    probe.shutdown()
    warm_grades = graded(Warm)
    assert warm_grades[0] == {"t-total": 2, "t-broken": 0}
    assert warm_grades == graded(Cold)


def test_a_forked_kernel_installs_the_helper_its_zygote_compiled_unless_it_is_another_version(tmp_path, monkeypatch):
    """A warm kernel's first installation of the grader's helper runs the code its zygote compiled (a short cell,
    not 40 KB of source to transform and compile); a zygote holding another version of the helper is not used
    for it, and the kernel is sent the source, as a cold kernel always is."""
    from clientcare.instructor.preprocessors import _kernel

    sent = []
    real = _kernel.LearnerKernel.execute

    def recorded(self, code, *args, **kwargs):
        sent.append(code)
        return real(self, code, *args, **kwargs)

    probe = Kernel(tmp_path)
    assert_sandboxed(probe)  # SAFETY: the sandbox the kernels below get is this one
    probe.shutdown()
    monkeypatch.setattr(_kernel.LearnerKernel, "execute", recorded)

    def boots(manager) -> tuple[list[int], object]:
        sent.clear()
        kernel = _kernel.LearnerKernel(manager, "python3", str(tmp_path), {}, [], 60, 2, 10**6, 10**8, 2**26,
                                       logging.getLogger("test"))
        kernel.start()
        _, answer = kernel.ask("setup_done", None, time.monotonic() + 20)
        kernel.shutdown()
        return [len(code) for code in sent], answer

    sizes, answer = boots(Warm)
    assert answer == {"status": "ok"} and len(sizes) == 1 and sizes[0] < 300, sizes
    sizes, answer = boots(Cold)
    assert answer == {"status": "ok"} and len(sizes) == 1 and sizes[0] > 30_000, sizes
    monkeypatch.setattr(_kernel, "KERNEL_SIDE_DIGEST", "0" * 64)  # the grader's helper is not the zygote's
    sizes, answer = boots(Warm)
    assert answer == {"status": "ok"} and len(sizes) == 2 and sizes[0] < 300 < 30_000 < sizes[1], sizes


# ---------------------------------------------------------------- what one learner leaves for the next

DAEMON = """
import os, signal, time
for number in range(1, 32):
    try:
        signal.signal(number, signal.SIG_IGN)
    except (OSError, ValueError):
        pass
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        while True:
            try:
                open('/tmp/heartbeat', 'a').write('x')
                open(os.path.expanduser('~/heartbeat'), 'a').write('x')
                if os.fork() == 0:  # a moving target: new processes while it is being killed
                    time.sleep(0.05)
                    os._exit(0)
            except OSError:
                pass
            time.sleep(0.01)
    os._exit(0)
time.sleep(0.3)
print(len([p for p in os.listdir('/proc') if p.isdigit()]))
"""


def test_a_daemon_that_ignores_signals_and_keeps_forking_does_not_outlive_its_learner(work):
    first = Kernel(work)
    assert_sandboxed(first)
    fresh_tmp = first.value(FRESH_TMP)
    assert int(first.run(DAEMON)["stdout"].split()[-1]) >= 5  # the daemon is running beside the kernel
    box = first.box
    first.shutdown()
    assert strays(box) == set()
    second = Kernel(work)
    assert second.box is box
    time.sleep(0.3)
    assert second.value(FRESH_TMP) == fresh_tmp
    assert second.value("__import__('os').path.exists(__import__('os').path.expanduser('~/heartbeat'))") is False
    # bubblewrap's two processes, the zygote and this kernel: nothing else in the sandbox
    assert second.value("len([p for p in __import__('os').listdir('/proc') if p.isdigit()])") == 4
    second.shutdown()


LITTER = """
import os
open('/tmp/answers.txt', 'w').write('learner one')
os.makedirs('/tmp/a/b')
open('/tmp/a/b/c', 'w').write('x')
os.makedirs('/tmp/locked/inner')
open('/tmp/locked/inner/f', 'w').write('x')
os.chmod('/tmp/locked/inner', 0)
os.chmod('/tmp/locked', 0)
deep = '/tmp/deep'
for _ in range(300):
    deep += '/d'
os.makedirs(deep)
os.mkfifo('/tmp/fifo')
os.symlink('/etc/passwd', '/tmp/link')
open(os.path.expanduser('~/.bashrc'), 'w').write('x')
os.makedirs(os.path.expanduser('~/.ipython/profile_default/startup'), exist_ok=True)
open(os.path.expanduser('~/.ipython/profile_default/startup/00.py'), 'w').write('LEFT = 1')
open('/dev/shm/sem.left', 'w').write('x')
open('left-behind.txt', 'w').write('x')
open('rates.csv', 'w').write('changed')
"""


def test_files_left_in_the_home_tmp_and_shared_memory_are_gone_for_the_next_learner(work):
    first = Kernel(work)
    assert_sandboxed(first)
    fresh_tmp = first.value(FRESH_TMP)
    fresh_home = first.value(f"sorted(__import__('os').listdir({SANDBOX_HOME!r}))")
    assert first.run(LITTER)["error"] is None
    box = first.box
    first.shutdown()
    second = Kernel(work)
    assert second.box is box
    assert second.value(FRESH_TMP) == fresh_tmp
    assert second.value("sorted(__import__('os').listdir('/dev/shm'))") == []
    # (IPython makes its ~/.ipython again as every kernel does; nothing of the first learner's is in it)
    assert fresh_home == ([".ipython", ".tmp", "fee-proposals"] if fresh_tmp == [] else [".ipython", "fee-proposals"])
    assert second.value(f"sorted(__import__('os').listdir({SANDBOX_HOME!r}))") == fresh_home
    assert second.value("__import__('os').path.exists(__import__('os').path.expanduser("
                        "'~/.ipython/profile_default/startup/00.py'))") is False
    assert second.value("sorted(__import__('os').listdir('.'))") == ["rates.csv"]
    assert second.value("open('rates.csv').read()") == "grade,rate\npartner,250\n"
    assert second.value("'LEFT' in globals()") is False
    second.shutdown()


IPC = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
segment = libc.shmget(0x5EC2E7, 4096, 0o1000 | 0o600)  # IPC_CREAT
queue = libc.msgget(0x5EC2E8, 0o1000 | 0o600)
librt = ctypes.CDLL('librt.so.1', use_errno=True)
mq = librt.mq_open(b'/left', os.O_CREAT | os.O_RDWR, 0o600, None)
print(segment >= 0, queue >= 0, mq)
"""


def test_ipc_objects_do_not_outlive_their_learner(work):
    first = Kernel(work)
    assert_sandboxed(first)
    created = first.run(IPC)["stdout"].split()
    assert created == ["True", "True", "-1"]  # System V objects can be made; POSIX message queues cannot
    box = first.box
    first.shutdown()
    second = Kernel(work)
    assert second.box is box
    assert second.value("[__import__('ctypes').CDLL(None).shmget(0x5EC2E7, 0, 0), "
                        "__import__('ctypes').CDLL(None).msgget(0x5EC2E8, 0)]") == [-1, -1]
    assert second.value("[len(open('/proc/sysvipc/' + k).read().splitlines()) for k in ('shm', 'msg', 'sem')]") == [
        1, 1, 1]
    second.shutdown()


# ---------------------------------------------------------------- attacks on the zygote


ZYGOTE_ATTACKS = {
    "kill the zygote": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)",
    "stop the zygote": "import os, signal\nos.kill(os.getppid(), signal.SIGSTOP)",
    "signal the zygote": "import os, signal\nos.kill(os.getppid(), signal.SIGUSR1)",
    "kill -9 -1 in the sandbox": "import os, signal\nos.kill(-1, signal.SIGKILL)",
    "lower the zygote's memory limit": ("import os, resource\n"
                                        "resource.prlimit(os.getppid(), resource.RLIMIT_AS, (400 << 20, 400 << 20))"),
    "lower the zygote's CPU limit": "import os, resource\nresource.prlimit(os.getppid(), resource.RLIMIT_CPU, (1, 1))",
}


@pytest.mark.parametrize("attack", list(ZYGOTE_ATTACKS), ids=list(ZYGOTE_ATTACKS))
def test_a_tampered_zygote_is_replaced_and_the_next_learner_is_served_as_configured(work, attack):
    first = Kernel(work)
    assert_sandboxed(first)
    box, zygote = first.box, first.box.zygote
    try:
        first.run(ZYGOTE_ATTACKS[attack], timeout=10)
    except Exception:  # the kernel may die with the sandbox ("kill -9 -1")
        pass
    first.shutdown()
    assert not os.path.exists(f"/proc/{zygote}") or warm._status(zygote).get("State", "Z")[:1] == "Z"
    assert warm.slot_processes(box.uid) == {} or strays(box) == set()
    second = Kernel(work)
    assert second.box is not box  # a new sandbox, with a zygote nobody touched
    limits = second.value("[list(__import__('resource').getrlimit(getattr(__import__('resource'), n))) "
                          "for n in ('RLIMIT_AS', 'RLIMIT_CPU')]")
    manager = second.manager
    assert limits == [[manager.memory_mb * MB] * 2, [manager.cpu_seconds] * 2]
    assert second.value("sum(range(10))") == 45
    second.shutdown()


SPY = """
import ctypes, json, os
zygote = os.getppid()
found = {}
for name in ('mem', 'environ', 'maps', 'fd'):
    try:
        (os.listdir if name == 'fd' else lambda p: open(p, 'rb').read(1))(f'/proc/{zygote}/{name}')
        found[name] = 'read'
    except OSError as error:
        found[name] = error.errno
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
found['ptrace'] = [libc.ptrace(16, zygote, None, None), ctypes.get_errno()]  # PTRACE_ATTACH
class iovec(ctypes.Structure):
    _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]
buffer = ctypes.create_string_buffer(64)
here, there = iovec(ctypes.addressof(buffer), 64), iovec(ctypes.addressof(buffer), 64)
found['process_vm_readv'] = [libc.process_vm_readv(zygote, ctypes.byref(here), 1, ctypes.byref(there), 1, 0),
                             ctypes.get_errno()]
pidfd = libc.syscall(434, zygote, 0)  # pidfd_open
found['pidfd_getfd'] = sorted({libc.syscall(438, pidfd, fd, 0) for fd in range(0, 32)})
print(json.dumps(found))
"""


def test_the_zygote_cannot_be_traced_or_read_by_learner_code(work):
    kernel = Kernel(work)
    assert_sandboxed(kernel)
    found = json.loads(kernel.run(SPY)["stdout"].strip().splitlines()[-1])
    # PermissionError for its memory, environment, map and descriptors; EPERM for ptrace and its relatives
    assert found == {"mem": 13, "environ": 13, "maps": 13, "fd": 13, "ptrace": [-1, 1],
                     "process_vm_readv": [-1, 1], "pidfd_getfd": [-1]}
    box = kernel.box
    kernel.shutdown()
    assert Kernel(work).box is box  # nothing the zygote needed to worry about: the sandbox serves on


WRITE_MODULES = """
import json, os, sys, pandas
site = os.path.dirname(os.path.dirname(pandas.__file__))
targets = ['/opt/clientcare/clientcare_kernel/warm.py', '/opt/clientcare/clientcare_kernel/sandbox.py',
           '/opt/clientcare/clientcare_kernel/evil.py', pandas.__file__, os.path.join(site, 'evil.pth'),
           os.path.join(os.path.dirname(pandas.__file__), 'evil.py'), sys.executable]
found = {}
for target in targets:
    try:
        open(target, 'a').close()
        found[target] = 'written'
    except OSError as error:
        found[target] = error.errno
print(json.dumps(found))
"""


def test_the_modules_the_zygote_has_loaded_cannot_be_changed_on_disk(work):
    kernel = Kernel(work)
    assert_sandboxed(kernel)
    found = json.loads(kernel.run(WRITE_MODULES)["stdout"].strip().splitlines()[-1])
    assert found and set(found.values()) <= {30, 13}, found  # EROFS, EACCES
    kernel.shutdown()


def test_a_message_the_grader_did_not_ask_for_retires_the_sandbox(work):
    """Were learner code to reach the zygote's command socket, a forged reply would be the attack: the grader
    finds a message it did not ask for and replaces the sandbox rather than trust anything it says."""
    import ctypes
    import socket

    first = Kernel(work)
    box = first.box
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(box.zygote)
    command = next(int(fd) for fd in os.listdir(f"/proc/{box.zygote}/fd")
                   if os.readlink(f"/proc/{box.zygote}/fd/{fd}").startswith("socket:"))
    stolen = libc.syscall(438, pidfd, command, 0)  # pidfd_getfd, as root from outside the sandbox
    assert stolen >= 0
    forged = socket.socket(fileno=stolen)
    forged.send(json.dumps({"op": "clean", "nonce": "guessed", "problems": []}).encode())
    forged.close()
    os.close(pidfd)
    first.shutdown()
    assert not box.alive()
    second = Kernel(work)
    assert second.box is not box
    assert second.value("6 * 7") == 42
    second.shutdown()


# ---------------------------------------------------------------- a busy kernel yields the CPU

NICE = """
import json, os
def nice_of(pid):
    found = []
    for thread in os.listdir(f'/proc/{pid}/task'):
        with open(f'/proc/{pid}/task/{thread}/stat') as stat:
            found.append(int(stat.read().rsplit(')', 1)[1].split()[16]))
    return sorted(set(found))
"""
BEFORE_THE_BUSY_CELL = """
import threading, time
child = os.fork()
if child == 0:  # a process started before the busy cell
    while True:
        time.sleep(0.05)
waiting = threading.Event()
threading.Thread(target=waiting.wait, daemon=True).start()  # and a thread
print(json.dumps(nice_of(os.getpid())))
"""
# Up to 2.5 s of CPU, until it is lowered (once lowered on a loaded machine, a fixed amount more could take
# minutes); then 1.2 s more of the request, in which the grader lowers its processes once more (the first
# lowering goes process by process, and this one may have seen itself lowered before the others were)
SPIN = ("started = time.process_time()\n"
        "while time.process_time() - started < 2.5 and nice_of(os.getpid()) != [19]:\n    pass")
BUSY = SPIN + "\ntime.sleep(1.2)"
# 2.5 s of waiting, then the same spinning in a child process the kernel waits for
WAITS = "time.sleep(2.5)\nprint(json.dumps(nice_of(os.getpid())))"
CHILD_BUSY = f"""
burner = os.fork()
if burner == 0:
{textwrap.indent(SPIN, '    ')}
    os._exit(0)
os.waitpid(burner, 0)
time.sleep(1.2)
print(json.dumps(nice_of(os.getpid())))
"""
AFTER_THE_BUSY_CELL = """
try:
    os.setpriority(os.PRIO_PROCESS, 0, 0)
    raised = 'nothing'
except OSError as error:
    raised = type(error).__name__
def session_nice():  # the scheduler's autogroup of this session: "/autogroup-N nice 19"
    try:
        return int(open('/proc/self/autogroup').read().split()[-1])
    except OSError:
        return None
try:
    with open('/proc/self/autogroup', 'w') as group:
        group.write('0')
    raised_session = 'nothing'
except OSError as error:
    raised_session = error.strerror
later = os.fork()
if later == 0:
    time.sleep(30)
print(json.dumps({'kernel': nice_of(os.getpid()), 'child': nice_of(child), 'started later': nice_of(later),
                  'raising it again': raised, 'session': session_nice(), 'raising the session again': raised_session}))
"""


def assert_the_sandbox_of(tmp_path, manager) -> None:
    """SAFETY: a probe kernel of ``manager`` (warm or cold) must be sandboxed before a busy notebook runs in one."""
    probe = Kernel(tmp_path, manager=manager)
    if manager is Warm:
        assert_sandboxed(probe)
    else:
        seen, uid = probe.value(f"[__import__('os').path.exists({str(REPO / 'source')!r}), __import__('os').getuid()]")
        assert seen is False and uid != 0 and probe.value("__import__('socket').gethostname()") == "sandbox"
    probe.shutdown()


def graded_lowered_after_a_second(tmp_path, manager, *cells) -> tuple[dict, list]:
    """(scores, what each cell printed last, as JSON) of ``cells`` then a passing test, graded in ``manager``'s
    sandbox with ``low_priority_after`` 1 CPU-s; ``NICE`` and ``time`` are there for the cells."""
    class Quick(manager):
        low_priority_after = sandbox.Float(1.0)

    nb = notebook(cell("extra", NICE + "import time"), *cells,
                  cell("answer", "def double(x):\n    return 2 * x", "double"),
                  cell("test", "assert double(2) == 4", "t-double", points=2))
    (tmp_path / "work").mkdir(exist_ok=True)
    JudgedExecute(kernel_manager_class=Quick, kernel_name="python3", timeout=30, notebook_budget=60,
                  trusted_directory=str(tmp_path / "none")).preprocess(
        nb, {"nbgrader": {"assignment": "a"}, "metadata": {"path": str(tmp_path / "work")}})
    printed = [json.loads(c.outputs[-1]["text"].strip().splitlines()[-1]) for c in nb.cells
               if c.get("outputs") and c.outputs[-1].get("name") == "stdout"]
    return scores(nb), printed


@pytest.mark.parametrize("manager", [Warm, Cold], ids=["warm", "cold"])
def test_a_kernel_kept_busy_gets_the_lowest_cpu_priority_and_the_next_learner_the_usual_one(tmp_path, manager):
    """A notebook that keeps the CPU busy must not slow the classmates graded beside it: once one of its
    requests has run ``low_priority_after`` seconds, every process and thread of its sandbox runs at nice 19,
    which learner code cannot undo, and whatever it starts later inherits it. Its own grade is unchanged, and
    the next learner's kernel, forked by the same zygote, starts at the usual priority."""
    assert_the_sandbox_of(tmp_path, manager)  # SAFETY: the sandbox JudgedExecute uses below
    grades, (before, after) = graded_lowered_after_a_second(
        tmp_path, manager, cell("extra", BEFORE_THE_BUSY_CELL), cell("extra", BUSY), cell("extra", AFTER_THE_BUSY_CELL))
    assert grades == {"t-double": 2}
    assert before == [0]
    # where the scheduler groups by session (Debian's default), the sandbox's session is lowered too, for good
    autogroups = Path("/proc/self/autogroup").exists()
    assert after == {"kernel": [19], "child": [19], "started later": [19], "raising it again": "PermissionError",
                     "session": 19 if autogroups else None,
                     "raising the session again": "Read-only file system" if autogroups else "No such file or directory"}
    # the next learner (a quick notebook) is never lowered
    grades, printed = graded_lowered_after_a_second(tmp_path, manager,
                                                    cell("extra", "print(json.dumps(nice_of(os.getpid())))"))
    assert grades == {"t-double": 2} and printed == [[0]]


# pinned to the first CPU with a process of the test's own, kept busy past low_priority_after, then measured
SHARE_OF_THE_CPU = """
import json, os, time
os.sched_setaffinity(0, {0})
started = time.monotonic()
while time.monotonic() - started < 4:
    pass
wall, cpu = time.monotonic(), time.process_time()
while time.monotonic() - wall < 2:
    pass
print(json.dumps(round((time.process_time() - cpu) / (time.monotonic() - wall), 3)))
"""
COMPETITOR = "import os, time\nos.sched_setaffinity(0, {0})\nstarted = time.monotonic()\nwhile time.monotonic() - started < 60: pass"


@pytest.mark.parametrize("manager", [Warm, Cold], ids=["warm", "cold"])
def test_a_kernel_that_waits_keeps_its_priority_and_one_whose_child_is_busy_is_lowered(tmp_path, manager):
    """What lowers a kernel is the CPU its processes use, not how long a request takes: a cell that waits (or
    that a loaded machine slows down) keeps the usual priority, since lowering it would only starve it of the
    CPU it needs before its time limit (a 1 s cell that printed a flood lost its later parts that way on a busy
    CI machine); CPU used by a child process the kernel waited for counts."""
    assert_the_sandbox_of(tmp_path, manager)  # SAFETY: the sandbox JudgedExecute uses below
    grades, printed = graded_lowered_after_a_second(tmp_path, manager, cell("extra", WAITS), cell("extra", CHILD_BUSY))
    assert grades == {"t-double": 2}
    assert printed == [[0], [19]]

# ten children of 0.8 CPU-s each, one after another, reaped by the system (SIGCHLD ignored): no parent's CPU
# ever shows theirs, and none alone reaches the 1 s of the test's lowering
UNSEEN_CHILDREN = f"""
import signal
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
for _ in range(10):
    burner = os.fork()
    if burner == 0:
        started = time.process_time()
        while time.process_time() - started < 0.8 and nice_of(os.getpid()) != [19]:
            pass
        os._exit(0)
    while os.path.exists(f'/proc/{{burner}}'):
        time.sleep(0.01)
    if nice_of(os.getpid()) == [19]:
        break
time.sleep(1.2)
print(json.dumps(nice_of(os.getpid())))
"""


def test_cpu_of_processes_that_end_unseen_by_any_parent_still_lowers_the_kernel(tmp_path):
    """Ending must not hide CPU: short-lived children reaped by the system used to take theirs with them, so
    work split over them kept the CPU at the usual priority however long it went on (an adversarial review
    kept a kernel at nice 0 for 14 CPU-s that way)."""
    assert_the_sandbox_of(tmp_path, Warm)  # SAFETY: the sandbox JudgedExecute uses below
    grades, printed = graded_lowered_after_a_second(tmp_path, Warm, cell("extra", UNSEEN_CHILDREN))
    assert grades == {"t-double": 2}
    assert printed == [[19]]


@pytest.mark.parametrize("manager", [Warm, Cold], ids=["warm", "cold"])
def test_a_kernel_kept_busy_really_yields_the_cpu_to_a_process_beside_it(tmp_path, manager):
    """Nice values are not the promise; yielding is. A kernel kept busy on one CPU beside one busy process of the
    grader's own session must get only a sliver of that CPU once lowered. (With the scheduler's autogroups, on by
    default in Debian, a sandbox at nice 19 in a session of its own still took half: sessions share the CPU.)"""
    competitors = []

    class Quick(manager):
        low_priority_after = sandbox.Float(1.0)

        def start_kernel(self, **kw):
            # the competitor spins from when the kernel is up (not while it starts: it would only take the CPU
            # from the rest of the test run)
            super().start_kernel(**kw)
            competitors.append(subprocess.Popen([sys.executable, "-c", COMPETITOR]))

    assert_the_sandbox_of(tmp_path, manager)  # SAFETY: the sandbox JudgedExecute uses below
    nb = notebook(cell("extra", SHARE_OF_THE_CPU), cell("answer", "def double(x):\n    return 2 * x", "double"),
                  cell("test", "assert double(2) == 4", "t-double", points=2))
    (tmp_path / "work").mkdir()
    try:
        JudgedExecute(kernel_manager_class=Quick, kernel_name="python3", timeout=30, notebook_budget=60,
                      trusted_directory=str(tmp_path / "none")).preprocess(
            nb, {"nbgrader": {"assignment": "a"}, "metadata": {"path": str(tmp_path / "work")}})
    finally:
        for competitor in competitors:
            competitor.kill()
            competitor.wait()
    assert len(competitors) == 1  # one kernel: no replacement ran the measurement again
    share = json.loads(nb.cells[0].outputs[-1]["text"].strip().splitlines()[-1])
    assert scores(nb) == {"t-double": 2}
    assert share < 0.15, f"the lowered kernel still had {share:.0%} of the CPU it shared with the grader's process"
