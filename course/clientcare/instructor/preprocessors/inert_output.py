"""``InertOutput`` (autograde and feedback step): nothing a learner wrote is live in feedback or formgrader.

Learner outputs keep plain text and PNG/JPEG images (checked to be base64, so they
cannot break out of the ``<img src=...>`` attribute they are shown in); HTML, SVG,
JavaScript, Markdown, LaTeX, widget and any other rich outputs are replaced by their
source shown as text. Learner-written Markdown cells (written answers) get their raw
HTML escaped, and links to ``javascript:``/``data:``/``vbscript:`` addresses are cut; a text with
more than ``MAX_DELIMITERS`` asterisks and underscores shows them as characters (as entities), so that
no written answer makes rendering its feedback take minutes. Each learner Markdown cell is made inert
once (marked in its metadata): feedback runs this again on the autograded notebook.
Output metadata (which could carry, e.g., an ``isolated`` iframe flag) is dropped.
"""
from __future__ import annotations

import re

from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer

BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]*$")
IMAGES = ("image/png", "image/jpeg")
SCHEMES = re.compile(r"(?i)\b(java\s*script|vb\s*script|data)\s*:")


def escape_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Emphasis characters make mistune's rendering quadratic when a text holds thousands of them (each searches the
# delimiters before it). Beyond this many, a learner's text shows them as characters (entities), not formatting.
# (Thousands of brackets made nbconvert's strip_files_prefix quadratic: the feedback exporter has a linear one.)
MAX_DELIMITERS = 100
DELIMITER_ENTITIES = {"*": "&#42;", "_": "&#95;"}


def inert_markdown(text: str) -> str:
    text = SCHEMES.sub(lambda m: m.group(1) + " :", escape_html(text))
    if sum(text.count(ch) for ch in DELIMITER_ENTITIES) > MAX_DELIMITERS:
        text = "".join(DELIMITER_ENTITIES.get(ch, ch) for ch in text)
    return text


def _is_learner_markdown(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "markdown" and (meta.get("solution") or not meta)


class InertOutput(NbGraderPreprocessor):
    """Make every output and learner-written Markdown cell inert (shown as text)."""

    max_source_chars = Integer(5_000, help="characters of a rich output's source shown as text").tag(config=True)

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int):
        if cell.cell_type == "markdown" and _is_learner_markdown(cell):
            mark = cell.metadata.setdefault("clientcare", {})
            if not mark.get("inert"):  # once: feedback runs this again on the autograded notebook
                cell.source = inert_markdown(cell.source)
                mark["inert"] = True
            cell.pop("attachments", None)
        if cell.cell_type != "code":
            return cell, resources
        for output in cell.get("outputs", []):
            if "data" not in output:
                continue
            data, plain = output.data, {}
            shown = []
            for mime, value in data.items():
                text = value if isinstance(value, str) else "".join(value) if isinstance(value, list) else str(value)
                if mime == "text/plain":
                    plain[mime] = text
                elif mime in IMAGES and BASE64.match(text):
                    plain[mime] = text
                else:
                    shown.append(f"[{mime} output shown as text]\n{text[: self.max_source_chars]}")
            if shown and "text/plain" not in plain:  # rich output with no text form: its source, as text
                plain["text/plain"] = "\n".join(shown)
            output.data = plain
            output.metadata = {}
        return cell, resources
