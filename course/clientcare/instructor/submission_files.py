"""Learner files as data: make a submitted folder gradable before nbgrader sees it.

``preflight`` (run by ``clientcare grade`` before nbgrader sees a submission):
a notebook that is missing, renamed, empty or not valid JSON is repaired or
replaced by the blank release, with the learner's file kept aside, never lost.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat

KEPT_ASIDE = ".clientcare-originals"


def _unreadable_reason(path: Path) -> str:
    """Why ``path`` is not a usable notebook, or "" if it is one."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return f"it could not be read ({error})"
    if not text.strip():
        return "it is empty"
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        return f"it is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
    try:
        notebook = nbformat.reads(text, as_version=4)
    except Exception as error:  # nbformat raises several kinds for non-notebooks
        return f"it is not a Jupyter notebook ({error})"
    if not isinstance(notebook.get("cells"), list):
        return "it has no list of cells"
    return ""


def _keep_aside(path: Path, submission: Path) -> Path:
    folder = submission / KEPT_ASIDE
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    shutil.move(str(path), target)
    return target


def preflight(submission: Path, release: Path) -> list[str]:
    """Make ``submission`` (submitted/<student>/<assignment>) gradable; returns notes on what was done.

    Each note is also written into the graded notebook's metadata, so that
    ``NormaliseSubmission`` shows it in the learner's feedback.
    """
    notes = []
    expected = sorted(p.name for p in release.glob("*.ipynb"))
    present = {p.name for p in submission.glob("*.ipynb")}
    strays = sorted(present - set(expected))
    for name in expected:
        target = submission / name
        if name not in present and len(strays) == 1 and not _unreadable_reason(submission / strays[0]):
            stray = strays.pop()
            shutil.copy2(submission / stray, target)
            _keep_aside(submission / stray, submission)
            notes.append(f"The notebook was submitted as '{stray}' instead of '{name}'; it was graded as '{name}'.")
            continue
        if name not in present:
            shutil.copy2(release / name, target)
            notes.append(f"No notebook '{name}' was submitted, so it was graded as the blank release (0 points).")
            continue
        reason = _unreadable_reason(target)
        if reason:
            kept = _keep_aside(target, submission)
            shutil.copy2(release / name, target)
            notes.append(f"The submitted '{name}' could not be graded because {reason}. It was graded as the blank "
                         f"release (0 points); the file submitted is kept as {KEPT_ASIDE}/{kept.name} for the instructor.")
    for name in expected:
        mine = [note for note in notes if f"'{name}'" in note]
        if mine:
            notebook = nbformat.read(submission / name, as_version=4)
            notebook.metadata.setdefault("clientcare", {})["preflight_notes"] = mine
            nbformat.write(notebook, submission / name)
    return notes
