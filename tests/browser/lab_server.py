"""A JupyterLab server for the browser tests, on a throwaway copy of the course.

Everything the server writes (learners' answers, the nbgrader exchange, JupyterLab
settings and workspaces, kernels' runtime files) goes to a temporary folder; the
repository itself is only read.
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
    root: Path          # the server's root_dir: a copy of course/, release/ and nbgrader_config.py
    learner_home: Path  # CLIENTCARE_HOME of the server and its kernels
    log: Path

    def lab_url(self, path: str = "") -> str:
        return f"{self.url}/lab{path}?token={self.token}"

    def journal(self) -> dict:
        return read_json(self.learner_home / "journal.json")

    def scenarios(self) -> dict:
        return read_json(self.learner_home / "scenarios.json")

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


def copy_course(root: Path) -> None:
    """The server's root: the course (lessons and package), the student assignments and nbgrader's config."""
    skip = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "*.egg-info")
    shutil.copytree(REPO / "course", root / "course", ignore=skip)
    shutil.copytree(REPO / "release", root / "release", ignore=skip)
    shutil.copy2(REPO / "nbgrader_config.py", root / "nbgrader_config.py")


def quiet_jupyterlab_settings(settings_dir: Path) -> None:
    """No "Would you like to get notified about official Jupyter news?" toast over the page."""
    plugin = settings_dir / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    plugin.parent.mkdir(parents=True)
    plugin.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))


def server_environment(scratch: Path) -> dict[str, str]:
    env = dict(os.environ)
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
    """Start JupyterLab on a copy of the course in ``scratch``, yield a LabServer once it answers, then stop it."""
    root = scratch / "root"
    copy_course(root)
    quiet_jupyterlab_settings(scratch / "lab-settings")
    env = server_environment(scratch)
    release_assignment(root, env, RELEASED_ASSIGNMENT)
    port, token = free_port(), secrets.token_hex(16)
    server = LabServer(f"http://127.0.0.1:{port}", token, root, Path(env["CLIENTCARE_HOME"]), log)
    command = [
        str(BIN / "jupyter"), "lab", "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    # The working directory is the course root, as with `make lab`: nbgrader's
    # Assignment List reads nbgrader_config.py from the server's working directory.
    with log.open("w") as log_file:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        wait_until_answering(server, process)
        yield server
    finally:
        stop(process)
