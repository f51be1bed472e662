"""release/ is exactly what nbgrader generates from source/, and gives nothing away."""
import filecmp
from pathlib import Path

import pytest

from clientcare.instructor.course import Course

from notebooks import REPO, cells

pytestmark = pytest.mark.slow

ASSIGNMENTS = Course(REPO).assignments()


@pytest.fixture(scope="module")
def fresh_release(released_template) -> Path:
    """release/ as `nbgrader generate_assignment` makes it now, from source/ (generated once per run)."""
    return released_template / "release"


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_is_in_sync_with_source(fresh_release, assignment):
    committed, fresh = REPO / "release" / assignment, fresh_release / assignment
    assert committed.is_dir(), f"release/{assignment} is missing: run `make release` and commit it"
    assert files_under(committed) == files_under(fresh), f"release/{assignment} has different files: run `make release`"
    for name in files_under(fresh):
        assert filecmp.cmp(committed / name, fresh / name, shallow=False), (
            f"release/{assignment}/{name} differs from a fresh nbgrader generate_assignment: run `make release`"
        )


def split_secrets(cell: dict) -> tuple[list[str], list[str]]:
    """A source cell's lines as (visible to learners, solution or hidden test)."""
    meta = cell["metadata"].get("nbgrader", {})
    visible, secret, inside = [], [], False
    for line in cell["source"].splitlines():
        if line.strip() in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS"):
            inside = True
        elif line.strip() in ("### END SOLUTION", "### END HIDDEN TESTS"):
            inside = False
        elif inside or (meta.get("solution") and cell["cell_type"] == "markdown"):
            secret.append(line)
        else:
            visible.append(line)
    return visible, secret


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_contains_no_solution_and_no_hidden_test(assignment):
    release = REPO / "release" / assignment / f"{assignment}.ipynb"
    release_text = release.read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in release_text
    release_lines = {line.strip() for cell in cells(release) for line in cell["source"].splitlines()}
    visible, secret = set(), []
    for cell in cells(REPO / "source" / assignment / f"{assignment}.ipynb"):
        shown, hidden = split_secrets(cell)
        visible.update(line.strip() for line in shown)
        secret += [(cell["metadata"].get("nbgrader", {}).get("grade_id"), line.strip()) for line in hidden]
    leaks = [
        f"{grade_id}: {line}" for grade_id, line in secret
        if len(line) > 25 and line not in visible and line in release_lines
    ]
    assert not leaks, f"{assignment}: release/ shows lines of solutions or hidden tests:\n" + "\n".join(leaks)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_notebook_has_no_outputs(assignment):
    for cell in cells(REPO / "release" / assignment / f"{assignment}.ipynb"):
        assert not cell.get("outputs") and not cell.get("execution_count")
