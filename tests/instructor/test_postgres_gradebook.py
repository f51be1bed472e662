"""Parallel grading against a PostgreSQL gradebook, as a cohort on JupyterHub would use.

Starts a throwaway PostgreSQL server (the machine's own binaries, run as the
`postgres` user, listening only on a socket in a temporary folder).
"""
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from clientcare.cli import main
from clientcare.instructor.course import make_scratch_course
from clientcare.instructor.grading import grade_cohort
from clientcare.instructor.results import question_scores
from clientcare.instructor.synthetic import ALL, Learner, submit
from notebooks import REPO

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ASSIGNMENT = "fee-proposals"


def _server_bin() -> str | None:
    """The folder holding initdb and pg_ctl: on PATH, or Debian's /usr/lib/postgresql/<version>/bin."""
    if shutil.which("initdb") and shutil.which("pg_ctl"):
        return str(Path(shutil.which("initdb")).parent)
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return str(found[-1].parent) if found else None


def _postgres_available() -> str:
    if _server_bin() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) are not installed: `make test` installs them"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "there is no 'postgres' user to run the server as"
    if os.geteuid() != 0:
        return "starting a server as the 'postgres' user needs root"
    return ""


@pytest.fixture(scope="module")
def postgres_url():
    reason = _postgres_available()
    if reason:
        pytest.skip(reason)
    folder = Path(tempfile.mkdtemp(prefix="clientcare-pg-"))  # pytest's own tmp is closed to other users
    shutil.chown(folder, "postgres", "postgres")
    data, socket = folder / "data", folder
    as_postgres = ["runuser", "-u", "postgres", "--"]
    server = Path(_server_bin())
    initdb, pg_ctl = str(server / "initdb"), str(server / "pg_ctl")
    createdb = str(server / "createdb") if (server / "createdb").exists() else "createdb"
    subprocess.run(as_postgres + [initdb, "-D", str(data), "-A", "trust", "-U", "postgres"],
                   check=True, capture_output=True)
    subprocess.run(as_postgres + [pg_ctl, "-D", str(data), "-l", str(folder / "log"), "-w", "start",
                                  "-o", f"-k {socket} -c listen_addresses=''"], check=True, capture_output=True)
    try:
        subprocess.run(as_postgres + [createdb, "-h", str(socket), "clientcare"], check=True, capture_output=True)
        yield f"postgresql://postgres@/clientcare?host={socket}"
    finally:
        subprocess.run(as_postgres + [pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def test_parallel_grading_with_a_postgresql_gradebook(postgres_url, tmp_path):
    course = make_scratch_course(tmp_path / "course", REPO, db_url=postgres_url)
    assert course.db_url == postgres_url
    course.nbgrader("generate_assignment", ASSIGNMENT, "--force", isolated=True)
    cohort = [Learner("ada", {ASSIGNMENT: ALL}), Learner("ben", {}),
              Learner("chloe", {ASSIGNMENT: ["validate-resourcing", "cost-lines"]})]
    for learner in cohort:
        submit(course, learner, ASSIGNMENT)
    outcomes = grade_cohort(course.root, ASSIGNMENT, workers=2)
    assert all(o.ok for o in outcomes), [o.message for o in outcomes]
    totals = question_scores(postgres_url, ASSIGNMENT).groupby("student")["score"].sum().to_dict()
    assert totals == {"ada": 36, "ben": 0, "chloe": 8}
    assert not (course.root / "gradebook.db").exists(), "grades must go to PostgreSQL, not SQLite"
    # the report reads the course's PostgreSQL gradebook from its configuration, no environment variable
    assert main(["report", "--course", str(course.root)]) == 0
    html = (course.root / "reports" / "cohort-report.html").read_text()
    assert "3 learners, 1 assignments" in html
    assert not (course.root / "gradebook.db").exists()
