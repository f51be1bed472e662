"""Shared test set-up.

Learners' saved answers go to a throwaway folder for the whole run (kernels that
nbval starts inherit it), so tests never touch a real learner's files.
"""
import os
import tempfile

import pytest

os.environ["CLIENTCARE_HOME"] = tempfile.mkdtemp(prefix="clientcare-test-home-")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def learner_home(tmp_path, monkeypatch):
    """A fresh, empty data folder for one learner."""
    home = tmp_path / "learner"
    monkeypatch.setenv("CLIENTCARE_HOME", str(home))
    return home


@pytest.fixture
def content_dir(tmp_path, monkeypatch):
    """An empty content folder (one subfolder per kind in the registry) read instead of the course's own."""
    from clientcare import content
    from clientcare.registry import content_kinds

    folder = tmp_path / "content"
    for kind in content_kinds():
        (folder / kind.folder).mkdir(parents=True)
    monkeypatch.setattr(content, "CONTENT_DIR", folder)
    return folder
