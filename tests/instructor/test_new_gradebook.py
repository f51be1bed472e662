"""A gradebook made in-process (clientcare.instructor.new_gradebook) is the one stock nbgrader makes.

Stock nbgrader's ``Gradebook`` makes a new gradebook's tables and runs ``alembic heads`` in a subprocess
for the revision it records; ours reads the revision with alembic's API. The result must be the same
database: the same tables, columns, indexes and constraints, the same alembic revision (so ``nbgrader db
upgrade`` starts from the right place), usable by nbgrader; an existing gradebook is never touched.
"""
import os
import sqlite3
import subprocess
import sys

from nbgrader.api import Gradebook, MissingEntry
import pytest

from clientcare.instructor.course import tools_on_path
from clientcare.instructor.new_gradebook import create_gradebook


def schema(path) -> tuple[list, list]:
    """(every table's, index's and trigger's SQL; the alembic_version rows) of a SQLite gradebook."""
    with sqlite3.connect(path) as db:
        sql = sorted(row[0] for row in db.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL"))
        return sql, list(db.execute("SELECT version_num FROM alembic_version"))


def test_a_gradebook_made_here_is_the_one_stock_nbgrader_makes(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", tools_on_path(dict(os.environ))["PATH"])  # stock runs `alembic` by name
    with Gradebook(f"sqlite:///{tmp_path / 'stock.db'}"):
        pass
    assert create_gradebook(f"sqlite:///{tmp_path / 'ours.db'}") is True
    stock, ours = schema(tmp_path / "stock.db"), schema(tmp_path / "ours.db")
    assert ours == stock
    assert len(ours[1]) == 1 and len(ours[1][0][0]) == 12  # one revision, alembic's 12 hex digits

    with Gradebook(f"sqlite:///{tmp_path / 'ours.db'}") as gradebook:  # nbgrader uses it as its own
        gradebook.add_assignment("fee-proposals")
        gradebook.add_student("synthetic-learner")
        assert [a.name for a in gradebook.assignments] == ["fee-proposals"]
    assert schema(tmp_path / "ours.db") == stock  # nbgrader found nothing to add or record


def test_no_alembic_command_is_needed(tmp_path):
    """Where the virtualenv's bin folder is not on PATH, stock nbgrader cannot make a gradebook at all."""
    script = (
        "import sys\n"
        "from clientcare.instructor.new_gradebook import create_gradebook\n"
        "from nbgrader.api import Gradebook\n"
        f"print(create_gradebook('sqlite:///{tmp_path / 'ours.db'}'))\n"
        "try:\n"
        f"    Gradebook('sqlite:///{tmp_path / 'stock.db'}')\n"
        "except FileNotFoundError as error:\n"
        "    print('stock:', error)\n")
    run = subprocess.run([sys.executable, "-c", script], env={**os.environ, "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["True", "stock: [Errno 2] No such file or directory: 'alembic'"]
    with Gradebook(f"sqlite:///{tmp_path / 'ours.db'}") as gradebook:
        assert gradebook.students == []


def test_an_existing_gradebook_is_left_as_it_is(tmp_path):
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    assert create_gradebook(url) is True
    with Gradebook(url) as gradebook:
        gradebook.add_student("synthetic-learner", first_name="Ada")
    before = (tmp_path / "gradebook.db").read_bytes()
    assert create_gradebook(url) is False
    assert (tmp_path / "gradebook.db").read_bytes() == before
    with Gradebook(url) as gradebook:
        assert gradebook.find_student("synthetic-learner").first_name == "Ada"
        with pytest.raises(MissingEntry):
            gradebook.find_assignment("fee-proposals")


def test_a_new_postgresql_gradebook_is_made_in_its_empty_database(postgres_server, monkeypatch):
    from nbgrader.api import Base, get_alembic_version
    from sqlalchemy import create_engine, inspect, text

    url = postgres_server.new_database()
    assert create_gradebook(url) is True
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    finally:
        engine.dispose()
    monkeypatch.setenv("PATH", tools_on_path(dict(os.environ))["PATH"])
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
    assert version == get_alembic_version()  # stock nbgrader's own answer (its `alembic heads`)
    with Gradebook(url) as gradebook:
        gradebook.add_student("synthetic-learner")
    assert create_gradebook(url) is False
