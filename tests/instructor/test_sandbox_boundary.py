"""The OS boundary around learner code (``SandboxKernelManager``), tested by attacking it from real kernels.

Every kernel here runs with the in-kernel protections switched off
(``defence_in_depth=False``), so what holds is the boundary alone: bubblewrap's
namespaces and mounts, the slot user and the limits. Each test is an attack a
learner's code could make, and asserts what an instructor cares about: the
grader's files, environment and network stay out of reach, limits hold, and
nothing is left running or on disk afterwards.

Slot users made here have the prefix ``clientcare-sbxtest`` and are removed at
the end. Needs bubblewrap (``make install`` installs it).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import textwrap
import threading
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from clientcare.instructor import sandbox, warm
from clientcare.instructor.preprocessors import JudgedExecute
from clientcare.instructor.sandbox import AsyncSandboxKernelManager, SandboxKernelManager, SandboxUnavailable
from instructor.preprocessors.tiny import cell, notebook, scores

REPO = Path(__file__).resolve().parents[2]
TEST_PREFIX = "clientcare-sbxtest"
AS_ROOT = os.geteuid() == 0
SECRET = "postgresql://grader:s3cret-db-password@db/gradebook"

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")


class SlotsForTests(AsyncSandboxKernelManager):
    user_prefix = sandbox.Unicode(TEST_PREFIX)


class BoundaryOnly(SandboxKernelManager):
    """The boundary as grading uses it (through JudgedExecute), with the in-kernel protections off."""

    user_prefix = sandbox.Unicode(TEST_PREFIX)
    defence_in_depth = sandbox.Bool(False)


class RecordingBoundary(BoundaryOnly):
    """... that records the slot users its kernels ran as (class-wide)."""

    uids: list[int] = []

    async def _async_pre_start_kernel(self, **kw):
        started = await super()._async_pre_start_kernel(**kw)
        RecordingBoundary.uids.append(self._slot[2])  # (a warm kernel's slot is its sandbox's, taken earlier)
        return started


class Kernel:
    """A sandboxed kernel (the blocking manager, as the verdict side drives it): ``run(code)`` collects output."""

    def __init__(self, cwd: Path | None, **traits):
        self.manager = SandboxKernelManager(user_prefix=TEST_PREFIX, defence_in_depth=False, **traits)
        self.manager.start_kernel(cwd=str(cwd) if cwd else None)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    @property
    def uid(self) -> int:
        return self.manager._slot[2]

    def run(self, code: str, timeout: float = 30) -> dict:
        result = {"stdout": "", "stderr": "", "error": None}

        def collect(message):
            content = message["content"]
            if message["msg_type"] == "stream":
                result[content["name"]] += content["text"]
            elif message["msg_type"] == "error":
                result["error"] = f"{content['ename']}: {content['evalue']}"

        # stop_on_error=False, as the grader sends every cell: otherwise ipykernel aborts ("aborted", no output)
        # a request that reaches it before it has finished the abort it starts after an error
        self.client.execute_interactive(textwrap.dedent(code), output_hook=collect, timeout=timeout,
                                        stop_on_error=False)
        return result

    def value(self, expression: str):
        """A JSON-able value computed in the kernel."""
        out = self.run(f"import json as _j; print(_j.dumps({expression}))")
        assert out["error"] is None, out
        return json.loads(out["stdout"].strip().splitlines()[-1])

    def shutdown(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel()


@pytest.fixture(scope="module", autouse=True)
def slot_users():
    """Remove the test's slot users (and their groups) when the module is done."""
    yield
    warm.close_all()  # (when the suite is run with warm kernels: they hold their slots until closed)
    if AS_ROOT:
        sandbox.remove_slot_users(TEST_PREFIX)
        assert sandbox.slot_users(TEST_PREFIX) == []


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """A scratch folder as the grader prepares it, with the kinds of file learners ship."""
    folder = tmp_path_factory.mktemp("scratch") / "fee-proposals"
    (folder / "data").mkdir(parents=True)
    (folder / "rates.csv").write_text("grade,rate\npartner,250\n")
    (folder / "data" / "hours.csv").write_text("hours\n7\n")
    (folder / "pandas.py").write_text("raise SystemExit('a shipped module ran')\n")
    os.symlink(REPO / "source", folder / "source-link")
    os.symlink("/etc/shadow", folder / "shadow")
    os.mkfifo(folder / "pipe")
    return folder


@pytest.fixture(scope="module")
def kernel(scratch, monkeypatch_module):
    """One sandboxed kernel for the read-only checks, started with a grader's secrets in its environment."""
    monkeypatch_module.setenv("CLIENTCARE_DB_URL", SECRET)
    monkeypatch_module.setenv("NBGRADER_DB_PASSWORD", SECRET)
    started = Kernel(scratch)
    yield started
    started.shutdown()


@pytest.fixture(scope="module")
def monkeypatch_module():
    patch = pytest.MonkeyPatch()
    yield patch
    patch.undo()


def leftovers(uid: int) -> list[int]:
    """Processes of the slot user still running on this machine (but a warm sandbox's own zygote and bubblewrap,
    when the suite is run with warm kernels)."""
    kept = {pid for box in warm._all for pid in box.keep}
    return [pid for pid in sandbox.processes_of(uid) if pid not in kept] if AS_ROOT else []


def assert_sandboxed(kernel: Kernel) -> None:
    """SAFETY: hostile code is sent only to a kernel that is behind the boundary (it cannot see the course or
    the grader, and sees only its own processes)."""
    assert kernel.value(f"__import__('os').path.exists({str(REPO / 'source')!r})") is False
    assert kernel.value(f"__import__('os').path.exists({str(REPO / 'nbgrader_config.py')!r})") is False
    assert kernel.value("len([p for p in __import__('os').listdir('/proc') if p.isdigit()])") <= 6
    assert kernel.value("__import__('socket').gethostname()") == "sandbox"


# ---------------------------------------------------------------- what the learner's code can see


def test_nothing_of_the_course_the_grader_or_work_is_visible(kernel):
    seen = kernel.value("sorted(__import__('os').listdir('/'))")
    # the system's folders, plus the first folder on the way to Python's environment wherever the
    # checkout lives (a CI clone may be at /check/..., /builds/... or under /tmp)
    environment = {Path(p).parts[1] for p in (sys.prefix, sys.base_prefix, os.path.realpath(sys.prefix),
                                               os.path.realpath(sys.base_prefix))}
    assert set(seen) <= {"bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "proc", "dev", "tmp",
                         "home", "opt", "run"} | environment
    # each folder on the way to the environment shows only the next step, nothing beside it
    for prefix in {Path(p) for p in (sys.prefix, sys.base_prefix, os.path.realpath(sys.prefix))}:
        for folder, step in zip(list(prefix.parents)[-2::-1], prefix.parts[2:]):
            if not str(folder).startswith(("/usr", "/tmp")):
                assert kernel.value(f"sorted(__import__('os').listdir({str(folder)!r}))") == [step], folder
    for path in (REPO / "source", REPO / "nbgrader_config.py", REPO / "course", REPO / ".git",
                 Path("/work/coordination"), Path.home() / ".bash_history", Path("/etc/shadow")):
        assert kernel.value(f"__import__('os').path.exists({str(path)!r})") is False, path
    # only what Python needs is there: the installation and the virtualenv, and nothing beside them
    assert kernel.value(f"sorted(__import__('os').listdir({str(Path(sys.prefix).parent)!r}))") == [
        Path(sys.prefix).name]
    assert kernel.value("sorted(__import__('os').listdir('/home'))") == ["learner"]
    assert kernel.value("open('/etc/passwd').read().count(':x:')") == 1


def test_only_the_release_files_arrive_as_plain_copies(kernel, scratch):
    assert kernel.value("sorted(__import__('os').listdir('.'))") == ["data", "pandas.py", "rates.csv"]
    assert kernel.value("open('data/hours.csv').read()") == "hours\n7\n"
    assert kernel.value("__import__('os').path.islink('rates.csv')") is False
    # writing to the copy leaves the grader's scratch folder as it was
    assert kernel.run("open('rates.csv', 'w').write('changed')")["error"] is None
    assert (scratch / "rates.csv").read_text() == "grade,rate\npartner,250\n"


def test_a_shipped_module_does_not_shadow_the_library(kernel):
    assert kernel.value("__import__('pandas').__file__").startswith(sys.prefix)
    assert kernel.value("'' in __import__('sys').path or '.' in __import__('sys').path") is False
    assert kernel.value("list(__import__('sys').flags)[:0] or [__import__('sys').flags.isolated, "
                        "__import__('sys').flags.no_site]") == [1, 1]


def test_the_grader_environment_does_not_reach_the_kernel(kernel):
    environment = kernel.value("dict(__import__('os').environ)")
    assert set(environment) <= set(SandboxKernelManager().environment) | {"PWD", "CLICOLOR", "CLICOLOR_FORCE",
                                                                          "FORCE_COLOR", "GIT_PAGER", "PAGER",
                                                                          "TERM", "PYDEVD_USE_FRAME_EVAL"}
    everything = kernel.run("""
        import os
        for pid in [p for p in os.listdir('/proc') if p.isdigit()]:
            try: print(open(f'/proc/{pid}/environ', 'rb').read())
            except OSError as error: print(error)
    """)
    assert "s3cret" not in everything["stdout"] and everything["stdout"]


def test_the_kernel_sees_only_its_own_processes(kernel):
    assert kernel.value("len([p for p in __import__('os').listdir('/proc') if p.isdigit()])") <= 6


# ---------------------------------------------------------------- what the learner's code can do


def test_writing_outside_the_scratch_folder_and_tmp_fails(kernel):
    for path in ("/usr/evil", f"{sys.prefix}/evil.pth", "/opt/clientcare/clientcare_kernel/guard.py", "/evil",
                 "/etc/evil", "/home/evil"):
        assert kernel.run(f"open({path!r}, 'w').write('x')")["error"], path
    assert kernel.run("open('/tmp/mine', 'w').write('x'); open('notes.txt', 'w').write('x')")["error"] is None


def test_no_network_not_even_to_the_grader_on_loopback(kernel):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    try:
        out = kernel.run(f"""
            import socket
            for address in [('127.0.0.1', {port}), ('1.1.1.1', 80)]:
                try:
                    socket.create_connection(address, timeout=2); print('connected', address)
                except OSError as error:
                    print('refused', error)
            print(sorted(name for _, name in socket.if_nameindex()))
        """)
    finally:
        listener.close()
    assert "connected" not in out["stdout"]
    assert out["stdout"].strip().endswith("['lo']")


def test_an_unprivileged_user_without_capabilities(kernel):
    assert kernel.value("__import__('os').getuid()") not in (0, os.getuid()) or not AS_ROOT
    status = kernel.value("open('/proc/self/status').read()")
    assert "CapEff:\t0000000000000000" in status and "NoNewPrivs:\t1" in status
    if AS_ROOT:
        assert kernel.value("__import__('os').getuid()") == kernel.uid
        name = kernel.value("__import__('pwd').getpwuid(__import__('os').getuid()).pw_name")
        assert name == "learner"  # the sandbox's own passwd: the grader's user list is not shown
    # no user namespace of its own, so no way to become "root" inside one
    out = kernel.run("import subprocess; print(subprocess.run(['unshare', '-r', 'id'], capture_output=True, text=True))")
    assert "uid=0" not in out["stdout"]


def test_a_fork_bomb_is_capped_and_cleaned_up(scratch):
    kernel = Kernel(scratch, max_processes=40)
    out = kernel.run("""
        import os, time
        children = 0
        try:
            for _ in range(500):
                if os.fork() == 0:
                    time.sleep(300); os._exit(0)
                children += 1
        except OSError as error:
            print('stopped', children, error.errno)
    """)
    assert "stopped" in out["stdout"], out
    assert int(out["stdout"].split()[1]) < 40
    uid = kernel.uid
    assert kernel.value("1 + 1") == 2  # the kernel itself lives on
    kernel.shutdown()
    assert leftovers(uid) == []


def test_nothing_outlives_the_kernel(scratch):
    kernel = Kernel(scratch)
    kernel.run("""
        import subprocess, os
        subprocess.Popen(['sleep', '600'], start_new_session=True)
        if os.fork() == 0:          # a daemon: fork again, leave the session, outlive the parent
            os.setsid()
            if os.fork() == 0:
                import time; time.sleep(600)
            os._exit(0)
    """)
    uid, runtime = kernel.uid, kernel.manager._runtime
    assert AS_ROOT is False or len(leftovers(uid)) >= 3
    kernel.shutdown()
    assert leftovers(uid) == []
    assert not os.path.exists(runtime)  # the socket folder is gone too


def test_disk_is_capped_in_total_and_nothing_stays_on_disk(scratch):
    kernel = Kernel(scratch, disk_mb=48)
    out = kernel.run("""
        import os
        written = 0
        try:
            for n in range(100):
                with open(f'/tmp/fill-{n}' if n % 2 else f'fill-{n}', 'wb') as f:
                    f.write(b'x' * (4 << 20)); written += 4
        except OSError as error:
            print('full', written, error.errno)
    """)
    assert "full" in out["stdout"] and int(out["stdout"].split()[1]) <= 48, out
    assert kernel.value("1 + 1") == 2
    kernel.shutdown()
    assert sorted(p.name for p in scratch.iterdir()) == ["data", "pandas.py", "pipe", "rates.csv", "shadow",
                                                           "source-link"]


def test_a_stuck_cell_is_interrupted_and_the_kernel_lives_on(kernel):
    stuck = kernel.client.execute("import time; time.sleep(60)", stop_on_error=False)  # as the grader sends it
    threading.Event().wait(1)
    kernel.manager.interrupt_kernel()
    reply = kernel.client.get_shell_msg(timeout=10)
    assert reply["parent_header"]["msg_id"] == stuck
    assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
    # the kernel lives on: it computes, and says so in its reply
    alive = kernel.client.execute("", user_expressions={"answer": "2 * 21"})
    reply = kernel.client.get_shell_msg(timeout=30)
    assert reply["parent_header"]["msg_id"] == alive and reply["content"]["status"] == "ok"
    assert reply["content"]["user_expressions"]["answer"]["data"]["text/plain"] == "42"
    assert kernel.value("6 * 7") == 42


def test_concurrent_kernels_run_as_different_users(scratch, kernel):
    other = Kernel(scratch)
    try:
        assert other.uid != kernel.uid or not AS_ROOT
        assert other.value("__import__('os').path.exists('/tmp/mine')") is False  # its own /tmp
    finally:
        other.shutdown()


# ---------------------------------------------------------------- attacks that got round the in-kernel hooks


def host_sleeper(uid: int | None = None) -> subprocess.Popen:
    """A process on the host, outside any sandbox, in a session of its own (as the slot user if ``uid``)."""
    if uid is None:
        return subprocess.Popen(["sleep", "300"], start_new_session=True)
    return subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "sleep", "300"],
                            start_new_session=True)


def test_kill_minus_one_and_killpg_reach_nothing_outside_the_sandbox(scratch):
    kernel = Kernel(scratch)
    assert_sandboxed(kernel)
    uid = kernel.uid
    # the grader's own process, and one of the very user the kernel runs as (only the pid namespace is between)
    sleepers = [host_sleeper()] + ([host_sleeper(uid)] if AS_ROOT else [])
    targets = [p.pid for p in sleepers] + [os.getpid(), os.getppid()]
    try:
        kernel.client.execute(textwrap.dedent(f"""
            import os, subprocess
            inside = subprocess.Popen(['sleep', '300'])
            for target in {targets!r}:
                for attack in (os.kill, os.killpg):
                    try:
                        attack(target, 9)
                    except OSError:
                        pass
            os.kill(-1, 9)
        """))
        deadline = time.monotonic() + 60
        while kernel.manager.is_alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        # kill -1 killed what it could reach: the processes of the sandbox, and with them the kernel
        assert not kernel.manager.is_alive()
        assert [p.poll() for p in sleepers] == [None] * len(sleepers), "a process outside the sandbox was killed"
    finally:
        for sleeper in sleepers:
            sleeper.kill()
            sleeper.wait()
        kernel.client.stop_channels()
        kernel.manager.shutdown_kernel()
    assert leftovers(uid) == []


def test_child_programs_stay_inside_the_sandbox(scratch, tmp_path):
    """subprocess (``_posixsubprocess.fork_exec``), ``os.posix_spawn`` and fork: the programs they start see
    what the kernel sees, and nothing of them is left once the kernel is gone."""
    gradebook = tmp_path / "gradebook.db"
    gradebook.write_text("grades")
    classmate = tmp_path / "submitted" / "classmate" / "fee-proposals"
    classmate.mkdir(parents=True)
    (classmate / "fee-proposals.ipynb").write_text("classmate's work")
    secrets = [REPO / "source" / "fee-proposals" / "fee-proposals.ipynb", gradebook, classmate / "fee-proposals.ipynb"]
    outside = ["/usr/evil", f"{sys.prefix}/evil", "/opt/clientcare/evil", "/etc/evil", str(tmp_path / "evil")]
    script = "\n".join([f"cat {p} && echo READ {p}" for p in secrets] +
                       [f"echo x > {p} && echo WROTE {p}" for p in outside] +
                       ["echo x > /tmp/mine && echo WROTE /tmp", "sleep 300 >/dev/null 2>&1 &", "echo done"])
    kernel = Kernel(scratch)
    assert_sandboxed(kernel)
    uid = kernel.uid
    out = kernel.run(f"""
        import _posixsubprocess, os, subprocess
        print(subprocess.run(['/bin/sh', '-c', {script!r}], capture_output=True, text=True).stdout)
        read, write = os.pipe()
        pid = os.posix_spawn('/bin/sh', ['/bin/sh', '-c', {script!r}], dict(os.environ),
                             file_actions=[(os.POSIX_SPAWN_DUP2, write, 1)])
        os.close(write)
        os.waitpid(pid, 0)
        print(os.read(read, 100000).decode())
        if os.fork() == 0:
            os.setsid()
            os.execv('/bin/sleep', ['sleep', '300'])
    """)
    assert out["error"] is None, out
    assert out["stdout"].count("done") == 2 and out["stdout"].count("WROTE /tmp") == 2, out
    assert "READ" not in out["stdout"] and "WROTE /" not in out["stdout"].replace("WROTE /tmp", ""), out
    assert gradebook.read_text() == "grades" and not (tmp_path / "evil").exists()
    assert not Path("/usr/evil").exists() and not Path(sys.prefix, "evil").exists()
    assert AS_ROOT is False or len(leftovers(uid)) >= 3  # the two background sleeps and the forked one
    kernel.shutdown()
    assert leftovers(uid) == []


FORK_BOMB = "import os\nwhile True:\n    os.fork()\n"
THREAD_BOMB = ("import threading, time\nwhile True:\n"
               "    threading.Thread(target=time.sleep, args=(300,), daemon=True).start()\n")


@pytest.mark.parametrize("bomb", [FORK_BOMB, THREAD_BOMB], ids=["fork-bomb", "thread-bomb"])
def test_a_process_bomb_costs_only_its_part_and_later_parts_are_graded(tmp_path, bomb):
    """Graded as JudgedExecute grades: the bomb's part scores 0, the parts before and after keep their points."""
    nb = notebook(
        cell("answer", "def double(x):\n    return 2 * x", "double"),
        cell("test", "assert double(2) == 4", "t-double"),
        cell("answer", bomb + "def half(x):\n    return x / 2", "half"),
        cell("test", "assert half(4) == 2", "t-half"),
        cell("answer", "def triple(x):\n    return 3 * x", "triple"),
        cell("test", "assert triple(2) == 6", "t-triple"),
    )
    (tmp_path / "work").mkdir()
    probe = Kernel(tmp_path / "work")
    assert_sandboxed(probe)  # SAFETY: the boundary JudgedExecute starts below is this one
    probe.shutdown()
    RecordingBoundary.uids.clear()
    started = time.monotonic()
    JudgedExecute(kernel_manager_class=RecordingBoundary, kernel_name="python3", timeout=10, notebook_budget=60,
                  trusted_directory=str(tmp_path / "none")).preprocess(
        nb, {"nbgrader": {"assignment": "a"}, "metadata": {"path": str(tmp_path / "work")}})
    # (the fork bomb's kernel is usually stuck past the cell's time limit and replaced; the thread bomb's lives on)
    assert scores(nb) == {"t-double": 1, "t-half": 0, "t-triple": 1}
    assert time.monotonic() - started < 90
    assert RecordingBoundary.uids and [u for u in set(RecordingBoundary.uids) if leftovers(u)] == []


# ---------------------------------------------------------------- how it is used


def test_nbgrader_style_execution_with_the_in_kernel_protections(tmp_path):
    """nbclient (nbgrader's executor) runs a notebook in it, defence in depth on, as in grading."""
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import pandas as pd\nframe = pd.read_csv('rates.csv')"),
        nbformat.v4.new_code_cell("print(int(frame.rate.sum()))"),
    ])
    (tmp_path / "rates.csv").write_text("grade,rate\npartner,250\nassociate,150\n")
    client = NotebookClient(notebook, kernel_name="python3", kernel_manager_class=SlotsForTests,
                            resources={"metadata": {"path": str(tmp_path)}}, timeout=60)
    client.execute()
    assert notebook.cells[1].outputs[0]["text"] == "400\n"


@pytest.mark.skipif(not AS_ROOT, reason="slot users exist only when grading as root")
def test_removing_slot_users_keeps_one_running_a_kernel(kernel):
    name = f"{TEST_PREFIX}{kernel.manager._slot[0]}"
    assert sandbox.remove_slot_users(TEST_PREFIX, names=[name]) == []
    assert name in sandbox.slot_users(TEST_PREFIX)
    assert kernel.value("6 * 7") == 42


def test_the_course_configuration_grades_behind_the_boundary():
    """`clientcare grade` and stock `nbgrader autograde` read this configuration: both start SandboxKernelManager."""
    from clientcare.instructor.config import course_config

    config = course_config(REPO)
    assert JudgedExecute(config=config).kernel_manager_class is SandboxKernelManager
    assert "JudgedExecute" in config.Autograde.autograde_preprocessors[0]


def test_it_refuses_to_run_learner_code_without_bubblewrap():
    manager = SandboxKernelManager(bwrap="/nonexistent/bwrap", user_prefix=TEST_PREFIX)
    with pytest.raises(SandboxUnavailable, match="bubblewrap"):
        manager.start_kernel()
    assert not manager.has_kernel
