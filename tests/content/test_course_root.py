"""One course root: how the lessons, the progress page and the launcher find the course folder."""
from __future__ import annotations

from pathlib import Path

import pytest

from clientcare.catalogue import COURSE_DIR_VARIABLE, course_root, lessons_dir


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A course folder with a learner workspace inside it, as `make lab` lays it out."""
    monkeypatch.delenv(COURSE_DIR_VARIABLE, raising=False)
    (tmp_path / "course" / "lessons").mkdir(parents=True)
    (tmp_path / "nbgrader_config.py").write_text("")
    workspace = tmp_path / "learner" / "assignments" / "fee-proposals"
    workspace.mkdir(parents=True)
    (tmp_path / "learner" / "nbgrader_config.py").write_text("")  # the learner's own, which has no lessons
    return tmp_path


def test_found_from_a_folder_deep_inside_it_past_the_learners_own_config(course, monkeypatch):
    monkeypatch.chdir(course / "learner" / "assignments" / "fee-proposals")
    assert course_root() == course.resolve()
    assert lessons_dir() == course.resolve() / "course" / "lessons"


def test_the_launchers_setting_wins(course, tmp_path_factory, monkeypatch):
    other = tmp_path_factory.mktemp("other-course")
    monkeypatch.chdir(course)
    monkeypatch.setenv(COURSE_DIR_VARIABLE, str(other))
    assert course_root() == other.resolve()


def test_outside_any_course_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(COURSE_DIR_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)
    assert course_root() == tmp_path.resolve()


def test_the_package_does_not_locate_the_course_from_its_own_install_path():
    package = Path(__import__("clientcare").__file__).parent
    offenders = [str(path.relative_to(package)) for path in package.rglob("*.py") if "parents[" in path.read_text()]
    assert offenders == []
