"""The course glossary: ``content/glossary.yaml`` (the terms) -> ``course/lessons/glossary.ipynb``.

Each term links to the section of the lesson that teaches it (the section where it first appears).
``python -m clientcare.glossary`` writes the notebook (committed without outputs; a test checks it is
in sync with the terms file), and :func:`check_glossary` (run by ``clientcare check`` and a test)
reports every capitalised abbreviation a lesson uses that the glossary lacks (neither a term, an
alias nor listed in ``not_terms``), and every term not used in the lesson it names.
"""
from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from . import content
from .content import ContentError, check_known_fields, field, read_yaml, where

TERMS_FILE = "glossary.yaml"
NOTEBOOK = "glossary.ipynb"
# A capitalised abbreviation: 2-7 capitals, digits or "&" (OH&P), optionally a plural "s" (KPIs).
ABBREVIATION = re.compile(r"(?<![\w&])([A-Z][A-Z0-9&]{1,6})s?(?![\w&])")
_SECTION = re.compile(r"^## +(.+?)\s*$", re.M)


@dataclass(frozen=True)
class Term:
    term: str
    meaning: str
    definition: str
    lesson: int
    aliases: tuple[str, ...] = ()

    @property
    def forms(self) -> tuple[str, ...]:
        return (self.term, *self.aliases)


@dataclass(frozen=True)
class Glossary:
    terms: tuple[Term, ...]
    not_terms: frozenset[str]


def load_glossary() -> Glossary:
    """Read and validate ``content/glossary.yaml``."""
    path = content.CONTENT_DIR / TERMS_FILE
    data = read_yaml(path)
    check_known_fields(data, {"terms", "not_terms"}, where(path))
    not_terms = field(data, "not_terms", list, where(path), required=False, default=[])
    terms, seen = [], {}
    for number, raw in enumerate(field(data, "terms", list, where(path)), start=1):
        at = where(path, f"term {number}")
        name = field(raw, "term", str, at)
        at = where(path, f"term '{name}'")
        check_known_fields(raw, {"term", "meaning", "definition", "lesson", "aliases"}, at)
        aliases = field(raw, "aliases", list, at, required=False, default=[])
        term = Term(name, field(raw, "meaning", str, at), field(raw, "definition", str, at),
                    field(raw, "lesson", int, at), tuple(str(alias) for alias in aliases))
        for form in term.forms:
            if form in seen:
                raise ContentError(f"{at}: '{form}' is already a term or alias of '{seen[form]}'")
            if form in not_terms:
                raise ContentError(f"{at}: '{form}' is also listed in not_terms")
            seen[form] = name
        terms.append(term)
    return Glossary(tuple(sorted(terms, key=lambda t: t.term.lower())), frozenset(str(n) for n in not_terms))


# ---------------------------------------------------------------- the lessons


def _markdown_cells(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in cells if c["cell_type"] == "markdown"]


def _lessons(lessons_dir: Path) -> dict[int, Path]:
    return {int(path.name[:2]): path for path in sorted(Path(lessons_dir).glob("[0-9][0-9]-*.ipynb"))
            if path.name[:2] != "00"}


def _uses(form: str, text: str) -> re.Match | None:
    return re.search(rf"(?<![\w&]){re.escape(form)}s?(?![\w&])", text)


def first_section(term: Term, notebook: Path) -> str | None:
    """The heading (``N. Title``) of the first section that uses ``term``; "" if only the lesson's
    introduction does; None if the lesson never uses it."""
    heading, in_introduction = None, False
    for cell in _markdown_cells(notebook):
        for line in cell.splitlines():
            found = _SECTION.match(line)
            if found:
                heading = found.group(1)
            if any(_uses(form, line) for form in term.forms):
                if heading is not None:
                    return heading
                in_introduction = True
    return "" if in_introduction else None


def anchor(heading: str) -> str:
    """JupyterLab's id for a rendered heading: its text with spaces as hyphens (URL-encoded)."""
    return quote(heading.replace(" ", "-"), safe="-.,:'()")


def check_glossary(lessons_dir: Path) -> list[str]:
    """Abbreviations the lessons use that the glossary lacks, and terms not used where they are said to be taught."""
    try:
        glossary = load_glossary()
    except ContentError as error:
        return [str(error)]
    known = {form for term in glossary.terms for form in term.forms} | glossary.not_terms
    lessons, errors = _lessons(lessons_dir), []
    for number, path in lessons.items():
        text = "\n".join(_markdown_cells(path))
        missing = sorted({m.group(1) for m in ABBREVIATION.finditer(text)} - known)
        for name in missing:
            errors.append(f"{path.name}: uses '{name}', which {TERMS_FILE} lacks: add it as a term "
                          "(or an alias), or to not_terms if it is not a term")
    for term in glossary.terms:
        path = lessons.get(term.lesson)
        if path is None:
            errors.append(f"{TERMS_FILE}: term '{term.term}': lesson {term.lesson} does not exist")
        elif first_section(term, path) is None:
            errors.append(f"{TERMS_FILE}: term '{term.term}' is not used in lesson {term.lesson} ({path.name}), "
                          "where it is said to be taught")
    return errors


# ---------------------------------------------------------------- the notebook


def glossary_notebook(lessons_dir: Path) -> dict:
    """The glossary as a notebook: a title, then one Markdown cell per term, with a link to where it is taught."""
    glossary, lessons = load_glossary(), _lessons(lessons_dir)
    from .catalogue import lesson_heading

    cells = [{"cell_type": "markdown", "id": "glossary-title", "metadata": {}, "source":
              "# Glossary\n\nThe abbreviations used in the Client Care course, what they stand for and what "
              "they mean, each with a link to the lesson section that teaches it."}]
    for term in glossary.terms:
        path = lessons[term.lesson]
        section = first_section(term, path) or ""
        lesson = lesson_heading(path)
        where_taught = f"{lesson.heading if lesson else f'Lesson {term.lesson}'}" + (f", section {section}" if section else "")
        link = f"{path.name}#{anchor(section)}" if section else path.name
        also = f" Also written {', '.join(term.aliases)}." if term.aliases else ""
        slug = re.sub(r"[^a-z0-9]+", "-", term.term.lower()).strip("-")
        cells.append({"cell_type": "markdown", "id": f"glossary-{slug}", "metadata": {}, "source":
                      f"### {term.term}: {term.meaning}\n\n{term.definition}{also}\n\n"
                      f"Taught in [{where_taught}]({link})."})
    return {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                                        "name": "python3"}, "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def write_glossary(lessons_dir: Path) -> Path:
    from .lab import lesson_text

    path = Path(lessons_dir) / NOTEBOOK
    path.write_text(lesson_text(glossary_notebook(lessons_dir)), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    from .catalogue import lessons_dir

    argv = list(sys.argv[1:] if argv is None else argv)
    folder = Path(argv[0]) if argv else lessons_dir()
    errors = check_glossary(folder)
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    print(f"wrote {write_glossary(folder)}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
