"""Feedback that tells a learner which tests passed or failed, and why, without the hidden tests.

nbgrader puts the hidden tests back into each test cell when it autogrades, and
by default its feedback HTML shows them, so the answers leak to the next cohort.
``HideHiddenTests`` runs while feedback is generated (configured in
``nbgrader_config.py``): it removes the hidden region from every test cell and
cuts each test cell's error traceback (which quotes the failing line) down to the
error's name and message, e.g. ``AssertionError: expected 1,200.00, got 1,150.00``.
"""
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests

from .integrity import strip_marks


class HideHiddenTests(ClearHiddenTests):
    def preprocess_cell(self, cell: NotebookNode, resources: dict, cell_index: int):
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if cell.cell_type == "code":
            cell.source = strip_marks(cell.source)
        if cell.cell_type == "code" and utils.is_grade(cell):
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources
