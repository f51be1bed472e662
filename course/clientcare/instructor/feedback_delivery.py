"""Feedback for a renamed notebook reaches the learner who renamed it.

``preflight`` grades a notebook submitted under another name (``my work (final).ipynb``)
as the release's notebook (``fee-proposals.ipynb``), so nbgrader writes its feedback as
``fee-proposals.html``. A learner's ``nbgrader fetch_feedback`` looks for feedback named
after the notebooks *they* submitted, so it would never find it. ``ReleaseFeedback``
(nbgrader's exchange class for ``release_feedback``, configured in ``nbgrader_config.py``
as ``c.ExchangeFactory.release_feedback``) releases each feedback page as usual and, for
a renamed notebook, also under the name the learner submitted.
"""
from __future__ import annotations

import glob
import os
import re
import shutil
from pathlib import Path

import nbformat
from nbgrader.exchange.default.release_feedback import ExchangeReleaseFeedback
from nbgrader.utils import notebook_hash

RENAMED = re.compile(r"submitted as '(?P<submitted>[^']+\.ipynb)' instead of '(?P<expected>[^']+\.ipynb)'")


def submitted_as(graded_notebook: Path) -> str:
    """The name the learner gave a notebook that was graded under the release's name, or ""."""
    try:
        meta = nbformat.read(graded_notebook, as_version=4).metadata.get("clientcare", {})
    except Exception:
        return ""
    for note in meta.get("notes", []):  # the grader's own notes (see preprocessors/notes.py)
        match = RENAMED.search(str(note))
        if match and match.group("expected") == graded_notebook.name:
            return match.group("submitted")
    return ""


class ReleaseFeedback(ExchangeReleaseFeedback):
    """nbgrader's release_feedback, plus a copy under the learner's own name for renamed notebooks."""

    def copy_files(self):
        super().copy_files()
        student_id = self.coursedir.student_id if self.coursedir.student_id else "*"
        pattern = self.coursedir.format_path(self.coursedir.feedback_directory, student_id,
                                             self.coursedir.assignment_id)
        exclude = set(self.coursedir.student_id_exclude.split(",")) if self.coursedir.student_id_exclude else set()
        for html in map(Path, sorted(glob.glob(os.path.join(pattern, "*.html")))):
            student = html.parent.parent.name
            if student in exclude:
                continue
            graded = Path(self.coursedir.format_path(self.coursedir.autograded_directory, student,
                                                     self.coursedir.assignment_id)) / f"{html.stem}.ipynb"
            name = submitted_as(graded)
            secret = html.parent / "submission_secret.txt"
            if not name or not secret.is_file():
                continue
            checksum = notebook_hash(secret=secret.read_text(), notebook_id=os.path.splitext(name)[0])
            temporary = os.path.join(self.dest_path, f"{checksum}-tmp.html")
            shutil.copy(html, temporary)
            shutil.move(temporary, os.path.join(self.dest_path, f"{checksum}.html"))
            self.log.info("Feedback for %s's renamed notebook '%s' released as well", student, name)
