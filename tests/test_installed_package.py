"""The package works installed, not only from this checkout.

Builds a wheel from a copy of the package, installs it (no dependencies: they come from
this environment) into a scratch folder outside the checkout, and runs the instructor
commands from it against a scratch course: everything they read from the package
(content, lesson index, report notebook, stylesheet) must come from the installed copy.
"""
import filecmp
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from clientcare.instructor.course import make_scratch_course
from clientcare.instructor.synthetic import ALL, Learner, submit
from notebooks import REPO, assignment_notebook

pytestmark = pytest.mark.slow

ASSIGNMENT = "fee-proposals"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """Environment variables that run the installed copy of clientcare (and only it)."""
    scratch = tmp_path_factory.mktemp("installed")
    tree = scratch / "tree"  # the package as it would be shipped, built outside the checkout
    shutil.copytree(REPO / "course" / "clientcare", tree / "course" / "clientcare",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, tree / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(scratch / "wheels"), str(tree)],
                   check=True, capture_output=True, text=True)
    wheel = next((scratch / "wheels").glob("clientcare-*.whl"))
    site = scratch / "site"
    subprocess.run([*pip, "install", "--no-deps", "--no-build-isolation", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, text=True)
    env = dict(os.environ, PYTHONPATH=str(site), PATH=os.pathsep.join([str(site / "bin"), os.environ["PATH"]]),
               MPLBACKEND="Agg")
    return {"env": env, "site": site}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = make_scratch_course(tmp_path_factory.mktemp("course") / "clientcare", REPO)
    shutil.copytree(REPO / "course" / "lessons", course.root / "course" / "lessons")
    return course


def run(installed, course, *args, check=True) -> subprocess.CompletedProcess:
    result = subprocess.run([str(installed["site"] / "bin" / "clientcare"), *args, "--course", str(course.root)],
                            cwd=course.root.parent, env=installed["env"], capture_output=True, text=True)
    if check:
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result


def test_the_installed_copy_is_the_one_imported(installed, tmp_path):
    probe = ("import clientcare, clientcare.content as c, clientcare.instructor.report as r;"
             "print(clientcare.__file__); print(c.CONTENT_DIR)")
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=installed["env"],
                            capture_output=True, text=True, check=True)
    module, content = result.stdout.split()
    assert Path(module).is_relative_to(installed["site"]) and Path(content).is_relative_to(installed["site"])
    assert (Path(content) / "lessons.yaml").is_file()
    assert (installed["site"] / "clientcare" / "instructor" / "cohort-report.ipynb").is_file()
    assert (installed["site"] / "clientcare" / "static" / "clientcare.css").is_file()


def test_check_reads_the_installed_content_and_the_courses_lessons(installed, course):
    installed_run = run(installed, course, "check", check=False)
    checkout_run = subprocess.run([sys.executable, "-m", "clientcare.cli", "check", "--course", str(REPO)],
                                  cwd=REPO, capture_output=True, text=True)
    assert "Checked " in installed_run.stdout and "no lesson notebooks" not in installed_run.stderr
    assert installed_run.stdout == checkout_run.stdout and installed_run.stderr == checkout_run.stderr
    assert installed_run.returncode == checkout_run.returncode


def test_check_fails_on_a_course_without_lessons(installed, course, tmp_path):
    empty = make_scratch_course(tmp_path / "empty", REPO)
    result = run(installed, empty, "check", check=False)
    assert result.returncode == 1 and "no lesson notebooks here" in result.stderr


def test_release_grade_and_report_run_installed(installed, course):
    run(installed, course, "release", ASSIGNMENT)
    fresh = assignment_notebook(course.root / "release", ASSIGNMENT)
    assert filecmp.cmp(fresh, assignment_notebook(REPO / "release", ASSIGNMENT), shallow=False)
    for learner in (Learner("ada", {ASSIGNMENT: ALL}), Learner("ben", {})):
        submit(course, learner, ASSIGNMENT)
    graded = run(installed, course, "grade", ASSIGNMENT, "--workers", "2")
    assert "Graded 2 of 2 submissions" in graded.stdout
    run(installed, course, "report")
    html = (course.root / "reports" / "cohort-report.html").read_text()
    assert "2 learners, 1 assignments" in html
    run(installed, course, "export")
    by_assignment = (course.root / "export" / "grades-by-assignment.csv").read_text()
    assert "ada" in by_assignment and "ben" in by_assignment
