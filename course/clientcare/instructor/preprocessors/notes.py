"""Notes from the grader, carried in the notebook's metadata (never in the learner's cells).

``clientcare.notes`` in the notebook metadata is a list of sentences naming what the
grader did and why (a repaired notebook, a stuck cell, a replaced kernel, a part not
graded). The instructor sees them in the log and in ``clientcare grade``'s report;
the learner sees them in a notes cell at the top of the feedback (``FeedbackNotes``).
A test cell's own failure (the real message, even for hidden tests) goes into that
cell's metadata, ``clientcare.failure``, for the instructor only.
"""
from __future__ import annotations

from pathlib import Path

import nbformat

LOG_PREFIX = "[clientcare]"
NOTES_HEADING = "**Notes from the autograder**"


def notes_of(nb) -> list[str]:
    return list(nb.metadata.get("clientcare", {}).get("notes", []))


def add_notes(nb, notes: list[str]) -> None:
    if not notes:
        return
    meta = nb.metadata.setdefault("clientcare", {})
    meta["notes"] = list(dict.fromkeys(list(meta.get("notes", [])) + list(notes)))


def set_cell_note(cell, key: str, value) -> None:
    cell.metadata.setdefault("clientcare", {})[key] = value


def recorded_notes(folder: Path) -> list[str]:
    """The notes of every graded notebook in ``folder`` (autograded/<student>/<assignment>)."""
    notes = []
    for path in sorted(Path(folder).glob("*.ipynb")):
        try:
            notes += notes_of(nbformat.read(path, as_version=4))
        except Exception:  # the grade is saved already; a note is not worth failing for
            continue
    return list(dict.fromkeys(notes))
