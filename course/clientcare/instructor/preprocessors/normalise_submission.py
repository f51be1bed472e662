"""``NormaliseSubmission`` (nbgrader sanitise step): grade the learner's answers on the release's cells.

Every read-only and test cell comes from the release exactly (deleted, duplicated,
reordered, edited, emptied or re-typed test cells, changed grade ids, points or
checksums cannot change a grade); each answer cell keeps the learner's code, with any
extra code cells the learner added after it. Every repair is named in the notes.
"""
from __future__ import annotations

import copy
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from ..submission_files import signed_notes
from .notes import LOG_PREFIX, add_notes


def _grade_id(cell: NotebookNode) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _is_answer(cell: NotebookNode) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


def _plain_copy(cell: NotebookNode) -> NotebookNode:
    """A learner's cell with nbgrader's metadata removed: their code, graded as their own extra cell."""
    plain = nbformat.from_dict({key: value for key, value in cell.items() if key != "metadata"})
    plain = copy.deepcopy(plain)
    plain.metadata = {}  # a learner's extra cell: nothing of its metadata is needed to run it
    if not isinstance(plain.get("source"), str):
        plain.source = ""
    return plain


def normalise(submitted: NotebookNode, release: NotebookNode) -> tuple[NotebookNode, list[str]]:
    """The learner's answers on the release's skeleton, and notes on every repair made."""
    notes: list[str] = []
    release_ids = {_grade_id(c) for c in release.cells if _grade_id(c)}
    release_answers = [_grade_id(c) for c in release.cells if _is_answer(c)]

    # Group the learner's cells: each recognised answer cell owns the extra cells after it.
    answers: dict[str, NotebookNode] = {}
    extras: dict[str | None, list[NotebookNode]] = {None: []}
    unknown_answers: list[NotebookNode] = []
    owner: str | None = None
    for cell in submitted.cells:
        grade_id = _grade_id(cell)
        if grade_id in release_answers and grade_id not in answers:
            answers[grade_id] = cell
            owner = grade_id
            extras.setdefault(owner, [])
        elif grade_id in release_answers:
            notes.append(f"Answer cell '{grade_id}' appeared more than once; the copies were graded as your own extra cells.")
            extras.setdefault(owner, []).append(_plain_copy(cell))
        elif grade_id in release_ids:
            continue  # a read-only or test cell: the release's version is used below
        elif grade_id and _is_answer(cell):
            unknown_answers.append(cell)
        elif grade_id:
            notes.append(f"A cell with unknown grade id '{grade_id}' was ignored; only the release's cells are graded.")
        elif cell.cell_type == "code":
            extras.setdefault(owner, []).append(_plain_copy(cell))

    # Answer cells whose grade id was changed are matched, in order, to the answers still missing.
    for grade_id in release_answers:
        if grade_id not in answers and unknown_answers:
            cell = unknown_answers.pop(0)
            notes.append(f"An answer cell's grade id was changed from '{grade_id}' to '{_grade_id(cell)}'; "
                         f"it was graded as '{grade_id}'.")
            answers[grade_id] = cell
            extras.setdefault(grade_id, [])

    learner_order = [g for g in (_grade_id(c) for c in submitted.cells) if g in release_ids]
    release_order = [g for g in (_grade_id(c) for c in release.cells) if g in set(learner_order)]
    if list(dict.fromkeys(learner_order)) != release_order:
        notes.append("Cells had been moved; they were graded in the release's order.")

    cells = []
    for template in release.cells:
        grade_id = _grade_id(template)
        if release_answers and grade_id == release_answers[0]:
            cells.extend(extras[None])  # the learner's own cells from above the first answer
        if not _is_answer(template):
            mine = [c for c in submitted.cells if _grade_id(c) == grade_id] if grade_id else []
            if grade_id and not mine:
                notes.append(f"Cell '{grade_id}' was missing; the original was restored.")
            elif grade_id and (mine[0].source != template.source or mine[0].cell_type != template.cell_type):
                notes.append(f"Read-only cell '{grade_id}' had been changed; the original was restored.")
            cells.append(copy.deepcopy(template))
            continue
        answer = answers.get(grade_id)
        if answer is None:
            notes.append(f"Answer cell '{grade_id}' was missing; it was graded as unanswered.")
            blank = copy.deepcopy(template)
            blank.source = "# This answer cell was missing from the submission."
            cells.append(blank)
        else:
            graded = copy.deepcopy(template)
            graded.source = answer.source if isinstance(answer.source, str) else ""
            if answer.cell_type != template.cell_type:
                notes.append(f"Answer cell '{grade_id}' had been changed to {answer.cell_type}; "
                             f"it was graded as {template.cell_type}.")
            cells.append(graded)
        cells.extend(extras.get(grade_id, []))

    if not release_answers:
        cells.extend(extras[None])
    if release_ids and not any(_grade_id(c) in release_ids for c in submitted.cells) and extras[None]:
        # Work pasted into a new notebook (or a tool that drops cell metadata): nothing says which cell is which.
        notes = [n for n in notes if "was missing" not in n] + [
            "None of the notebook's cells carried nbgrader's metadata (was the work pasted into a new notebook?); "
            "your code cells were run in their order before the first answer cell, the tests were graded on the "
            "functions they define, and any written answers were not found."]
    for number, cell in enumerate(cells):
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.metadata = {k: v for k, v in cell.metadata.items() if k in ("nbgrader", "tags", "deletable", "editable")}
        cell["id"] = f"cell-{number}"  # unique ids, whatever the learner's copies carried
    notebook = copy.deepcopy(release)
    notebook.cells = cells
    return notebook, notes


class NormaliseSubmission(NbGraderPreprocessor):
    """nbgrader sanitise step: grade the learner's answers on the release's cells."""

    release_directory = Unicode("release", help="The release folder, relative to the course root").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict):
        info = resources.get("nbgrader", {})
        release = Path(self.release_directory) / info.get("assignment", "") / f"{info.get('notebook', '')}.ipynb"
        if not release.is_file():
            self.log.warning("%s no release notebook at %s; submission graded as submitted", LOG_PREFIX, release)
            return nb, resources
        # Only notes preflight signed in this process are the grader's; anything else there the learner wrote.
        stored = nb.metadata.get("clientcare", {})
        earlier = signed_notes(stored.get("preflight")) if isinstance(stored, dict) else []
        normalised, notes = normalise(nb, nbformat.read(release, as_version=4))
        add_notes(normalised, earlier + notes)
        for note in notes:
            self.log.warning("%s %s", LOG_PREFIX, note)
        return normalised, resources
