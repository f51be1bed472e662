"""Run Ralph (``ralph-malph``), an existing xAPI Learning Record Store, for tests and trials.

Ralph's API app is served by uvicorn with its file-system backend (statements in one
JSON-lines file in ``folder``; no Elasticsearch, MongoDB or ClickHouse needed; through
:mod:`.ralph_app`, which makes that backend append, as it must to keep more than one batch) and HTTP
Basic credentials from an auth file written here. This is what ``ralph runserver -b fs``
starts, without its auto-reloader (which watches the working folder and forks a second
process). It binds to loopback by default; :meth:`RalphLRS.stop` stops the process group.

    with RalphLRS(tmp_path) as lrs:
        lrs.settings  # an LrsSettings for clientcare.lrs (endpoint and credentials)
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from ..lrs import LrsSettings


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def write_auth_file(path: Path, users: dict[str, tuple[str, list[str]]]) -> Path:
    """Ralph's auth file: ``{username: (password, scopes)}`` with bcrypt hashes (scopes: ``all``,
    ``statements/write``, ``statements/read``...)."""
    import bcrypt

    entries = [{"agent": {"objectType": "Agent", "account": {"homePage": "http://clientcare.lrs", "name": name}},
                "scopes": scopes, "username": name,
                "hash": bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()}
               for name, (password, scopes) in users.items()]
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


class RalphLRS:
    """A Ralph LRS process on ``host:port`` storing statements in ``folder``."""

    def __init__(self, folder: Path, host: str = "127.0.0.1", port: int | None = None,
                 username: str = "clientcare", password: str | None = None,
                 course_iri: str = "https://courses.example.org/clientcare"):
        self.folder = Path(folder)
        self.host, self.port = host, port or free_port(host)
        self.username, self.password = username, password or secrets.token_urlsafe(12)
        self.course_iri = course_iri
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def settings(self) -> LrsSettings:
        return LrsSettings(endpoint=f"{self.url}/xAPI/", username=self.username, password=self.password,
                           course_iri=self.course_iri, timeout=2.0, retry_seconds=0.5)

    def config(self) -> dict:
        """The course's LRS setting (``clientcare_lrs.json``) for this LRS."""
        return {"endpoint": f"{self.url}/xAPI/", "username": self.username, "password": self.password,
                "course_iri": self.course_iri}

    def start(self, timeout: float = 30.0) -> "RalphLRS":
        self.folder.mkdir(parents=True, exist_ok=True)
        auth = write_auth_file(self.folder / "auth.json", {self.username: (self.password, ["all"])})
        env = {**os.environ, "RALPH_RUNSERVER_BACKEND": "fs", "RALPH_APP_DIR": str(self.folder / "app"),
               "RALPH_AUTH_FILE": str(auth), "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(self.folder),
               "RALPH_SENTRY_DSN": ""}
        self.log = open(self.folder / "ralph.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "clientcare.instructor.ralph_app:app", "--host", self.host, "--port", str(self.port),
             "--log-level", "warning"],
            cwd=self.folder, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Ralph stopped at start: {(self.folder / 'ralph.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/__heartbeat__", timeout=1) as reply:
                    if reply.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"Ralph did not answer on {self.url} within {timeout:g} s")

    def pause(self) -> None:
        """Freeze the LRS (SIGSTOP): connections are accepted but never answered, as when a server hangs."""
        os.killpg(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.killpg(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGCONT)  # a paused server cannot act on SIGTERM
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self.process = None
        if getattr(self, "log", None):
            self.log.close()

    def __enter__(self) -> "RalphLRS":
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()
