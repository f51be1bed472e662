"""Indexes on the gradebook's foreign keys that nbgrader's schema leaves out, for formgrader on a large cohort.

nbgrader's tables have an index on a foreign key only where it leads a unique constraint. Four foreign
keys whose tables grow with the cohort have none: ``submitted_assignment.student_id``,
``submitted_notebook.assignment_id``, ``grade.notebook_id`` and ``comment.notebook_id``. Every join
through them (``Gradebook.submission_dicts`` behind formgrader's Manage submissions list, a learner's
submissions, a submission's notebooks and grades) reads the whole table, once per row on the other side,
which is why formgrader's pages take tens of seconds at a thousand learners (nbgrader #785, #799;
``benchmarks/export_and_report.py`` times them with and without these indexes).

Adding them changes no table, row or result, only how the database finds rows; running it again does
nothing. The statement is ``CREATE INDEX IF NOT EXISTS``, which SQLite and PostgreSQL both accept (the
tests run it on SQLite). nbgrader's own code
and ``nbgrader db upgrade`` work as before (tests/instructor/test_gradebook_indexes.py checks both).

    python -m clientcare.instructor.gradebook_indexes --course DIR     # the course's gradebook
    python -m clientcare.instructor.gradebook_indexes --db-url URL
"""
from __future__ import annotations

import argparse
import sys

# (table, column): nbgrader's foreign keys that grow with the cohort and lead no unique constraint
FOREIGN_KEYS = (
    ("submitted_assignment", "student_id"),
    ("submitted_notebook", "assignment_id"),
    ("grade", "notebook_id"),
    ("comment", "notebook_id"),
)


def index_name(table: str, column: str) -> str:
    return f"ix_clientcare_{table}_{column}"


def add_indexes(db_url: str) -> list[str]:
    """Create the indexes the gradebook at ``db_url`` (which must exist) lacks; returns the names created."""
    from sqlalchemy import create_engine, inspect, text

    from .config import existing_gradebook

    engine = create_engine(existing_gradebook(db_url))
    try:
        tables = set(inspect(engine).get_table_names())
        missing = [(table, column) for table, column in FOREIGN_KEYS if table not in tables]
        if missing:
            raise ValueError(f"{db_url} is not an nbgrader gradebook: it has no table {missing[0][0]!r}")
        created = []
        with engine.begin() as connection:
            for table, column in FOREIGN_KEYS:
                present = {index["name"] for index in inspect(connection).get_indexes(table)}
                if index_name(table, column) not in present:
                    connection.execute(text(f"CREATE INDEX IF NOT EXISTS {index_name(table, column)} "
                                            f"ON {table} ({column})"))
                    created.append(index_name(table, column))
        return created
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m clientcare.instructor.gradebook_indexes", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--course", default=".", help="the course folder (default: the current one)")
    parser.add_argument("--db-url", help="the gradebook's URL (default: the course's, as nbgrader resolves it)")
    args = parser.parse_args(argv)
    from .config import GradebookError, gradebook_url

    try:
        created = add_indexes(args.db_url or gradebook_url(args.course))
    except (GradebookError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"Added {', '.join(created)}" if created else "The gradebook already has every index")
    return 0


if __name__ == "__main__":
    sys.exit(main())
