"""The coverage matrix: every concept the course must teach -> the lesson section that teaches it
-> at least one practice or assessment item that makes the learner use it.

The matrix is ``tests/lessons/coverage.yaml`` (it replaces the old substring search of
``seed_concepts.txt``). Each row is

    - concept: conflicts of interest        # unique
      source: "000"                          # seed file, or "issue-13" / "design-9"
      lesson: 4                              # the lesson that teaches it
      section: Conflicts of interest         # words of a heading in that lesson's notebook
      terms: [conflict of interest]          # the section names the concept with one of these
      practice:                              # at least one item that practises or assesses it:
        - quiz:04-ethics/commission          #   quiz:<quiz>/<question>
        - scenario:venue-commission          #   scenario:<id> or scenario:<id>/<node>
        #   flashcard:<deck>/<card>, reflection:<prompt>, assignment:<name>/<grade_id of a graded or task cell>,
        #   task:<lesson number>/<words of the heading of a practice task in that lesson>
      open: lesson 4 owner to add a quiz item # optional: a row not yet complete

A row's owner (the lesson's author) fills it in; ``open`` rows are reported as expected failures
until they are complete, and the test fails if an ``open`` row has in fact become complete, so
the marker is removed. References in every row, open or not, must exist.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from notebooks import LESSONS_DIR, REPO, SOURCE_DIR, assignment_notebook, read_json, text_of

MATRIX_PATH = Path(__file__).with_name("coverage.yaml")
CONTENT = REPO / "course" / "clientcare" / "content"
KINDS = ("quiz", "scenario", "flashcard", "reflection", "assignment", "task")
ROW_FIELDS = {"concept", "source", "lesson", "section", "terms", "practice", "open"}


def load_matrix() -> list[dict]:
    rows = yaml.safe_load(MATRIX_PATH.read_text(encoding="utf-8"))
    assert isinstance(rows, list) and rows, "coverage.yaml is a list of rows"
    return rows


MATRIX = load_matrix()


def lesson_path(number: int) -> Path | None:
    found = sorted(LESSONS_DIR.glob(f"{int(number):02d}-*.ipynb"))
    return found[0] if found else None


@lru_cache(maxsize=None)
def sections(number: int) -> list[tuple[str, str]]:
    """(heading, text of the section under it, subsections included) for every heading of a lesson."""
    path = lesson_path(number)
    if path is None:
        return []
    lines = "\n".join(text_of(c) for c in read_json(path)["cells"] if c["cell_type"] == "markdown").splitlines()
    headings = [(i, len(m.group(1)), m.group(2).strip()) for i, line in enumerate(lines)
                if (m := re.match(r"^(#{1,6})\s+(.*)$", line))]
    found = []
    for k, (start, level, title) in enumerate(headings):
        end = next((i for i, lvl, _ in headings[k + 1:] if lvl <= level), len(lines))
        found.append((title, "\n".join(lines[start:end])))
    return found


def find_section(number: int, words: str) -> str | None:
    """The text of the first section whose heading contains ``words`` (case-insensitive)."""
    wanted = words.lower()
    return next((text for title, text in sections(number) if wanted in title.lower()), None)


@lru_cache(maxsize=None)
def content(kind: str, item_id: str) -> dict | None:
    path = CONTENT / kind / f"{item_id}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None


@lru_cache(maxsize=None)
def reflection_ids() -> frozenset[str]:
    ids = set()
    for path in (CONTENT / "reflections").glob("*.yaml"):
        ids |= {p["id"] for p in yaml.safe_load(path.read_text(encoding="utf-8")).get("prompts", [])}
    return frozenset(ids)


@lru_cache(maxsize=None)
def graded_cells(assignment: str) -> frozenset[str]:
    path = assignment_notebook(SOURCE_DIR, assignment)
    if not path.exists():
        return frozenset()
    marked = [c["metadata"].get("nbgrader", {}) for c in read_json(path)["cells"]]
    return frozenset(m["grade_id"] for m in marked if m.get("grade") or m.get("task"))


def reference_problem(ref: str) -> str | None:
    """Why a practice reference does not name an existing item, or None if it does."""
    kind, _, rest = str(ref).partition(":")
    if kind not in KINDS or not rest:
        return f"{ref!r}: write kind:id with kind one of {', '.join(KINDS)}"
    if kind == "quiz":
        quiz_id, _, question = rest.partition("/")
        quiz = content("quizzes", quiz_id)
        if quiz is None:
            return f"{ref!r}: no quiz {quiz_id!r}"
        if question not in {q["id"] for q in quiz["questions"]}:
            return f"{ref!r}: quiz {quiz_id!r} has no question {question!r}"
    elif kind == "scenario":
        scenario_id, _, node = rest.partition("/")
        scenario = content("scenarios", scenario_id)
        if scenario is None:
            return f"{ref!r}: no scenario {scenario_id!r}"
        if node and node not in scenario["nodes"]:
            return f"{ref!r}: scenario {scenario_id!r} has no node {node!r}"
    elif kind == "flashcard":
        deck_id, _, card = rest.partition("/")
        deck = content("flashcards", deck_id)
        if deck is None or card not in {c["id"] for c in deck["cards"]}:
            return f"{ref!r}: no card {card!r} in deck {deck_id!r}"
    elif kind == "reflection":
        if rest not in reflection_ids():
            return f"{ref!r}: no reflection prompt {rest!r}"
    elif kind == "assignment":
        name, _, grade_id = rest.partition("/")
        if grade_id not in graded_cells(name):
            return f"{ref!r}: assignment {name!r} has no graded cell {grade_id!r}"
    elif kind == "task":
        number, _, words = rest.partition("/")
        if not number.isdigit() or find_section(int(number), words) is None:
            return f"{ref!r}: lesson {number} has no heading containing {words!r}"
    return None


def row_problems(row: dict) -> list[str]:
    """Everything that stops a row from showing that its concept is taught and practised."""
    problems = []
    number = row.get("lesson")
    if not isinstance(number, int) or lesson_path(number) is None:
        return [f"lesson {number!r} is not a lesson notebook"]
    section = row.get("section")
    text = find_section(number, section) if section else None
    if text is None:
        problems.append(f"lesson {number} has no heading containing {section!r}")
    elif not any(term.lower() in re.sub(r"\s+", " ", text).lower() for term in row.get("terms", [])):
        problems.append(f"section {section!r} of lesson {number} does not name the concept ({row.get('terms')})")
    practice = row.get("practice") or []
    if not practice:
        problems.append("no practice or assessment item")
    problems += [p for p in (reference_problem(ref) for ref in practice) if p]
    return problems


def test_rows_are_well_formed_and_unique():
    concepts = [row.get("concept") for row in MATRIX]
    assert len(concepts) == len(set(concepts)), "each concept has one row"
    for row in MATRIX:
        assert set(row) <= ROW_FIELDS, f"{row.get('concept')!r}: unknown fields {sorted(set(row) - ROW_FIELDS)}"
        assert row.get("concept") and row.get("source") and row.get("terms"), f"incomplete row {row}"


def test_references_in_every_row_exist():
    """Open or complete, a row never names a quiz question, node, card or cell that does not exist."""
    broken = [f"{row['concept']}: {p}" for row in MATRIX
              for p in (reference_problem(ref) for ref in row.get("practice") or []) if p]
    assert broken == [], "\n".join(broken)


SEED_CONCEPTS_WHEN_MATRIX_REPLACED_THE_PHRASE_LIST = 105


def test_matrix_keeps_every_seed_concept():
    """The 105 concepts of the seed files (the old phrase list) all stay in the matrix."""
    seed_rows = [row for row in MATRIX if str(row["source"]) in {"000", "001", "002", "003", "004"}]
    assert len(seed_rows) >= SEED_CONCEPTS_WHEN_MATRIX_REPLACED_THE_PHRASE_LIST


def test_every_taught_lesson_has_rows():
    lessons = sorted(int(p.name[:2]) for p in LESSONS_DIR.glob("[0-9][0-9]-*.ipynb") if not p.name.startswith("00-"))
    covered = {row["lesson"] for row in MATRIX}
    assert [n for n in lessons if n not in covered] == []


def _row_param(row: dict):
    marks = [pytest.mark.xfail(strict=True, reason=f"open: {row['open']}")] if row.get("open") else []
    return pytest.param(row, id=row["concept"], marks=marks)


@pytest.mark.parametrize("row", [_row_param(row) for row in MATRIX])
def test_concept_is_taught_in_its_section_and_practised(row):
    problems = row_problems(row)
    assert problems == [], f"{row['concept']} (lesson {row.get('lesson')}): " + "; ".join(problems)
