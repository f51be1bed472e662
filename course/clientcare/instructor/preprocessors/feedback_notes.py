"""``FeedbackNotes`` (feedback step): the grader's notes, shown to the learner in a cell at the top."""
from __future__ import annotations

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

from .inert_output import escape_html
from .notes import NOTES_HEADING, notes_of


def notes_cell(notes: list[str]) -> NotebookNode:
    text = NOTES_HEADING + "\n\n" + "\n".join(f"- {escape_html(note)}" for note in notes)
    return nbformat.v4.new_markdown_cell(text)


class FeedbackNotes(NbGraderPreprocessor):
    """Insert ``clientcare.notes`` (notebook metadata) as a Markdown cell at the top of the feedback."""

    def preprocess(self, nb: NotebookNode, resources: dict):
        notes = notes_of(nb)
        if notes:
            nb.cells.insert(0, notes_cell(notes))
        return nb, resources
