"""Shared test set-up.

Learners' saved answers go to a throwaway folder for the whole run (kernels that
nbval starts inherit it), so tests never touch a real learner's files.

The suite runs in parallel (``make test``: ``pytest -n auto --dist loadgroup``, pytest-xdist). What
must share one worker is grouped here (``pytest_collection_modifyitems``): every test of a module
that uses a module-scoped fixture runs on the worker that made it (a graded cohort is graded once);
a module can split that work by a parameter (``XDIST_SPLIT_BY = "assignment"``); the real-browser
tests share one worker (one Chromium, one JupyterLab, numbered screenshots), the trial hub test has a
group of its own. Everything else spreads over the workers.

Work that many modules need is done once for the whole run, on whichever worker asks first, and
shared read-only by every worker (``shared_work.built_once``): the course with every assignment generated
(``released_template``; copy it with ``cohorts.copy_course`` to grade in it) and the cohort graded by
stock ``nbgrader autograde`` (``stock_cohort``). A PostgreSQL server is started once per worker
(``postgres_server``); each module gets a database of its own (``postgres_url``).
"""
from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from cohorts import copy_course
from shared_work import built_once

os.environ["CLIENTCARE_HOME"] = tempfile.mkdtemp(prefix="clientcare-test-home-")
os.environ.setdefault("MPLBACKEND", "Agg")

BROWSER_TESTS = Path(__file__).parent / "browser"
SHARED_SCOPES = ("module", "class", "package")


# ---------------------------------------------------------------- which tests share a worker

def _group(item) -> str | None:
    """The xdist group of ``item`` (None: it may run on any worker)."""
    path = Path(str(item.path))
    if path == BROWSER_TESTS / "test_trial_hub.py":
        return "hub"  # the longest test of all (it installs a hub): on a worker of its own from the start
    if path.is_relative_to(BROWSER_TESTS):
        return "browser"
    defs = getattr(item, "_fixtureinfo", None)
    scopes = {d.scope for defs_ in (defs.name2fixturedefs.values() if defs else ()) for d in defs_}
    if not scopes & set(SHARED_SCOPES):
        return None
    group = item.nodeid.split("::")[0]
    split_by = getattr(item.module, "XDIST_SPLIT_BY", None)
    callspec = getattr(item, "callspec", None)
    if split_by and callspec is not None and split_by in callspec.params:
        group += f"[{callspec.params[split_by]}]"
    return group


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            group = _group(item)
            if group:
                item.add_marker(pytest.mark.xdist_group(group))


# ---------------------------------------------------------------- slot users: removed when the whole run ends

SLOT_USERS_BEFORE = pytest.StashKey[set]()


def _is_controller(config) -> bool:
    """Whether this process runs the whole session: xdist's controller, or a run without workers."""
    return not hasattr(config, "workerinput")


def pytest_sessionstart(session):
    """Note the grading sandbox's slot users (``clientcare-sbx<N>``, made as root) that exist before the run."""
    if _is_controller(session.config) and os.geteuid() == 0:
        from clientcare.instructor import sandbox

        session.config.stash[SLOT_USERS_BEFORE] = set(sandbox.slot_users())


def pytest_sessionfinish(session):
    """Remove the slot users this run made, once every worker has finished (any test of any worker may have
    made one: a grading in a subprocess, the installed package's, the trial hub's). A user whose slot is
    still held (a process of it still ending) is tried again for a few seconds, then named."""
    before = session.config.stash.get(SLOT_USERS_BEFORE, None)
    if before is None:
        return
    import time

    from clientcare.instructor import sandbox, warm

    warm.close_all()
    deadline = time.monotonic() + 15
    while True:
        created = [name for name in sandbox.slot_users() if name not in before]
        removed = sandbox.remove_slot_users(names=created)
        left = [name for name in created if name not in removed]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if left:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = f"slot users made by this run and still in use at its end, not removed: {', '.join(left)}"
        if reporter:
            reporter.write_line(message, red=True)
        else:
            print(message)


# ---------------------------------------------------------------- built once for the whole run

@pytest.fixture(scope="session")
def released_template(tmp_path_factory) -> Path:
    """A scratch course with every assignment generated (`nbgrader generate_assignment`), made once per run.

    Read-only: grade in a copy (``copy_course(released_template, tmp_path / "course")``).
    """
    from clientcare.instructor.course import make_scratch_course

    from notebooks import REPO

    def build(folder: Path) -> None:
        course = make_scratch_course(folder / "course", REPO)
        for assignment in course.assignments():
            course.nbgrader("generate_assignment", assignment, "--force", isolated=True)

    return built_once(tmp_path_factory, "released", build) / "course"


@pytest.fixture(scope="session")
def stock_cohort(tmp_path_factory, released_template):
    """``cohorts.COHORT`` graded by stock ``nbgrader autograde`` (one process, one learner after another), once.

    Read-only: the reference other graders' grades must equal.
    """
    import cohorts
    from clientcare.instructor.course import Course

    def build(folder: Path) -> None:
        course = cohorts.cohort_course(copy_course(released_template, folder / "course",
                                                   assignments=[cohorts.ASSIGNMENT]))
        course.nbgrader("autograde", cohorts.ASSIGNMENT, "--force", isolated=True)

    return Course(built_once(tmp_path_factory, "stock-cohort", build) / "course")


# ---------------------------------------------------------------- PostgreSQL

def _server_bin() -> str | None:
    """The folder holding initdb and pg_ctl: on PATH, or Debian's /usr/lib/postgresql/<version>/bin."""
    if shutil.which("initdb") and shutil.which("pg_ctl"):
        return str(Path(shutil.which("initdb")).parent)
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return str(found[-1].parent) if found else None


def _postgres_unavailable() -> str:
    if _server_bin() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) are not installed: `make test` installs them"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "there is no 'postgres' user to run the server as"
    if os.geteuid() != 0:
        return "starting a server as the 'postgres' user needs root"
    return ""


class PostgresServer:
    """A throwaway PostgreSQL server listening only on a socket in its own folder."""

    def __init__(self, folder: Path, server_bin: Path):
        self.folder, self.bin = folder, server_bin
        self.databases = 0

    def as_postgres(self, *command: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True)

    def new_database(self) -> str:
        """The URL of a new, empty database on this server."""
        self.databases += 1
        name = f"clientcare{self.databases}"
        createdb = str(self.bin / "createdb") if (self.bin / "createdb").exists() else "createdb"
        self.as_postgres(createdb, "-h", str(self.folder), name)
        return f"postgresql://postgres@/{name}?host={self.folder}"


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server for this worker (the machine's own binaries, run as the `postgres` user)."""
    reason = _postgres_unavailable()
    if reason:
        pytest.skip(reason)
    folder = Path(tempfile.mkdtemp(prefix="clientcare-pg-"))  # pytest's own tmp is closed to other users
    shutil.chown(folder, "postgres", "postgres")
    server = PostgresServer(folder, Path(_server_bin()))
    data = folder / "data"
    pg_ctl = str(server.bin / "pg_ctl")
    server.as_postgres(str(server.bin / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
    server.as_postgres(pg_ctl, "-D", str(data), "-l", str(folder / "log"), "-w", "start",
                       "-o", f"-k {folder} -c listen_addresses=''")
    try:
        yield server
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--", pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres_url(postgres_server) -> str:
    """A new, empty PostgreSQL database for this module's tests."""
    return postgres_server.new_database()


# ---------------------------------------------------------------- small fixtures

@pytest.fixture
def learner_home(tmp_path, monkeypatch):
    """A fresh, empty data folder for one learner."""
    home = tmp_path / "learner"
    monkeypatch.setenv("CLIENTCARE_HOME", str(home))
    return home


@pytest.fixture
def content_dir(tmp_path, monkeypatch):
    """An empty content folder (one subfolder per kind in the registry) read instead of the course's own."""
    from clientcare import content
    from clientcare.registry import content_kinds

    folder = tmp_path / "content"
    for kind in content_kinds():
        (folder / kind.folder).mkdir(parents=True)
    monkeypatch.setattr(content, "CONTENT_DIR", folder)
    return folder
