"""A grading worker's gradebooks share one SQLAlchemy engine per database: nbgrader's queries compile once."""
import os

import nbgrader.api
import pytest
from nbgrader.api import Gradebook
from sqlalchemy.sql import compiler

from clientcare.instructor.course import tools_on_path
from clientcare.instructor.shared_engine import share_engines


@pytest.fixture
def compilations(monkeypatch):
    """Counts SQL compilations (nbgrader's queries, its table checks, anything else) from now on."""
    monkeypatch.setattr(nbgrader.api, "create_engine", nbgrader.api.create_engine)  # put back afterwards
    monkeypatch.setenv("PATH", tools_on_path(dict(os.environ))["PATH"])  # a new gradebook runs `alembic`
    count = [0]
    original = compiler.Compiled.__init__

    def counting(self, *args, **kwargs):
        count[0] += 1
        original(self, *args, **kwargs)

    monkeypatch.setattr(compiler.Compiled, "__init__", counting)
    return count


def one_learner(url: str, student: str):
    """What grading a learner does to the gradebook, in small: a Gradebook opened, written, read, closed."""
    with Gradebook(url) as gradebook:
        gradebook.update_or_create_student(student, first_name="Synthetic", last_name="Learner")
        assert gradebook.find_student(student).first_name == "Synthetic"
        return gradebook.engine


def test_later_learners_compile_no_query_again_and_see_every_earlier_write(tmp_path, compilations):
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    assert share_engines(), "this nbgrader does not open its gradebook with sqlalchemy.create_engine"
    first = one_learner(url, "learner-1")
    after_first = compilations[0]
    assert after_first > 0
    engines = [one_learner(url, f"learner-{n}") for n in (2, 3)]
    assert all(engine is first for engine in engines)
    assert compilations[0] == after_first, "a later learner compiled nbgrader's queries again"
    with Gradebook(url) as gradebook:  # each Gradebook's own session, committed: every write is there
        assert sorted(s.id for s in gradebook.students) == ["learner-1", "learner-2", "learner-3"]


def test_without_sharing_every_gradebook_compiles_its_queries_again(tmp_path, compilations):
    """The cost share_engines removes (this is nbgrader's own behaviour: a new engine per Gradebook)."""
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    first = one_learner(url, "learner-1")
    after_first = compilations[0]
    assert one_learner(url, "learner-2") is not first
    assert compilations[0] > after_first


def test_each_database_keeps_its_own_engine_and_sharing_twice_changes_nothing(tmp_path, compilations):
    assert share_engines() and share_engines()
    one, other = (f"sqlite:///{tmp_path / name}" for name in ("one.db", "other.db"))
    assert one_learner(one, "a") is one_learner(one, "b")
    assert one_learner(other, "c") is not one_learner(one, "d")
    with Gradebook(other) as gradebook:
        assert [s.id for s in gradebook.students] == ["c"]
