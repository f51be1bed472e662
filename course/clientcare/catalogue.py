"""Checks across all course content: every file valid, every lesson's widget points at real content."""
from __future__ import annotations

import ast
import json
from importlib import import_module
from pathlib import Path

from .content import ContentError, file_ids

LESSONS_DIR = Path(__file__).resolve().parents[1] / "lessons"

# kind of content -> (module, loader taking an id)
LOADERS = {
    "scenarios": ("scenario", "load_scenario"),
    "quizzes": ("quiz", "load_quiz"),
    "flashcards": ("flashcards", "load_flashcards"),
    "reflections": ("reflection", "load_reflection_set"),
}

# show_* function used in a lesson -> kind of content its argument names
SHOWN_KIND = {
    "show_scenario": "scenarios",
    "show_quiz": "quizzes",
    "show_flashcards": "flashcards",
    "show_reflection": "reflection prompts",
}


def loader(kind: str):
    module, name = LOADERS[kind]
    return getattr(import_module(f".{module}", __package__), name)


def check_content() -> tuple[int, list[str]]:
    """Validate every content file; returns (files checked, error messages)."""
    checked, errors = 0, []
    for kind in LOADERS:
        for item_id in file_ids(kind):
            checked += 1
            try:
                loader(kind)(item_id)
            except ContentError as error:
                errors.append(str(error))
    try:
        import_module(".reflection", __package__).all_reflections()
    except ContentError as error:
        errors.append(str(error))
    return checked, errors


def lesson_references(lessons_dir: Path = LESSONS_DIR) -> list[tuple[str, int, str, str]]:
    """Every ``show_x("id")`` call in the lessons: (notebook, cell number, function, id)."""
    found = []
    for notebook in sorted(lessons_dir.glob("*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        for number, cell in enumerate(cells, start=1):
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            for node in ast.walk(ast.parse(source)):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id in SHOWN_KIND and node.args
                        and isinstance(node.args[0], ast.Constant)):
                    found.append((notebook.name, number, node.func.id, node.args[0].value))
    return found


def check_lesson_references(lessons_dir: Path = LESSONS_DIR) -> list[str]:
    """Messages for lesson cells that show content which does not exist."""
    prompts = set(import_module(".reflection", __package__).all_reflections())
    errors = []
    for notebook, cell, function, item_id in lesson_references(lessons_dir):
        kind = SHOWN_KIND[function]
        exists = item_id in prompts if kind == "reflection prompts" else item_id in file_ids(kind)
        if not exists:
            errors.append(f"{notebook}: cell {cell}: {function}({item_id!r}) names no existing {kind[:-1]}")
    return errors
