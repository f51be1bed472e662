"""``HideHiddenTests`` (feedback step): results and authored messages, never hidden test code.

nbgrader puts the hidden tests back into each test cell when it autogrades and by
default shows them in feedback. This removes the hidden region from every test cell
and keeps, of a test cell's outputs, only what the trusted test printed and its one
error line (``JudgedExecute`` already writes a failed hidden check as the cell's
``# Checks:`` line, never its inputs, expected values or code).
"""
from __future__ import annotations

from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests


class HideHiddenTests(ClearHiddenTests):
    def preprocess_cell(self, cell: NotebookNode, resources: dict, cell_index: int):
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell):
            kept = []
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
                    kept.append(output)
                elif output.output_type == "stream" and output.get("name") == "stdout":
                    kept.append(output)
            cell.outputs = kept
            cell.metadata.pop("clientcare", None)
        return cell, resources
