"""A JupyterLab server for the browser tests: the learner's view (`make lab`, clientcare/lab.py)
on a throwaway copy of the course.

The copy is a git repository with everything committed, so a test can ask `git status` whether
working in JupyterLab changed a tracked file. Everything the server writes (learners' answers,
the nbgrader exchange, JupyterLab settings and workspaces, kernels' runtime files) goes to a
temporary folder; the repository itself is only read.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from clientcare.lab import lab_command, lab_environment

from notebooks import REPO

CHROMIUM = Path("/usr/bin/chromium")
# The flags this machine needs: no sandbox as root, no GPU, and no background
# connections (the network is closed, and Chromium would keep trying).
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
BIN = Path(sys.executable).parent  # .venv/bin: jupyter and nbgrader from the course's environment
SERVER_START_TIMEOUT = 60  # seconds
RELEASED_ASSIGNMENT = "confidentiality"  # released to the exchange so the Assignment List has something to show


@dataclass
class LabServer:
    url: str            # http://127.0.0.1:PORT
    token: str
    course: Path        # a copy of course/, release/ and nbgrader_config.py, committed to git
    root: Path          # the server's root_dir: the learner's workspace, course/learner/
    learner_home: Path  # CLIENTCARE_HOME of the server and its kernels
    log: Path

    def lab_url(self, path: str = "", *, reset: bool = False) -> str:
        """A JupyterLab page; with ``reset``, without the tabs left open before (no restored kernels)."""
        return f"{self.url}/lab{path}?token={self.token}" + ("&reset" if reset else "")

    def journal(self) -> dict:
        return read_json(self.learner_home / "journal.json")

    def scenarios(self) -> dict:
        return read_json(self.learner_home / "scenarios.json")

    def flashcards(self) -> dict:
        return read_json(self.learner_home / "flashcards.json")

    def git_status(self) -> str:
        """`git status --porcelain` of the course copy: empty when no tracked file changed."""
        return subprocess.run(["git", "status", "--porcelain"], cwd=self.course, check=True,
                              capture_output=True, text=True).stdout.strip()

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def copy_course(course: Path) -> None:
    """The course (lessons and package), the student assignments, nbgrader's config and .gitignore,
    committed to a new git repository."""
    skip = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "*.egg-info")
    shutil.copytree(REPO / "course", course / "course", ignore=skip)
    shutil.copytree(REPO / "release", course / "release", ignore=skip)
    for name in ("nbgrader_config.py", ".gitignore"):
        shutil.copy2(REPO / name, course / name)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "the course as shipped"]):
        subprocess.run(git + command, cwd=course, check=True, capture_output=True, timeout=60)


def quiet_jupyterlab_settings(settings_dir: Path) -> None:
    """No "Would you like to get notified about official Jupyter news?" toast over the page, and every
    cell of a notebook drawn (no virtual scrolling), so the checks see every widget."""
    settings = {
        ("apputils-extension", "notification"): {"fetchNews": "false", "checkForUpdates": False},
        ("notebook-extension", "tracker"): {"windowingMode": "none"},
    }
    for (package, plugin), values in settings.items():
        path = settings_dir / "@jupyterlab" / package / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def shut_down_kernels(server: "LabServer") -> None:
    """Stop every kernel the server runs (closing a tab leaves its kernel running)."""
    request = urllib.request.Request(f"{server.url}/api/kernels?token={server.token}")
    with urllib.request.urlopen(request, timeout=10) as reply:
        kernels = json.loads(reply.read())
    for kernel in kernels:
        urllib.request.urlopen(urllib.request.Request(
            f"{server.url}/api/kernels/{kernel['id']}?token={server.token}", method="DELETE"), timeout=10)


def server_environment(scratch: Path, course: Path) -> dict[str, str]:
    env = lab_environment("learner", course, dict(os.environ))
    env.update(
        CLIENTCARE_HOME=str(scratch / "learner"),
        CLIENTCARE_EXCHANGE=str(scratch / "exchange"),
        # Keep the user's own Jupyter config, kernels, settings and workspaces out of the test.
        JUPYTER_CONFIG_DIR=str(scratch / "jupyter-config"),
        JUPYTER_DATA_DIR=str(scratch / "jupyter-data"),
        JUPYTER_RUNTIME_DIR=str(scratch / "jupyter-runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(scratch / "lab-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(scratch / "lab-workspaces"),
        MPLBACKEND="Agg",
    )
    return env


def release_assignment(root: Path, env: dict[str, str], name: str) -> None:
    """``nbgrader release_assignment`` into the test's exchange, as an instructor would."""
    subprocess.run([str(BIN / "nbgrader"), "release_assignment", name, "--force"], cwd=root, env=env,
                   check=True, capture_output=True, timeout=60)


def wait_until_answering(server: LabServer, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.url}/api/status?token={server.token}", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"JupyterLab did not answer within {SERVER_START_TIMEOUT} s:\n{server.log_tail()}")


def stop(process: subprocess.Popen) -> None:
    """Ask the server (and the kernels it started) to stop; kill its process group if it will not."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextlib.contextmanager
def running_lab_server(scratch: Path, log: Path):
    """Start the learner's JupyterLab (as `make lab` does) on a copy of the course in ``scratch``, yield
    a LabServer once it answers, then stop it."""
    course = scratch / "course"
    copy_course(course)
    quiet_jupyterlab_settings(scratch / "lab-settings")
    env = server_environment(scratch, course)
    release_assignment(course, env, RELEASED_ASSIGNMENT)
    port, token = free_port(), secrets.token_hex(16)
    command, root = lab_command("learner", course, [
        "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--ServerApp.token={token}",
        "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ])
    server = LabServer(f"http://127.0.0.1:{port}", token, course, root, Path(env["CLIENTCARE_HOME"]), log)
    # The working directory is the server's root, as with `make lab`: nbgrader's
    # Assignment List reads its configuration relative to it.
    with log.open("w") as log_file:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        wait_until_answering(server, process)
        yield server
    finally:
        stop(process)
