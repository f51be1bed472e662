"""Tiny nbgrader notebooks for the preprocessor tests (nbgrader's tests/preprocessors/ is the model)."""
from __future__ import annotations

import nbformat
from nbgrader.utils import compute_checksum, determine_grade


def cell(role: str, source: str, grade_id: str | None = None, points: float = 1) -> nbformat.NotebookNode:
    """``role``: setup (read-only code), answer (solution), test (autograded), extra (the learner's own),
    written (a manually graded Markdown answer), text (read-only Markdown)."""
    kind = "markdown" if role in ("written", "text") else "code"
    node = nbformat.v4.new_markdown_cell(source) if kind == "markdown" else nbformat.v4.new_code_cell(source)
    if role == "extra":
        return node
    meta = {"schema_version": 3, "grade_id": grade_id or f"{role}-{abs(hash(source)) % 10**8}",
            "locked": role in ("setup", "test", "text"), "solution": role in ("answer", "written"),
            "grade": role in ("test", "written")}
    if meta["grade"]:
        meta["points"] = points
    node.metadata["nbgrader"] = meta
    node.metadata["nbgrader"]["checksum"] = compute_checksum(node)
    return node


def notebook(*cells) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = list(cells)
    return nb


def by_id(nb, grade_id: str):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def scores(nb) -> dict[str, float]:
    """Each autograded test cell's points, as nbgrader's SaveAutoGrades would give them."""
    return {c.metadata.nbgrader.grade_id: determine_grade(c)[0] for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"}


def shown(nb, grade_id: str) -> str:
    """Everything a test cell's outputs show."""
    parts = []
    for output in by_id(nb, grade_id).outputs:
        parts += [output.get("text", ""), output.get("ename", ""), output.get("evalue", "")]
        parts += list(output.get("traceback", [])) + [str(v) for v in output.get("data", {}).values()]
    return "\n".join(parts)
