"""The learner bundle: what learners get, and nothing they must not see.

``clientcare publish DEST`` writes the lessons (without outputs) and the learner-facing
part of the ``clientcare`` package (activities and their content, no ``instructor``
code) into DEST and commits them to a git repository there, so that an nbgitpuller
link (``/hub/user-redirect/git-pull?repo=...``) gives every learner their own copy and
later updates. No ``source/``, no tests, no solutions and no hidden tests ever go in:
every file is checked before it is committed, and publishing stops at the first leak,
naming the file.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from importlib import resources
from pathlib import Path

# Markers nbgrader uses in instructor sources; none may reach a learner.
FORBIDDEN_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
# The instructor commands (cli.py), the laptop launcher (lab.py) and instructor code stay behind.
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "instructor", "tests", "cli.py", "lab.py")

LEARNER_README = """# Client Care: your lessons

Open `lessons/01-responsibility-to-clients.ipynb` and choose **Run > Run All Cells**:
every activity (scenarios, quizzes, flashcards, reflections) then appears in the lesson.
Your answers are saved in your own folder as you go, never in these notebooks.

Graded assignments are not here: fetch them from the **Assignment List**
(Nbgrader > Assignment List), work on them there and submit them from there.

This folder is updated from the course when you open the hub's course link; your own
changes to lessons are kept (nbgitpuller merges them).
"""


class LeakError(RuntimeError):
    """Something a learner must not see was about to be published."""


def _strip_outputs(notebook: Path) -> None:
    data = json.loads(notebook.read_text(encoding="utf-8"))
    for cell in data.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
    data.get("metadata", {}).pop("widgets", None)
    notebook.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def check_bundle(folder: Path) -> None:
    """Refuse a bundle holding instructor code, tests, sources or nbgrader's solution/hidden markers."""
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if relative.parts[0] == ".git" or not path.is_file():
            continue
        if {"instructor", "tests", "source", "autograded", "submitted", "feedback"} & set(relative.parts):
            raise LeakError(f"{relative}: instructor-only material must not be published")
        if path.suffix in {".db", ".sqlite"}:
            raise LeakError(f"{relative}: a database must not be published")
        text = path.read_text(encoding="utf-8", errors="replace")
        for marker in FORBIDDEN_MARKERS:
            if marker in text:
                raise LeakError(f"{relative}: contains {marker!r} (a solution or hidden test)")


def build_bundle(lessons: Path, dest: Path) -> list[Path]:
    """Write the bundle's files into ``dest`` (its .git folder kept); return the files written."""
    lessons = Path(lessons)
    if not any(lessons.glob("*.ipynb")):
        raise FileNotFoundError(f"{lessons}: no lesson notebooks to publish")
    dest.mkdir(parents=True, exist_ok=True)
    for child in dest.iterdir():
        if child.name != ".git":
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    shutil.copytree(lessons, dest / "lessons", ignore=shutil.ignore_patterns(".ipynb_checkpoints", "*.md"))
    for notebook in (dest / "lessons").glob("*.ipynb"):
        _strip_outputs(notebook)
    with resources.as_file(resources.files("clientcare")) as package:
        shutil.copytree(package, dest / "clientcare", ignore=SKIPPED)
    (dest / "README.md").write_text(LEARNER_README, encoding="utf-8")
    check_bundle(dest)
    return sorted(p for p in dest.rglob("*") if p.is_file() and ".git" not in p.relative_to(dest).parts)


def _git(dest: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(dest), *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} in {dest} failed: {result.stderr.strip()}")
    return result.stdout


def publish(lessons: Path, dest: Path) -> str:
    """Build the bundle in ``dest`` and commit it on branch ``main``; return the commit id."""
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()) and not (dest / ".git").is_dir():
        raise FileExistsError(f"{dest}: exists and is not a learner bundle; choose an empty or new folder")
    files = build_bundle(lessons, dest)
    if not (dest / ".git").is_dir():
        _git(dest, "init", "--quiet", "--initial-branch=main")
    _git(dest, "add", "--all")
    if _git(dest, "status", "--porcelain").strip():
        _git(dest, "-c", "user.name=Client Care", "-c", "user.email=course@clientcare.invalid",
             "commit", "--quiet", "-m", f"Learner bundle: {len(files)} files")
    return _git(dest, "rev-parse", "HEAD").strip()
