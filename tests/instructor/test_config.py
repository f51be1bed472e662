"""One course root, configuration read as nbgrader reads it, one gradebook URL.

Each test makes a course folder holding only the course's nbgrader_config.py and
points Jupyter's user and system config folders at scratch folders, then compares
what clientcare resolves with what stock nbgrader resolves in a fresh process.
"""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from clientcare.cli import build_parser, main
from clientcare.instructor.config import (
    MISSING_POSTGRESQL_URL, GradebookError, course_config, existing_gradebook, gradebook_url,
)
from clientcare.instructor.course import make_scratch_course
from notebooks import REPO

# What stock nbgrader (`nbgrader autograde`, run in the course folder) ends up with.
NBGRADER_SEES = """
import json
from nbgrader.apps.autogradeapp import AutogradeApp
app = AutogradeApp()
app.initialize([])
print(json.dumps({"db_url": app.coursedir.db_url, "exchange": app.config.Exchange.root,
                  "root": app.coursedir.root, "timeout": app.config.ExecutePreprocessor.timeout}))
"""


@pytest.fixture
def jupyter(tmp_path, monkeypatch):
    """Scratch config folders: the user's (~/.jupyter) and one on $JUPYTER_CONFIG_PATH (as a hub sets)."""
    user, system = tmp_path / "user-jupyter", tmp_path / "system-jupyter"
    user.mkdir()
    system.mkdir()
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(user))
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(system))
    for name in ("CLIENTCARE_DB_URL", "CLIENTCARE_EXCHANGE"):
        monkeypatch.delenv(name, raising=False)
    return user, system


@pytest.fixture
def course(tmp_path):
    root = tmp_path / "course"
    root.mkdir()
    shutil.copy2(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    return root


def nbgrader_sees(root: Path) -> dict:
    result = subprocess.run([sys.executable, "-c", NBGRADER_SEES], cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def clientcare_sees(root: Path) -> dict:
    config = course_config(root)
    return {"db_url": gradebook_url(root, config), "exchange": config.Exchange.root, "root": str(root),
            "timeout": config.ExecutePreprocessor.timeout}


@pytest.mark.slow
def test_laptop_defaults_are_the_course_folders(jupyter, course):
    seen = nbgrader_sees(course)
    assert seen == clientcare_sees(course)
    assert seen["db_url"] == f"sqlite:///{course / 'gradebook.db'}"
    assert seen["exchange"] == str(course / "exchange") and seen["root"] == str(course)


@pytest.mark.slow
def test_a_system_config_gradebook_and_exchange_are_kept(jupyter, course):
    """What the course file's docstring promises: /etc/jupyter's cohort settings are not clobbered."""
    _, system = jupyter
    (system / "nbgrader_config.py").write_text(
        'c.CourseDirectory.db_url = "postgresql://grader@db.example/clientcare"\n'
        'c.Exchange.root = "/srv/nbgrader/exchange"\n'
        "c.ExecutePreprocessor.timeout = 99\n")
    seen = nbgrader_sees(course)
    assert seen == clientcare_sees(course)
    assert seen["db_url"] == "postgresql://grader@db.example/clientcare"
    assert seen["exchange"] == "/srv/nbgrader/exchange"
    assert seen["timeout"] == 30  # the course file's own grading settings still come last


@pytest.mark.slow
def test_config_folders_are_read_in_nbgraders_order(jupyter, course):
    """`jupyter --paths` order: $JUPYTER_CONFIG_PATH first, then ~/.jupyter, then the system folders."""
    user, path_folder = jupyter
    (user / "nbgrader_config.py").write_text('c.Exchange.root = "/srv/user-exchange"\n'
                                             "c.ExecutePreprocessor.startup_timeout = 7\n")
    (path_folder / "nbgrader_config.py").write_text('c.Exchange.root = "/srv/config-path-exchange"\n')
    seen = nbgrader_sees(course)
    assert seen == clientcare_sees(course) and seen["exchange"] == "/srv/config-path-exchange"
    assert course_config(course).ExecutePreprocessor.startup_timeout == 60  # the course file comes last


@pytest.mark.slow
def test_environment_settings_outrank_config_files(jupyter, course, monkeypatch):
    _, system = jupyter
    (system / "nbgrader_config.py").write_text('c.CourseDirectory.db_url = "postgresql://grader@db.example/x"\n')
    monkeypatch.setenv("CLIENTCARE_DB_URL", "postgresql://grader@other.example/y")
    monkeypatch.setenv("CLIENTCARE_EXCHANGE", "/tmp/one-run-exchange")
    seen = nbgrader_sees(course)
    assert seen == clientcare_sees(course)
    assert (seen["db_url"], seen["exchange"]) == ("postgresql://grader@other.example/y", "/tmp/one-run-exchange")


@pytest.mark.slow
def test_a_postgresql_course_without_a_url_fails_clearly_and_creates_no_gradebook(jupyter, course, capsys):
    _, system = jupyter
    (system / "nbgrader_config.py").write_text('c.ClientCare.gradebook = "postgresql"\n')
    with pytest.raises(GradebookError, match="no PostgreSQL URL is configured"):
        gradebook_url(course)
    assert nbgrader_sees(course)["db_url"] == MISSING_POSTGRESQL_URL  # stock nbgrader fails too, on a non-SQLite URL
    assert main(["report", "--course", str(course)]) == 1
    assert main(["export", "--course", str(course)]) == 1
    assert "set CLIENTCARE_DB_URL" in capsys.readouterr().err
    assert not (course / "gradebook.db").exists()
    (system / "nbgrader_config.py").write_text('c.ClientCare.gradebook = "postgresql"\n'
                                               'c.CourseDirectory.db_url = "postgresql://grader@db.example/z"\n')
    assert gradebook_url(course) == "postgresql://grader@db.example/z"


def test_reading_a_course_that_has_graded_nothing_creates_no_gradebook(jupyter, course, capsys):
    with pytest.raises(GradebookError, match="there is no gradebook at"):
        existing_gradebook(gradebook_url(course))
    assert main(["export", "--course", str(course)]) == 1
    assert "nothing has been graded in this course yet" in capsys.readouterr().err
    assert not (course / "gradebook.db").exists()


def test_a_folder_without_nbgrader_config_is_not_a_course(tmp_path, capsys):
    assert main(["export", "--course", str(tmp_path)]) == 1
    assert "is not a course folder" in capsys.readouterr().err


@pytest.mark.slow
def test_scratch_courses_keep_their_own_gradebook_whatever_the_system_says(jupyter, tmp_path, monkeypatch):
    _, system = jupyter
    (system / "nbgrader_config.py").write_text('c.CourseDirectory.db_url = "postgresql://grader@db.example/live"\n'
                                               'c.Exchange.root = "/srv/nbgrader/exchange"\n')
    monkeypatch.setenv("CLIENTCARE_DB_URL", "postgresql://grader@db.example/live")
    scratch = make_scratch_course(tmp_path / "scratch", REPO)
    seen = nbgrader_sees(scratch.root)
    assert seen == clientcare_sees(scratch.root)
    assert seen["db_url"] == scratch.db_url == f"sqlite:///{scratch.root / 'gradebook.db'}"
    assert seen["exchange"] == str(scratch.root / "exchange")


@pytest.mark.parametrize("command", [["check"], ["release"], ["grade", "fees"], ["export"], ["report"], ["demo"]])
def test_every_instructor_command_takes_the_course_folder(command):
    assert build_parser().parse_args(command).course == "."  # the current directory, as nbgrader
    assert build_parser().parse_args([*command, "--course", "/srv/course"]).course == "/srv/course"


@pytest.mark.slow
def test_a_config_on_the_path_that_loads_the_course_file_does_not_loop(jupyter, course):
    """The learner's JupyterLab view puts such a file on the config path (clientcare/jupyter/learner)."""
    _, path_folder = jupyter
    (path_folder / "nbgrader_config.py").write_text(
        f"load_subconfig({str(course / 'nbgrader_config.py')!r})\n"
        'c.Exchange.assignment_dir = "/tmp/learner-assignments"\n')
    seen = nbgrader_sees(course)
    assert seen == clientcare_sees(course)
    assert seen["db_url"] == f"sqlite:///{course / 'gradebook.db'}" and seen["exchange"] == str(course / "exchange")
    assert course_config(course).Exchange.assignment_dir == "/tmp/learner-assignments"
