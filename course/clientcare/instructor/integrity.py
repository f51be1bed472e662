"""Fair grading of broken or hostile submissions: where each part lives now.

* ``preflight`` (``submission_files.py``, run by ``clientcare grade`` before nbgrader sees
  a submission): learner files as data.
* The nbgrader steps, one per module in ``clientcare.instructor.preprocessors``:
  ``NormaliseSubmission`` (graded on the release's own cells), ``JudgedExecute`` (learner
  code in the learner's kernel, tests judged outside it), ``InertOutput``,
  ``LimitRichOutput``, and for feedback ``HideHiddenTests`` and ``FeedbackNotes``.
* The grader's notes are carried in the graded notebooks' metadata (``notable_errors``).
"""
from __future__ import annotations

from pathlib import Path

from .preprocessors.feedback_notes import notes_cell  # noqa: F401  (re-exported)
from .preprocessors.notes import LOG_PREFIX, NOTES_HEADING, recorded_notes

__all__ = ["LOG_PREFIX", "NOTES_HEADING", "notable_errors"]


def notable_errors(graded: Path) -> list[str]:
    """The grader's notes on the graded notebooks in ``graded`` (from their metadata, not from logs)."""
    return recorded_notes(graded)
