"""The foreign-key indexes formgrader needs on a large cohort (clientcare.instructor.gradebook_indexes):
added once, used by the database, and invisible to nbgrader (same results, `nbgrader db upgrade` works)."""
import os
import shutil
import sqlite3
import subprocess
import sys

import pytest
from nbgrader.api import Gradebook

from clientcare.instructor.course import tools_on_path
from clientcare.instructor.gradebook_indexes import FOREIGN_KEYS, add_indexes, index_name, main
from clientcare.instructor.synthetic_gradebook import build_gradebook


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    path = tmp_path_factory.mktemp("indexes") / "gradebook.db"
    build_gradebook(f"sqlite:///{path}", learners=12, assignments=2, tests=3, seed=3)
    return path


@pytest.fixture
def gradebook(built, tmp_path):
    """A fresh copy of the small synthetic gradebook, without the indexes."""
    return shutil.copy(built, tmp_path / "gradebook.db")


def indexes(path):
    with sqlite3.connect(path) as db:
        return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}


def plan(path, sql):
    with sqlite3.connect(path) as db:
        return " ".join(row[-1] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", ("x",)))


def manage_submissions(url):
    with Gradebook(url) as gb:
        return {a.name: sorted(gb.submission_dicts(a.name), key=lambda s: s["id"]) for a in gb.assignments}


def test_the_indexes_are_added_once_and_used(gradebook):
    url = f"sqlite:///{gradebook}"
    before = manage_submissions(url)
    assert "USING INDEX" not in plan(gradebook, "SELECT * FROM grade WHERE notebook_id = ?")  # nbgrader: a full scan
    assert sorted(add_indexes(url)) == sorted(index_name(*key) for key in FOREIGN_KEYS)
    assert add_indexes(url) == []  # already there: nothing to do
    for table, column in FOREIGN_KEYS:
        assert f"USING INDEX {index_name(table, column)}" in plan(
            gradebook, f"SELECT * FROM {table} WHERE {column} = ?"), (table, column)
    assert manage_submissions(url) == before  # formgrader's Manage submissions rows, unchanged


def test_nbgrader_db_upgrade_keeps_working(gradebook, tmp_path):
    add_indexes(f"sqlite:///{gradebook}")
    (tmp_path / "nbgrader_config.py").write_text(f"c = get_config()\nc.CourseDirectory.db_url = 'sqlite:///{gradebook}'\n")
    run = subprocess.run([sys.executable, "-m", "nbgrader", "db", "upgrade"], cwd=tmp_path, capture_output=True,
                         text=True, env=tools_on_path(dict(os.environ)))
    assert run.returncode == 0, run.stderr[-2000:]
    assert {index_name(*key) for key in FOREIGN_KEYS} <= indexes(gradebook)
    with Gradebook(f"sqlite:///{gradebook}") as gb:
        assert len(gb.students) == 12


def test_a_missing_or_foreign_database_is_named_and_left_alone(tmp_path, capsys):
    missing = tmp_path / "none.db"
    assert main(["--db-url", f"sqlite:///{missing}"]) == 1
    assert "there is no gradebook at" in capsys.readouterr().err and not missing.exists()
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE grade (id TEXT)").connection.close()
    assert main(["--db-url", f"sqlite:///{other}"]) == 1
    assert "is not an nbgrader gradebook" in capsys.readouterr().err and indexes(other) == set()


@pytest.mark.slow  # generates an assignment with nbgrader (about 15 s)
def test_clientcare_release_gives_a_new_gradebook_the_indexes(tmp_path, capsys):
    """An instructor who never heard of the indexes gets them: `clientcare release` adds them to the
    gradebook it creates, once."""
    from clientcare import cli
    from clientcare.instructor.course import make_scratch_course
    from notebooks import REPO

    course = make_scratch_course(tmp_path / "course", REPO)
    assert cli.main(["release", "confidentiality", "--course", str(course.root)]) == 0
    path = course.root / "gradebook.db"
    assert {index_name(t, c) for t, c in FOREIGN_KEYS} <= indexes(path)
    assert "Added the indexes formgrader needs" in capsys.readouterr().out
    assert cli.main(["release", "confidentiality", "--course", str(course.root)]) == 0
    assert "Added the indexes" not in capsys.readouterr().out  # once
