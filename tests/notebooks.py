"""Notebook helpers shared by every test (imported as ``from notebooks import ...``).

Where the checkout's folders are, and how tests read a notebook and its cells
without running a kernel. ``pyproject.toml`` puts ``tests/`` on the import path.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat

REPO = Path(__file__).resolve().parent.parent
LESSONS_DIR = REPO / "course" / "lessons"
SOURCE_DIR = REPO / "source"
RELEASE_DIR = REPO / "release"


def read_json(path: Path) -> dict[str, Any]:
    """A notebook file as plain JSON (no validation, so broken notebooks can be inspected too)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """A notebook file as nbformat reads it (version 4)."""
    return nbformat.read(path, as_version=4)


def text_of(cell: dict[str, Any]) -> str:
    """A cell's source as one string, whether stored as a string or a list of lines."""
    source = cell["source"]
    return "".join(source) if isinstance(source, list) else source


def cells(path: Path) -> list[dict[str, Any]]:
    """A notebook's cells with each source joined into one string."""
    return [{**cell, "source": text_of(cell)} for cell in read_json(path)["cells"]]


def markdown(path: Path) -> str:
    """All the Markdown of a notebook, cell after cell."""
    return "\n".join(text_of(c) for c in read_json(path)["cells"] if c["cell_type"] == "markdown")


def assignment_notebook(folder: Path, assignment: str) -> Path:
    """``<folder>/<assignment>/<assignment>.ipynb``: where nbgrader keeps an assignment's notebook."""
    return Path(folder) / assignment / f"{assignment}.ipynb"
