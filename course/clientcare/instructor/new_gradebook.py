"""A new gradebook, made in this process exactly as nbgrader makes one.

nbgrader's ``Gradebook``, opening an empty database, creates its tables and records the alembic revision
they are at (so that ``nbgrader db upgrade`` knows where to start). It learns that revision by running the
``alembic heads`` command: a new Python process for every new gradebook (about 1 CPU-second, more than
making the tables), and ``FileNotFoundError: 'alembic'`` wherever the virtualenv's ``bin`` folder is not on
``PATH`` (a cron job, ``.venv/bin/python -m clientcare`` without activating it).

:func:`create_gradebook` reads the same revision from nbgrader's own migration scripts with alembic's
Python API instead, then writes what nbgrader writes: its tables and the ``alembic_version`` row. The
database is then no longer empty, so nbgrader's commands and ``Gradebook`` afterwards use it as it is.
A database that already has tables is left alone. ``tests/instructor/test_new_gradebook.py`` compares the
result with a gradebook stock nbgrader made.
"""
from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def alembic_head() -> str:
    """The revision nbgrader's migration scripts lead to (what ``alembic heads`` prints for them)."""
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    heads = ScriptDirectory(ALEMBIC_DIR).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"nbgrader's migration scripts in {ALEMBIC_DIR} have {len(heads)} heads, not one: "
                           "this nbgrader installation is broken")
    return heads[0]


def create_gradebook(db_url: str) -> bool:
    """Make the gradebook at ``db_url`` if its database has no tables yet; True if it was made here.

    A SQLite file is created if missing, as nbgrader creates it; a PostgreSQL database must exist (empty).
    """
    from nbgrader.api import Base
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(db_url, future=True)
    try:
        if inspect(engine).get_table_names():
            return False
        with engine.begin() as connection:  # all or nothing: a half-made gradebook would look like a made one
            Base.metadata.create_all(bind=connection)
            connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:head)"),
                               {"head": alembic_head()})
        return True
    finally:
        engine.dispose()
