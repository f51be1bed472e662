"""Work done once for a whole test run, by whichever pytest-xdist worker asks first (``import shared_work``).

``built_once(tmp_path_factory, name, build)`` returns ``<run's temp>/shared/<name>``, made by
``build(folder)`` under a file lock the first time any worker asks; the others wait for it and then
share it (read-only). Without xdist the run's own temp folder is used.
"""
from __future__ import annotations

import fcntl
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Callable


@contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def built_once(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    """``<run's temp>/shared/<name>``, made by ``build(folder)`` by the first worker that asks; read-only after."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # shared by every worker of this run
    folder = base / "shared" / name
    with _locked(base / "shared" / f"{name}.lock"):
        if not (folder / ".built").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            build(folder)
            (folder / ".built").touch()
    return folder
