"""Every lesson in the one shared format (clientcare.lab.tidy_lesson): the same first instruction,
numbered sections, code folded away, and stored exactly as JupyterLab saves it, so that opening,
running and saving a lesson changes no byte (`git status` stays clean). After editing a lesson,
`python -m clientcare.lab tidy` puts it back in this format."""
from __future__ import annotations

import json
import re

import pytest

from clientcare import lab
from notebooks import LESSONS_DIR

LESSONS = sorted(LESSONS_DIR.glob("[0-9][0-9]-*.ipynb"))


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def text(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_each_lesson_is_stored_as_it_is_saved(path):
    notebook, stored = load(path), path.read_text(encoding="utf-8")
    tidied = lab.tidy_lesson(notebook, prefix=f"l{path.name[:2]}", number_sections=path.name[:2] != "00")
    assert lab.lesson_text(tidied) == stored, \
        f"{path.name} is not in the lessons' shared format: run `python -m clientcare.lab tidy`"
    assert lab.clean_lesson(notebook, notebook) == notebook, f"{path.name} carries outputs or widget state"
    assert lab.lesson_text(notebook) == stored, f"{path.name} is not written as Jupyter writes it"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_the_first_instruction_is_run_all_and_the_same_in_every_lesson(path):
    cells = load(path)["cells"]
    assert text(cells[0]).startswith("# "), f"{path.name} does not start with its title"
    assert cells[1]["cell_type"] == "markdown" and text(cells[1]) == lab.FIRST_INSTRUCTION
    assert "Run All Cells" in lab.FIRST_INSTRUCTION
    assert not [c for c in cells if "Run the cell below" in text(c)], "an older instruction is left"


@pytest.mark.parametrize("path", [p for p in LESSONS if not p.name.startswith("00")], ids=lambda p: p.name)
def test_sections_are_numbered_in_order(path):
    headings = [line for cell in load(path)["cells"] if cell["cell_type"] == "markdown"
                for line in text(cell).splitlines() if line.startswith("## ")]
    numbers = [int(m.group(1)) for m in (re.match(r"^## (\d+)\. \S", h) for h in headings) if m]
    assert len(numbers) == len(headings), f"unnumbered sections in {path.name}: {headings}"
    assert numbers == list(range(1, len(numbers) + 1)), f"{path.name} numbers its sections {numbers}"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_code_cells_are_folded_away(path):
    code = [c for c in load(path)["cells"] if c["cell_type"] == "code"]
    assert code and all(c["metadata"].get("jupyter", {}).get("source_hidden") is True for c in code)
