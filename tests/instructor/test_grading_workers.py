"""When a grading worker dies, the instructor is told the real cause, naming the learner and the notebook.

A worker's start-up that fails names its exception (it is not "out of memory"); a worker
killed by a signal names the signal, the learner and the notebook it was grading, and says
"out of memory" only when the out-of-memory killer's count grew; the learners it had not
reached are graded. When the grading process itself is killed, its workers and their sandboxes end too.
"""
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from clientcare.instructor import grading, warm
from clientcare.instructor.grading import death_cause, grade_cohort
from clientcare.instructor.synthetic import ALL, Learner, submit
from cohorts import copy_course

A = "fee-proposals"
SLEEPS = "import time\ntime.sleep(120)  # a slow learner: grading is still running when the worker is killed\n"


def test_the_cause_of_death_is_read_from_the_exit_status():
    assert death_cause(-signal.SIGSEGV) == "it was killed by SIGSEGV (Segmentation fault)"
    assert death_cause(3) == "it exited with status 3"
    assert "out-of-memory killer: the machine ran out of memory" in death_cause(-signal.SIGKILL, 4, 5)
    assert "not the out-of-memory killer" in death_cause(-signal.SIGKILL, 4, 4)
    assert "memory" not in death_cause(-signal.SIGTERM, 4, 5)  # only SIGKILL comes from the OOM killer
    assert "does not say which" in death_cause(-signal.SIGKILL, None, None)
    assert isinstance(grading._oom_kills(), int)  # Linux counts OOM kills in /proc/vmstat


@pytest.fixture(scope="module")
def course(tmp_path_factory, released_template):
    course = copy_course(released_template, tmp_path_factory.mktemp("workers") / "course", assignments=[A])
    with open(course.root / "nbgrader_config.py", "a", encoding="utf-8") as config:
        # An instructor's setting that needs a variable grading workers do not keep (as JUPYTERHUB_* once did)
        config.write('\nif os.environ.get("CLIENTCARE_TEST_NEEDS_TOKEN"):\n'
                     '    c.ClientCare.token = os.environ["GRADER_TOKEN"]\n')
    folder = submit(course, Learner("a-slow", {A: ALL}), A)
    notebook = folder / f"{A}.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    first = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    first.source = SLEEPS + first.source
    nbformat.write(nb, notebook)
    folder = submit(course, Learner("b-steady", {A: ALL}), A)
    nb = nbformat.read(folder / f"{A}.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import os\nprint('ran in', os.getcwd(), 'as', os.getuid())"))
    nbformat.write(nb, folder / f"{A}.ipynb")
    return course


@pytest.mark.slow
def test_a_worker_that_cannot_start_is_reported_with_its_exception(course, monkeypatch):
    monkeypatch.setenv("CLIENTCARE_TEST_NEEDS_TOKEN", "1")
    monkeypatch.setenv("GRADER_TOKEN", "in the instructor's shell, not in the workers")
    outcomes = grade_cohort(course.root, A, workers=1, students=["b-steady"])
    assert [o.ok for o in outcomes] == [False]
    message = outcomes[0].message
    assert "could not start" in message and "KeyError: 'GRADER_TOKEN'" in message, message
    assert "memory" not in message


@pytest.mark.slow
def test_workers_get_the_environment_of_the_grading_as_it_is_now(course, monkeypatch):
    """Workers are forked from a fork server started once: each cohort's workers still get the grading
    process's environment as it is when that cohort is graded, not as it was when the fork server started."""
    monkeypatch.delenv("CLIENTCARE_TEST_NEEDS_TOKEN", raising=False)
    assert [o.ok for o in grade_cohort(course.root, A, workers=1, students=["b-steady"])] == [True]
    assert fork_servers(os.getpid()), "the pool's workers did not come from a fork server"
    monkeypatch.setenv("CLIENTCARE_TEST_NEEDS_TOKEN", "1")  # set after the fork server started: it must count
    monkeypatch.setenv("GRADER_TOKEN", "in the instructor's shell, not in the workers")
    outcome, = grade_cohort(course.root, A, workers=1, students=["b-steady"])
    assert not outcome.ok and "KeyError: 'GRADER_TOKEN'" in outcome.message, outcome
    monkeypatch.delenv("CLIENTCARE_TEST_NEEDS_TOKEN")  # and one removed since must be gone: a worker that still
    # had it would fail as above
    outcome, = grade_cohort(course.root, A, workers=1, students=["b-steady"])
    assert outcome.ok, outcome


@pytest.mark.slow
def test_modules_in_the_folder_grading_is_started_from_are_never_imported(course, tmp_path):
    """`clientcare grade` run from a folder of downloaded files: a `secrets.py` or `calendar.py` there is neither
    imported in place of the standard library's (grading would break) nor run (outside every sandbox)."""
    folder, ran = tmp_path / "downloads", tmp_path / "ran.txt"
    folder.mkdir()
    for name in ("secrets", "calendar", "csv"):
        (folder / f"{name}.py").write_text(f"open({str(ran)!r}, 'a').write('{name}.py ran\\n')\n")
    run = subprocess.run([str(Path(sys.executable).parent / "clientcare"), "grade", A, "--course", str(course.root),
                          "--workers", "1", "--student", "b-steady"], cwd=folder, capture_output=True, text=True,
                         env=dict(os.environ, TMPDIR=str(tmp_path)), timeout=300)
    assert run.returncode == 0 and "Graded 1 of 1 submissions." in run.stdout, run.stdout + run.stderr
    assert not ran.exists(), ran.read_text()


def children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append((int(entry.name), (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()))
        except (OSError, ValueError, IndexError):
            continue
    return found


def fork_servers(grader: int) -> list[int]:
    """The fork servers the grading process ``grader`` started: its pool's workers are forked from one."""
    return [pid for pid, command in children(grader) if "multiprocessing.forkserver" in command]


def pool_workers(grader: int) -> list[int]:
    """The grading process ``grader``'s pool workers."""
    return [pid for server in fork_servers(grader) for pid, _ in children(server)]


def sandboxes(grader: int) -> list[int]:
    """The bubblewrap sandboxes the grading process ``grader``'s pool workers have started."""
    return [pid for worker in pool_workers(grader) for pid, command in children(worker) if "bwrap" in command]


def kill_worker_while_it_grades(signals: list[int], stop: threading.Event) -> None:
    """Kill the grading worker with each of ``signals`` in turn, once its sandboxed kernel is running."""
    for number in signals:
        while not stop.is_set():
            workers = pool_workers(os.getpid())
            if sandboxes(os.getpid()):
                time.sleep(2)  # the learner's first answer is sleeping in it
                os.kill(workers[0], number)
                break
            time.sleep(0.2)
        while not stop.is_set() and workers[0] in pool_workers(os.getpid()):
            time.sleep(0.2)


def kill_fork_server_while_it_grades(stop: threading.Event) -> None:
    """Kill the fork server the grading workers come from, once a worker's sandboxed kernel is running."""
    while not stop.is_set():
        if sandboxes(os.getpid()):
            time.sleep(2)  # the learner's first answer is sleeping in it
            os.kill(fork_servers(os.getpid())[0], signal.SIGKILL)
            return
        time.sleep(0.2)


@pytest.mark.slow
def test_a_killed_fork_server_is_no_learners_fault_and_they_are_graded_again(course):
    folder = submit(course, Learner("c-pause", {A: ALL}), A)
    nb = nbformat.read(folder / f"{A}.ipynb", as_version=4)
    first = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    first.source = "import time\ntime.sleep(6)\n" + first.source
    nbformat.write(nb, folder / f"{A}.ipynb")
    stop = threading.Event()
    killer = threading.Thread(target=kill_fork_server_while_it_grades, args=(stop,))
    killer.start()
    try:
        outcome, = grade_cohort(course.root, A, workers=1, students=["c-pause"])
    finally:
        stop.set()
        killer.join()
    # graded in full on the second attempt, and not told its own worker died (multiprocessing reports a worker
    # of a dead fork server as "exited with status 255")
    assert outcome.ok and outcome.message == "", outcome


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "getppid"), reason="needs POSIX")
def test_a_killed_worker_names_the_signal_the_learner_and_the_notebook(course, monkeypatch):
    monkeypatch.setattr(grading, "_oom_kills", lambda: 7)  # the out-of-memory killer did nothing meanwhile
    stop = threading.Event()
    killer = threading.Thread(target=kill_worker_while_it_grades, args=([signal.SIGKILL, signal.SIGSEGV], stop))
    killer.start()
    try:
        outcomes = {o.student: o for o in grade_cohort(course.root, A, workers=1, students=["a-slow", "b-steady"])}
    finally:
        stop.set()
        killer.join()
    slow = outcomes["a-slow"]
    assert not slow.ok
    assert slow.message.startswith(f"not graded: the grading worker died while grading a-slow's {A}/{A}.ipynb: "
                                   "it was killed by SIGSEGV (Segmentation fault)"), slow.message
    assert "memory" not in slow.message
    # the classmate queued behind it is graded, with nothing to report, behind the OS boundary
    assert outcomes["b-steady"].ok and outcomes["b-steady"].message == "", outcomes["b-steady"]
    graded = nbformat.read(course.root / "autograded" / "b-steady" / A / f"{A}.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in graded.cells for o in c.get("outputs", []))
    assert "ran in /home/learner/" in printed, printed
    assert os.geteuid() != 0 or "as 0\n" not in printed, printed  # as root: as a slot user


def started_at(pid: int) -> int | None:
    """The start time of a running (not a zombie) process ``pid``, or None: it names one process, not a reused pid."""
    try:
        state = warm._status(pid).get("State", "X")[:1]
    except OSError:
        return None
    return None if state in ("Z", "X") else warm._start_time(pid)


def command_line(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()[:120]
    except OSError:
        return b"(it has just ended)"


def descendants(pid: int) -> list[int]:
    found = []
    for child, _ in children(pid):
        found += [child, *descendants(child)]
    return found


@pytest.mark.slow
def test_nothing_keeps_running_when_the_grading_process_is_killed(course, tmp_path):
    """`kill -9` of an instructor's grading (or the out-of-memory killer): its workers and sandboxes end too."""
    script = f"from clientcare.instructor.grading import grade_cohort\ngrade_cohort({str(course.root)!r}, {A!r}, " \
             "workers=1, students=['a-slow'])\n"
    grader = subprocess.Popen([sys.executable, "-c", script], cwd=course.root, env=dict(os.environ, TMPDIR=str(tmp_path)),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, running = time.monotonic() + 180, {}
        while not running and time.monotonic() < deadline and grader.poll() is None:
            if sandboxes(grader.pid):
                time.sleep(1)  # the learner's first answer is sleeping in the kernel by now
                running = {pid: started_at(pid) for pid in [*fork_servers(grader.pid), *descendants(grader.pid)]}
            else:
                time.sleep(0.2)
        assert running, "the grading never started the learner's kernel"
        grader.kill()
        grader.wait()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(started_at(pid) == when for pid, when in running.items()):
            time.sleep(0.2)
        left = [pid for pid, when in running.items() if started_at(pid) == when]
        left = {pid: command_line(pid) for pid in left}
        assert not left, f"still running 30 s after the grading process was killed: {left}"
    finally:
        grader.kill()
        grader.wait()
