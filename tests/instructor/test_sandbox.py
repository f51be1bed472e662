"""The sandboxed grading kernel (``clientcare.instructor.sandbox``), tested in real kernels.

One kernel is shared by the whole module (starting one takes about a second);
every test leaves it running, which is itself part of what is tested. The
kernel spec is installed into a temporary prefix rather than the virtualenv, so
running these tests never replaces the kernel the course's grader uses.
"""
from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from pathlib import Path

import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

from clientcare.instructor import sandbox

pytestmark = pytest.mark.slow

SECRET = "hidden-test-answer-42"


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A course folder: protected/ (a secret, a gradebook), public/ (a data file), work/ (the kernel's cwd)."""
    root = tmp_path_factory.mktemp("course")
    (root / "protected").mkdir()
    (root / "protected" / "secret.csv").write_text(f"answer\n{SECRET}\n")
    with sqlite3.connect(root / "protected" / "gradebook.db") as db:
        db.execute("create table grade (score)")
        db.execute("insert into grade values (10)")
    db.close()
    (root / "public").mkdir()
    (root / "public" / "data.csv").write_text("fee,hours\n100,2\n250,5\n")
    (root / "work").mkdir()
    return root


@pytest.fixture(scope="module")
def kernel(course, tmp_path_factory):
    """A running sandboxed kernel (started from the installed kernel spec) and a client for it."""
    prefix = tmp_path_factory.mktemp("prefix")
    sandbox.install_kernelspec(str(prefix))
    specs = KernelSpecManager(kernel_dirs=[str(prefix / "share" / "jupyter" / "kernels")])
    env = dict(os.environ, CLIENTCARE_PROTECTED_PATHS=str(course / "protected"),
               CLIENTCARE_HOME=str(course / "instructor-home"), CLIENTCARE_DB_URL="sqlite:///gradebook.db",
               NBGRADER_EXECUTION="autograde", JUPYTERHUB_API_TOKEN="not-for-learners")
    manager = KernelManager(kernel_name=sandbox.KERNEL_NAME, kernel_spec_manager=specs)
    manager.start_kernel(env=env, cwd=str(course / "work"))
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    yield manager, client
    client.stop_channels()
    manager.shutdown_kernel()


def run(kernel, code: str, timeout: float = 30) -> dict:
    """Execute ``code``; its status, printed text, and error name and message (if any)."""
    _, client = kernel
    out = {"text": "", "ename": "", "evalue": ""}

    def collect(message):
        content = message["content"]
        if message["msg_type"] == "stream":
            out["text"] += content["text"]
        elif message["msg_type"] == "error":
            out["ename"], out["evalue"] = content["ename"], content["evalue"]

    # stop_on_error=False, as the grader sends every cell: otherwise ipykernel aborts ("aborted", no output) a
    # request that reaches it before it has finished the abort it starts after an error
    reply = client.execute_interactive(code, output_hook=collect, timeout=timeout, stop_on_error=False)
    out["status"] = reply["content"]["status"]
    return out


def assert_alive(kernel) -> None:
    assert kernel[0].is_alive()
    result = run(kernel, "print(6 * 7)")
    assert result["status"] == "ok" and result["text"].strip() == "42", result


def assert_refused(result: dict, path: str, ename: str = "PermissionError") -> None:
    assert result["status"] == "error", result
    assert result["ename"] == ename, result
    assert "not allowed while grading" in result["evalue"] and path in result["evalue"], result
    assert SECRET not in result["text"]


# ---------------------------------------------------------------- protected paths


@pytest.mark.parametrize("code, shown", [
    ("open({secret!r}).read()", "{secret}"),
    ("open('../protected/secret.csv').read()", "../protected/secret.csv"),
    ("open('../work/../protected/./secret.csv').read()", "../work/../protected/./secret.csv"),
    ("import pandas; pandas.read_csv({secret!r})", "{secret}"),
    ("import pathlib; pathlib.Path({secret!r}).read_text()", "{secret}"),
    ("import os; os.listdir({folder!r})", "{folder}"),
    ("import os; list(os.scandir('../protected'))", "../protected"),
    ("import glob; glob.glob({folder!r} + '/*')", "{folder}/*"),
    ("import sqlite3; sqlite3.connect({gradebook!r}).execute('select * from grade').fetchall()", "{gradebook}"),
    ("import sqlite3; sqlite3.connect('file:' + {gradebook!r} + '?mode=ro', uri=True)", "{gradebook}"),
    ("import shutil; shutil.copyfile({secret!r}, 'copy.csv')", "{secret}"),
    ("import os; os.rename({secret!r}, 'moved.csv')", "{secret}"),
    ("import os; os.remove({secret!r})", "{secret}"),
    ("import os; os.link({secret!r}, 'hard-link.csv')", "{secret}"),
    ("open({secret!r}, 'w').write('0')", "{secret}"),
    ("import os; os.chdir('../protected')", "../protected"),
])
def test_protected_paths_cannot_be_touched(kernel, course, code, shown):
    names = dict(secret=str(course / "protected" / "secret.csv"), folder=str(course / "protected"),
                 gradebook=str(course / "protected" / "gradebook.db"))
    assert_refused(run(kernel, code.format(**names)), shown.format(**names))
    assert (course / "protected" / "secret.csv").read_text() == f"answer\n{SECRET}\n"


def test_symbolic_links_and_proc_paths_are_resolved(kernel, course, monkeypatch):
    (course / "work" / "shortcut").symlink_to(course / "protected")
    assert_refused(run(kernel, "open('shortcut/secret.csv').read()"), "shortcut/secret.csv")
    monkeypatch.chdir(course)  # the kernel's parent (this process) now sits in the course folder
    parent_cwd = f"/proc/{os.getpid()}/cwd"
    assert_refused(run(kernel, f"open('{parent_cwd}/protected/secret.csv').read()"), "secret.csv")


def test_no_dir_fd_way_round(kernel, course):
    code = f"import os; fd = os.open({str(course)!r}, os.O_RDONLY); os.open('protected/secret.csv', 0, dir_fd=fd)"
    assert_refused(run(kernel, code), str(course))


def test_sqlite_attach_is_refused(kernel, course):
    gradebook = str(course / "protected" / "gradebook.db")
    code = f"import sqlite3; sqlite3.connect(':memory:').execute(\"attach database '{gradebook}' as g\")"
    result = run(kernel, code)
    assert result["ename"] == "DatabaseError" and "not authorized" in result["evalue"], result


def test_environments_cannot_be_read_from_proc(kernel):
    assert_refused(run(kernel, "open('/proc/self/environ').read()"), "/proc/self/environ")
    assert_refused(run(kernel, "import os; open(f'/proc/{os.getppid()}/environ').read()"), "environ")


def test_unprotected_files_and_the_data_stack_work(kernel, course):
    code = f"""
import numpy, pandas, matplotlib
import matplotlib.pyplot as plt
fees = pandas.read_csv({str(course / 'public' / 'data.csv')!r})
fees["rate"] = fees.fee / fees.hours
print(fees.rate.sum(), numpy.linalg.inv(numpy.eye(3) * 2).trace())
plt.plot(fees.hours, fees.fee)
plt.savefig("fees.png")
print(open("../public/data.csv").readline().strip(), sorted(__import__("os").listdir("../public")))
"""
    result = run(kernel, code)
    assert result["status"] == "ok", result
    assert result["text"].split("\n")[:2] == ["100.0 1.5", "fee,hours ['data.csv']"]
    assert (course / "work" / "fees.png").stat().st_size > 1000


# ---------------------------------------------------------------- escapes


def test_other_processes_and_native_code_are_refused(kernel, course):
    secret = str(course / "protected" / "secret.csv")
    for code in (f"import subprocess; subprocess.run(['cat', {secret!r}])", f"import os; os.system('cat {secret}')",
                 "import os; os.fork()"):
        result = run(kernel, code)
        assert result["ename"] == "PermissionError" and "starting another process" in result["evalue"], result
        assert SECRET not in result["text"]
    for code in ("import ctypes; ctypes.CDLL(None)", "import ctypes; ctypes.string_at(id(1), 8)",
                 "import ctypes; ctypes.pythonapi.Py_Exit", "import cffi"):
        result = run(kernel, code)
        assert result["ename"] == "GradingSandboxError", result
    assert_alive(kernel)


# ---------------------------------------------------------------- resources


def test_memory_bomb_is_a_memory_error(kernel):
    result = run(kernel, "x = bytearray(4 * 1024**3)")
    assert result["ename"] == "MemoryError", result
    assert_alive(kernel)
    result = run(kernel, "import numpy; x = numpy.ones((20_000, 20_000))")  # 3.2 GB
    assert result["ename"] == "MemoryError" and "Unable to allocate" in result["evalue"], result
    assert_alive(kernel)


def test_large_files_are_refused(kernel):
    result = run(kernel, "open('big.bin', 'wb').write(b'0' * (60 * 1024**2))")
    assert result["status"] == "error" and "File too large" in result["evalue"], result
    assert_alive(kernel)


# ---------------------------------------------------------------- staying alive


@pytest.mark.parametrize("code", [
    "import os; os._exit(0)",
    "import os; os.abort()",
    "import posix; posix._exit(3)",
    "import signal; signal.raise_signal(signal.SIGKILL)",
    "import os, signal; os.kill(os.getpid(), signal.SIGKILL)",
    "import os, signal; os.killpg(os.getpgid(0), signal.SIGTERM)",
    "import os, signal; os.kill(os.getppid(), signal.SIGTERM)",
    "import resource; resource.setrlimit(resource.RLIMIT_CPU, (1, 1))",
    "exit()",
    "quit()",
])
def test_the_kernel_cannot_stop_itself(kernel, code):
    result = run(kernel, code)
    assert result["status"] == "error" and result["ename"] == "GradingSandboxError", result
    assert "not allowed while grading" in result["evalue"]
    assert_alive(kernel)


def test_exiting_from_another_thread_is_refused_too(kernel):
    code = "import os, threading; t = threading.Thread(target=os._exit, args=(0,)); t.start(); t.join()"
    assert run(kernel, code)["status"] == "ok"  # the thread fails (GradingSandboxError), the kernel does not
    assert_alive(kernel)
    code = "exec('import os; os._exit(0)', {})"
    assert run(kernel, code)["ename"] == "GradingSandboxError"
    assert_alive(kernel)


def test_system_exit_is_just_an_error(kernel):
    for code in ("raise SystemExit", "import sys; sys.exit(1)"):
        result = run(kernel, code)
        assert result["ename"] == "SystemExit", result
        assert_alive(kernel)


def test_timeouts_can_still_interrupt_a_cell(kernel):
    manager, client = kernel
    message_id = client.execute("import time; time.sleep(30)", stop_on_error=False)  # as the grader sends it
    client.get_iopub_msg(timeout=10)  # busy
    time.sleep(0.5)
    manager.interrupt_kernel()
    reply = client.get_shell_msg(timeout=10)
    assert reply["parent_header"]["msg_id"] == message_id
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    while client.iopub_channel.msg_ready():
        client.get_iopub_msg(timeout=1)
    assert_alive(kernel)


# ---------------------------------------------------------------- environment


def test_grader_environment_is_gone(kernel, course):
    code = "import os, json; print(json.dumps({k: v for k, v in os.environ.items() " \
           "if k.startswith(('CLIENTCARE_', 'NBGRADER', 'JUPYTERHUB_')) or k.endswith('_NUM_THREADS')}))"
    names = json.loads(run(kernel, code)["text"])
    assert names == {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                     "NUMEXPR_NUM_THREADS": "1"}


# ---------------------------------------------------------------- the kernel spec


def test_kernelspec_is_found_by_jupyter(tmp_path, monkeypatch):
    folder = sandbox.install_kernelspec(str(tmp_path))
    assert sandbox.install_kernelspec(str(tmp_path)) == folder  # idempotent
    assert folder == tmp_path / "share" / "jupyter" / "kernels" / "clientcare-grader"
    spec = json.loads((folder / "kernel.json").read_text())
    assert spec["argv"] == [sys.executable, "-m", "clientcare.instructor.sandbox", "-f", "{connection_file}"]
    assert (spec["display_name"], spec["language"]) == ("Client Care grader (sandboxed)", "python")
    # sys.prefix's kernels folder is one KernelSpecManager searches, so install_kernelspec() is found there;
    # JUPYTER_PATH stands in for it here, leaving the virtualenv's installed grader kernel alone.
    assert str(Path(sys.prefix) / "share" / "jupyter" / "kernels") in KernelSpecManager().kernel_dirs
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "share" / "jupyter"))
    found = KernelSpecManager().find_kernel_specs()
    assert Path(found["clientcare-grader"]) == folder



def test_a_kernels_processes_when_not_root_are_everything_below_it():
    """Run as another user, a kernel's processes (those a busy kernel lowers the priority of) are found by parent
    pid: its children and theirs, and nothing beside them."""
    import signal
    import subprocess

    from clientcare.instructor.warm import descendants

    tree = subprocess.Popen(["sh", "-c", "sleep 30 & (sleep 30 & wait) & wait"])  # sh, a sleep, a subshell, its sleep
    beside = subprocess.Popen(["sleep", "30"])
    found = []
    try:
        deadline = time.monotonic() + 10
        while len(found) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
            found = descendants(tree.pid)
        assert found[0] == tree.pid and len(found) == 4, found
        assert beside.pid not in found and os.getpid() not in found
    finally:
        for pid in [*found, tree.pid, beside.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        tree.wait(), beside.wait()
