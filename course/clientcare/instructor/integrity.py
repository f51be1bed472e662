"""Fair grading of broken or hostile submissions.

Three layers, each naming what it found so the learner's feedback and the
instructor's log say why a submission scored what it did:

* ``preflight`` (``submission_files.py``, run by ``clientcare grade`` before
  nbgrader sees a submission): learner files as data.
* ``NormaliseSubmission`` (nbgrader sanitise step, configured in
  ``nbgrader_config.py``): rebuilds the notebook on the release's skeleton. Every
  read-only and test cell comes from the release exactly (deleted, duplicated,
  reordered, edited, emptied or re-typed test cells, changed grade ids, points
  or checksums cannot change a grade); each answer cell keeps the learner's
  code, with any extra cells the learner added after it.
* ``MarkGradedCells`` (last sanitise step): marks the setup and test cells for
  the in-kernel guard (``guard.py``) that protects tests from tampering.
* ``IsolatedExecute`` (nbgrader's Execute, in a scratch copy of the submission):
  the sandboxed kernel runs away from the course folders, which it cannot read.
* ``LimitRichOutput`` (nbgrader autograde step): floods of text, images or HTML
  are cut down before they reach the gradebook and the feedback.
"""
from __future__ import annotations

import copy
import json
import os
import shutil
import tempfile
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Integer, List, Unicode

from . import guard
from .sandbox import PROTECTED_ENV

NOTES_HEADING = "**Notes from the autograder**"
LOG_PREFIX = "[clientcare]"


# ---------------------------------------------------------------- cell-level normalisation


def _grade_id(cell: NotebookNode) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _is_answer(cell: NotebookNode) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


def _copy(node: NotebookNode) -> NotebookNode:
    return copy.deepcopy(node)


def _plain_copy(cell: NotebookNode) -> NotebookNode:
    """A learner's cell with nbgrader's metadata removed: their code, graded as their own extra cell."""
    plain = _copy(cell)
    plain.metadata.pop("nbgrader", None)
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
            extras.setdefault(owner, []).append(cell)

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
            cells.append(template)
            continue
        answer = answers.get(grade_id)
        if answer is None:
            notes.append(f"Answer cell '{grade_id}' was missing; it was graded as unanswered.")
            blank = _copy(template)
            blank.source = "# This answer cell was missing from the submission."
            cells.append(blank)
        else:
            graded = _copy(template)
            graded.source = answer.source
            if answer.cell_type != template.cell_type:
                notes.append(f"Answer cell '{grade_id}' had been changed to {answer.cell_type}; "
                             f"it was graded as {template.cell_type}.")
            cells.append(graded)
        cells.extend(extras.get(grade_id, []))

    if not release_answers:
        cells.extend(extras[None])
    for number, cell in enumerate(cells):
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell["id"] = f"cell-{number}"  # unique ids, whatever the learner's copies carried
    notebook = _copy(release)
    notebook.cells = cells
    return notebook, notes


# Errors that say something about the submission itself rather than a wrong answer.
NOTABLE_ERRORS = {
    "CellTimeoutError": "ran past its time limit (an endless loop or a long sleep?)",
    "MemoryError": "ran out of memory",
    "GradingSandboxError": "tried something not allowed while grading",
    "PermissionError": "tried to read something not allowed while grading",
    "SystemExit": "tried to stop Python",
    "DeadKernelError": "stopped the Python process",
    "TestIntegrityError": "changed what the test relies on while it ran",
}
GUARD_PREFIX = "[clientcare guard]"


def notable_errors(graded: Path) -> list[str]:
    """Notes for the instructor's log: graded cells that hit a limit or a guard, by cell."""
    notes, guarded = [], {}  # guard messages: text -> the cells that printed it
    for path in sorted(graded.glob("*.ipynb")):
        try:
            notebook = nbformat.read(path, as_version=4)
        except Exception:  # the grade is already saved; a log note is not worth failing for
            continue
        for number, cell in enumerate(notebook.cells, start=1):
            where = _grade_id(cell) or f"cell {number}"
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error" and output.get("ename") in NOTABLE_ERRORS:
                    notes.append(f"'{where}' {NOTABLE_ERRORS[output.ename]}: {output.ename}: {output.evalue}"[:300])
                elif output.get("output_type") == "stream" and GUARD_PREFIX in output.get("text", ""):
                    line = next(l for l in output.text.splitlines() if GUARD_PREFIX in l)
                    guarded.setdefault(line.replace(GUARD_PREFIX, "").strip(), []).append(where)
    for text, cells in guarded.items():
        also = f" (and {len(cells) - 1} more tests)" if len(cells) > 1 else ""
        notes.append(f"'{cells[0]}'{also}: {text}"[:400])
    return list(dict.fromkeys(notes))


def notes_cell(notes: list[str]) -> NotebookNode:
    text = NOTES_HEADING + "\n\n" + "\n".join(f"- {note}" for note in notes)
    return nbformat.v4.new_markdown_cell(text, metadata={"clientcare": {"notes": notes}})


class NormaliseSubmission(NbGraderPreprocessor):
    """nbgrader sanitise step: grade the learner's answers on the release's cells."""

    release_directory = Unicode("release", help="The release folder, relative to the course root").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict):
        info = resources.get("nbgrader", {})
        release = Path(self.release_directory) / info.get("assignment", "") / f"{info.get('notebook', '')}.ipynb"
        if not release.is_file():
            self.log.warning("%s no release notebook at %s; submission graded as submitted", LOG_PREFIX, release)
            return nb, resources
        earlier = list(nb.metadata.get("clientcare", {}).get("preflight_notes", []))
        normalised, notes = normalise(nb, nbformat.read(release, as_version=4))
        notes = earlier + notes
        if notes:
            normalised.cells.insert(0, notes_cell(notes))
            for note in notes[len(earlier):]:
                self.log.warning("%s %s", LOG_PREFIX, note)
        return normalised, resources


# ---------------------------------------------------------------- output floods


class LimitRichOutput(NbGraderPreprocessor):
    """nbgrader autograde step: cap very long lines, large images/HTML and the number of outputs per cell."""

    max_text_chars = Integer(20_000, help="characters of text kept per output").tag(config=True)
    max_data_bytes = Integer(1_000_000, help="bytes of an image or HTML output kept").tag(config=True)
    max_outputs = Integer(50, help="outputs kept per cell").tag(config=True)

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int):
        if cell.cell_type != "code":
            return cell, resources
        removed = max(0, len(cell.outputs) - self.max_outputs)
        cell.outputs = cell.outputs[: self.max_outputs]
        for output in cell.outputs:
            if output.output_type == "stream" and len(output.text) > self.max_text_chars:
                cut = len(output.text) - self.max_text_chars
                output.text = output.text[: self.max_text_chars] + f"\n... {cut:,} characters of output removed ...\n"
            for mime, data in list(output.get("data", {}).items()):
                size = len(data if isinstance(data, str) else json.dumps(data))
                if mime != "text/plain" and size > self.max_data_bytes:
                    del output.data[mime]
                    output.data.setdefault("text/plain", "")
                    output.data["text/plain"] += f"\n[{mime} output of {size / 1e6:.1f} MB removed]"
                elif mime == "text/plain" and size > self.max_text_chars:
                    output.data[mime] = data[: self.max_text_chars] + "\n... output truncated ..."
        if removed:
            cell.outputs.append(nbformat.v4.new_output("stream", name="stdout",
                                                       text=f"... {removed:,} more outputs removed ...\n"))
        return cell, resources


# ---------------------------------------------------------------- marking cells for the guard


def _mark(text: str) -> str:
    return f"{guard.MARK_NAME} = {text!r}"


class MarkGradedCells(NbGraderPreprocessor):
    """Last sanitise step: mark the setup cell(s) and wrap every test cell for the kernel's guard."""

    def preprocess(self, nb: NotebookNode, resources: dict):
        setup, seen_answer = [], False
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code":
                continue
            if meta.get("solution"):
                seen_answer = True
            elif meta.get("grade"):
                grade_id = meta.get("grade_id", "")
                cell.source = (f"{_mark(f'{guard.BEGIN}:{grade_id}')}\n{cell.source}\n"
                               f"{_mark(f'{guard.END}:{grade_id}')}")
            elif meta.get("locked") and not seen_answer:
                setup.append(cell)
        if setup:  # one mark, in the first setup cell, carrying every setup cell's code
            code = "\n".join(cell.source for cell in setup)
            setup[0].source = f"{_mark(guard.SETUP + chr(10) + code)}\n{setup[0].source}"
        return nb, resources


def strip_marks(source: str) -> str:
    """A cell's source without the guard's marker lines (for feedback)."""
    return "\n".join(line for line in source.split("\n") if not line.startswith(f"{guard.MARK_NAME} = "))


# ---------------------------------------------------------------- running away from the course



class IsolatedExecute(Execute):
    """nbgrader's Execute, run in a scratch copy of the submission folder.

    The kernel (the sandboxed ``clientcare-grader`` kernel, see ``sandbox.py``) is
    told which paths it must not read: the course's source, submissions, grades
    and gradebook. Files the learner's code writes go to the scratch copy.
    """

    protected_paths = List(Unicode(), help="Paths the grading kernel may not read").tag(config=True)
    startup_attempts = Integer(3, help="Kernels to try when one dies before running any cell").tag(config=True)

    def _run_with_fresh_kernels(self, nb: NotebookNode, resources: dict):
        """Run the notebook; a kernel that dies while starting (before any learner code) is replaced."""
        for attempt in range(1, self.startup_attempts + 1):
            try:
                return super().preprocess(nb, resources)
            except RuntimeError as error:
                if "before replying to kernel_info" not in str(error) or attempt == self.startup_attempts:
                    raise
                self.log.warning("%s the grading kernel died while starting (attempt %d); starting another",
                                 LOG_PREFIX, attempt)

    def preprocess(self, nb: NotebookNode, resources: dict):
        metadata = resources.setdefault("metadata", {})
        original = metadata.get("path") or os.getcwd()
        saved = os.environ.get(PROTECTED_ENV)
        with tempfile.TemporaryDirectory(prefix="clientcare-run-") as scratch:
            workdir = Path(scratch) / Path(original).name
            shutil.copytree(original, workdir, ignore=shutil.ignore_patterns("*.ipynb"))
            metadata["path"] = str(workdir)
            os.environ[PROTECTED_ENV] = os.pathsep.join(self.protected_paths)
            try:
                return self._run_with_fresh_kernels(nb, resources)
            finally:
                metadata["path"] = original
                if saved is None:
                    os.environ.pop(PROTECTED_ENV, None)
                else:
                    os.environ[PROTECTED_ENV] = saved
