"""Checks across all course content: every file valid, every lesson's widget points at real content."""
from __future__ import annotations

import ast
import json
import os
from pathlib import Path

from dataclasses import dataclass

from . import content
from .content import ContentError, check_known_fields, field, file_ids, read_yaml, where
from .registry import Kind, content_kinds



def shown_kinds() -> dict[str, Kind]:
    """show_* function -> its kind, for the kinds whose show_* names content by id."""
    from . import registry

    return {kind.show: kind for kind in registry.KINDS if kind.show and (kind.folder or kind.shown_ids)}

LESSONS_FOLDER = Path("course") / "lessons"  # inside a course folder
LESSON_INDEX = "lessons.yaml"  # in the content folder (package data)
#: Set by the launcher (``python -m clientcare.lab``) and a hub's spawner: the course folder.
COURSE_DIR_VARIABLE = "CLIENTCARE_COURSE_DIR"


def course_root(start: Path | str | None = None) -> Path:
    """The course folder: ``$CLIENTCARE_COURSE_DIR`` if set, else the nearest folder at or above
    ``start`` (default: the current directory, as nbgrader) holding both ``nbgrader_config.py`` and
    ``course/lessons``, else ``start`` itself. A learner's workspace inside the course has an
    ``nbgrader_config.py`` of its own but no lessons folder, so it is passed over."""
    if os.environ.get(COURSE_DIR_VARIABLE):
        return Path(os.environ[COURSE_DIR_VARIABLE]).resolve()
    here = Path(start if start is not None else os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "nbgrader_config.py").is_file() and (folder / LESSONS_FOLDER).is_dir():
            return folder
    return here


def lessons_dir(course: Path | str | None = None) -> Path:
    """The lesson notebooks' folder of the course in ``course`` (default: :func:`course_root`)."""
    return Path(course_root() if course is None else course) / LESSONS_FOLDER


@dataclass(frozen=True)
class Lesson:
    number: int
    title: str
    notebook: str

    @property
    def heading(self) -> str:
        return f"Lesson {self.number}: {self.title}"


def lesson_index() -> tuple[Lesson, ...]:
    """The lessons listed in ``content/lessons.yaml`` (package data), in order."""
    path = content.CONTENT_DIR / LESSON_INDEX
    if not path.exists():
        return ()
    data = read_yaml(path)
    lessons = []
    for number, raw in enumerate(field(data, "lessons", list, where(path)), start=1):
        at = where(path, f"lesson {number}")
        check_known_fields(raw, {"number", "title", "notebook"}, at)
        lessons.append(Lesson(field(raw, "number", int, at), field(raw, "title", str, at),
                              field(raw, "notebook", str, at)))
    return tuple(lessons)


def lesson_heading(notebook: Path) -> Lesson | None:
    """The lesson a notebook is, from its first Markdown heading ``# Lesson N: Title`` (None if not a lesson)."""
    try:
        cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    for cell in cells:
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        if cell.get("cell_type") != "markdown" or not source.strip():
            continue
        first = source.strip().splitlines()[0]
        number, _, title = first.removeprefix("# Lesson ").partition(":")
        if first.startswith("# Lesson ") and number.strip().isdigit() and title.strip():
            return Lesson(int(number), title.strip(), Path(notebook).name)
        return None
    return None


def check_lesson_index(folder: Path) -> list[str]:
    """Messages where ``content/lessons.yaml`` and the lesson notebooks in ``folder`` disagree."""
    try:
        listed = set(lesson_index())
    except ContentError as error:
        return [str(error)]
    found = {lesson for lesson in map(lesson_heading, sorted(Path(folder).glob("[0-9][0-9]-*.ipynb"))) if lesson}
    errors = [f"{LESSON_INDEX}: add the lesson {lesson.notebook} as: - number: {lesson.number}, "
              f"title: {lesson.title!r}, notebook: {lesson.notebook}" for lesson in sorted(found - listed, key=str)]
    errors += [f"{LESSON_INDEX}: lists {lesson.notebook} as {lesson.heading!r}, but {folder} has no such lesson "
               "(renamed or retitled? update the row)" for lesson in sorted(listed - found, key=str)]
    return errors

def shown_ids(kind: Kind) -> set[str]:
    """The ids a lesson may pass to ``kind``'s ``show_*`` function."""
    return set(kind.function("shown_ids")()) if kind.shown_ids else set(file_ids(kind.folder))


def check_content() -> tuple[int, list[str]]:
    """Validate every content file of every kind in the registry; returns (files checked, error messages)."""
    checked, errors = 0, []
    for kind in content_kinds():
        for item_id in file_ids(kind.folder):
            checked += 1
            try:
                kind.function("loader")(item_id)
            except ContentError as error:
                errors.append(str(error))
        if kind.shown_ids:  # rules across files (e.g. a prompt id used in two files)
            try:
                shown_ids(kind)
            except ContentError as error:
                errors.append(str(error))
    return checked, errors


def lesson_references(folder: Path) -> list[tuple[str, int, str, str]]:
    """Every ``show_x("id")`` call in the lessons in ``folder``: (notebook, cell number, function, id)."""
    found, shown = [], shown_kinds()
    for notebook in sorted(Path(folder).glob("*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        for number, cell in enumerate(cells, start=1):
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            for node in ast.walk(ast.parse(source)):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id in shown and node.args
                        and isinstance(node.args[0], ast.Constant)):
                    found.append((notebook.name, number, node.func.id, node.args[0].value))
    return found


def check_lesson_references(folder: Path) -> list[str]:
    """Messages for lesson cells in ``folder`` that show content which does not exist (or for no lessons)."""
    if not sorted(Path(folder).glob("*.ipynb")):
        return [f"{folder}: no lesson notebooks here (is --course the course folder?)"]
    errors = check_lesson_index(folder)
    known: dict[str, set[str]] = {}
    shown = shown_kinds()
    for notebook, cell, function, item_id in lesson_references(folder):
        kind = shown[function]
        if kind.name not in known:
            try:
                known[kind.name] = shown_ids(kind)
            except ContentError:
                known[kind.name] = set()  # reported by check_content
        if item_id not in known[kind.name]:
            noun = kind.shown_noun or kind.noun
            errors.append(f"{notebook}: cell {cell}: {function}({item_id!r}) names no existing {noun}")
    return errors
