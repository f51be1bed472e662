"""The learner bundle (`clientcare publish`): lessons and the learner-facing package, never a
solution, a hidden test, a test suite or grading code."""
import json
import shutil
import subprocess

import pytest

from clientcare.catalogue import lessons_dir
from clientcare.instructor.publish import LeakError, check_bundle, publish
from notebooks import REPO


@pytest.fixture
def bundle(tmp_path):
    dest = tmp_path / "bundle"
    publish(lessons_dir(REPO), dest)
    return dest


def test_the_bundle_holds_the_lessons_and_the_learner_package(bundle):
    lessons = sorted(p.name for p in (bundle / "lessons").glob("*.ipynb"))
    assert lessons == sorted(p.name for p in lessons_dir(REPO).glob("*.ipynb"))
    assert (bundle / "clientcare" / "__init__.py").is_file()
    assert (bundle / "clientcare" / "content" / "scenarios").is_dir()
    assert subprocess.run(["git", "-C", str(bundle), "log", "--oneline"], capture_output=True,
                          text=True).stdout.strip(), "the bundle is a git repository with a commit (for nbgitpuller)"


def test_the_bundle_holds_no_solution_hidden_test_or_grading_code(bundle):
    files = [p for p in bundle.rglob("*") if p.is_file() and ".git" not in p.relative_to(bundle).parts]
    names = {part for p in files for part in p.relative_to(bundle).parts}
    assert not names & {"instructor", "tests", "source", "submitted", "autograded", "feedback", "release"}
    for path in files:
        text = path.read_text(errors="replace")
        for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "clientcare.instructor", "from .instructor", "grade_cohort"):
            assert marker not in text, f"{path.relative_to(bundle)} contains {marker!r}"
    for notebook in (bundle / "lessons").glob("*.ipynb"):
        cells = json.loads(notebook.read_text())["cells"]
        assert all(not c.get("outputs") for c in cells if c["cell_type"] == "code"), f"{notebook.name} has outputs"


def test_a_solution_slipped_into_a_lesson_stops_publishing_and_names_the_file(tmp_path):
    lessons = tmp_path / "lessons"
    shutil.copytree(lessons_dir(REPO), lessons)
    notebook = json.loads((lessons / "01-responsibility-to-clients.ipynb").read_text())
    notebook["cells"].append({"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                              "source": ["### BEGIN SOLUTION\n", "answer = 42\n", "### END SOLUTION\n"]})
    (lessons / "01-responsibility-to-clients.ipynb").write_text(json.dumps(notebook))
    with pytest.raises(LeakError, match="01-responsibility-to-clients.ipynb"):
        publish(lessons, tmp_path / "bundle")
    assert not (tmp_path / "bundle" / ".git").exists(), "nothing is committed when a leak is found"


def test_republishing_commits_a_new_version_in_the_same_repository(bundle, tmp_path):
    first = subprocess.run(["git", "-C", str(bundle), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    lessons = tmp_path / "lessons"
    shutil.copytree(lessons_dir(REPO), lessons)
    (lessons / "01-responsibility-to-clients.ipynb").write_text(
        (lessons / "01-responsibility-to-clients.ipynb").read_text().replace("client", "Client", 1))
    second = publish(lessons, bundle)
    assert second != first.strip()
    count = subprocess.run(["git", "-C", str(bundle), "rev-list", "--count", "HEAD"], capture_output=True, text=True)
    assert count.stdout.strip() == "2", "learners' nbgitpuller merges the new version into their copy"


def test_check_bundle_refuses_instructor_folders(tmp_path):
    (tmp_path / "clientcare" / "instructor").mkdir(parents=True)
    (tmp_path / "clientcare" / "instructor" / "grading.py").write_text("x = 1\n")
    with pytest.raises(LeakError, match="instructor"):
        check_bundle(tmp_path)
