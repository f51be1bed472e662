"""`make test` runs the tests on several workers (pytest-xdist, ``--dist loadgroup``): what must share one stays on one.

``tests/conftest.py`` puts tests that share a module-scoped fixture (one sandboxed kernel, one
graded cohort) or a browser tab in one xdist group, by adding the ``xdist_group`` mark during
collection. If xdist ignored the groups, those tests would be split over workers: a module's
clean-up would remove what a test on the other worker still uses, and a browser step would run
in a tab that never took the step before it. Nothing would say so; the tests would fail now and
then. That happened: pytest 9.2.0 with pytest-xdist 3.8.0 silently stopped grouping
(pytest-dev/pytest-xdist#1386), and the pins in constraints.txt keep a pair that groups.
This test runs a tiny project the way `make test` does and checks where its tests ran.
"""
from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from pathlib import Path

CONFTEST = '''
import pytest

@pytest.hookimpl(tryfirst=True)  # as tests/conftest.py does: marks added during collection
def pytest_collection_modifyitems(config, items):
    for item in items:
        if "shares_a_tab" in item.nodeid:
            item.add_marker(pytest.mark.xdist_group("browser"))
'''

RECORD = '''
import os, pytest

def record(request):
    with open(os.environ["WHERE_TESTS_RAN"], "a") as log:
        log.write(f"{os.environ['PYTEST_XDIST_WORKER']} {request.node.name}\\n")
'''

GROUPED = RECORD + '''
pytestmark = pytest.mark.xdist_group("{group}")  # as a test module may say itself

@pytest.mark.parametrize("step", range(6))
def test_{group}(step, request):
    record(request)
'''

MARKED_BY_CONFTEST = RECORD + '''
@pytest.mark.parametrize("step", range(6))
def test_browser_step_shares_a_tab(step, request):
    record(request)
'''


def test_grouped_tests_run_on_one_worker(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "conftest.py").write_text(CONFTEST)
    for group in ("kernel", "cohort"):
        (project / f"test_{group}.py").write_text(GROUPED.replace("{group}", group))
    (project / "test_browser.py").write_text(MARKED_BY_CONFTEST)
    log = tmp_path / "where.log"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "--dist", "loadgroup",
         str(project)],
        cwd=project, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "WHERE_TESTS_RAN": str(log), "HOME": str(tmp_path)},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    workers = defaultdict(set)
    for line in log.read_text().splitlines():
        worker, name = line.split(" ", 1)
        group = "browser" if "shares_a_tab" in name else name.split("[")[0].removeprefix("test_")
        workers[group].add(worker)
    assert set(workers) == {"kernel", "cohort", "browser"}
    split = {group: sorted(found) for group, found in workers.items() if len(found) > 1}
    assert not split, f"xdist split these groups over workers (is pytest-xdist honouring xdist_group?): {split}"
