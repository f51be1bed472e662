"""The glossary: generated from content/glossary.yaml and in sync with it, each term linked to the
lesson section that uses it first, and a check that lessons and glossary agree."""
import json
import textwrap

import pytest

from clientcare import glossary
from clientcare.content import ContentError
from clientcare.lab import lesson_text
from notebooks import LESSONS_DIR

TERMS = """\
not_terms: [UK]
terms:
  - term: KPI
    meaning: key performance indicator
    definition: A measure agreed in advance.
    lesson: 1
  - term: PI
    meaning: professional indemnity
    aliases: [PII]
    definition: Insurance.
    lesson: 1
"""
LESSON = ("# Lesson 1: Test\n\nIntro mentions KPIs.\n\n## 1. Measuring\n\nA KPI in the UK.\n\n"
          "## 2. Insurance\n\nHold PII cover.")


@pytest.fixture
def small_course(content_dir, tmp_path):
    (content_dir / glossary.TERMS_FILE).write_text(TERMS)
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    write_lesson(lessons, LESSON)
    return lessons


def write_lesson(folder, text):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": text}]
    (folder / "01-test.ipynb").write_text(json.dumps({"cells": cells}))


def test_the_glossary_notebook_is_in_sync_with_the_terms_file():
    stored = (LESSONS_DIR / glossary.NOTEBOOK).read_text(encoding="utf-8")
    assert lesson_text(glossary.glossary_notebook(LESSONS_DIR)) == stored, \
        "course/lessons/glossary.ipynb is out of date: run `python -m clientcare.glossary`"
    notebook = json.loads(stored)
    assert all(cell["cell_type"] == "markdown" for cell in notebook["cells"])  # nothing to run, no outputs


def test_the_lessons_and_the_glossary_agree():
    assert glossary.check_glossary(LESSONS_DIR) == []
    terms = {term.term for term in glossary.load_glossary().terms}
    for name in ("OH&P", "PI", "CHP", "ADR", "KPI", "CSAT", "NPS", "MLRO", "SAR", "PSC", "DPA", "NDA", "RIBA"):
        assert name in terms, name


def test_every_term_links_to_a_section_of_the_lesson_that_uses_it():
    for term in glossary.load_glossary().terms:
        path = sorted(LESSONS_DIR.glob(f"{term.lesson:02d}-*.ipynb"))[0]
        section = glossary.first_section(term, path)
        assert section, f"{term.term}: used in no section of {path.name}"
        headings = [line[3:] for cell in json.loads(path.read_text())["cells"] if cell["cell_type"] == "markdown"
                    for line in "".join(cell["source"]).splitlines() if line.startswith("## ")]
        assert section in headings
        assert f"]({path.name}#{glossary.anchor(section)})" in (LESSONS_DIR / glossary.NOTEBOOK).read_text()


def test_a_small_glossary_links_terms_and_aliases_to_their_sections(small_course):
    assert glossary.check_glossary(small_course) == []
    text = json.dumps(glossary.glossary_notebook(small_course))
    assert "Taught in [Lesson 1: Test, section 1. Measuring](01-test.ipynb#1.-Measuring)" in text
    assert "(01-test.ipynb#2.-Insurance)" in text and "Also written PII." in text


def test_a_lesson_using_an_abbreviation_the_glossary_lacks_fails(small_course):
    write_lesson(small_course, LESSON + "\n\nAsk the MLRO. Track the KPIs and the CSAT score.")
    assert glossary.check_glossary(small_course) == [
        f"01-test.ipynb: uses '{name}', which glossary.yaml lacks: add it as a term (or an alias), "
        "or to not_terms if it is not a term" for name in ("CSAT", "MLRO")]


def test_a_term_no_lesson_uses_fails(small_course):
    write_lesson(small_course, "# Lesson 1: Test\n\n## 1. Measuring\n\nA KPI.")
    assert glossary.check_glossary(small_course) == [
        "glossary.yaml: term 'PI' is not used in lesson 1 (01-test.ipynb), where it is said to be taught"]


@pytest.mark.parametrize("old, new, message", [
    ("    meaning: key performance indicator\n", "", "glossary.yaml: term 'KPI': field 'meaning' is missing"),
    ("    lesson: 1\n  - term: PI", "    lesson: one\n  - term: PI", "term 'KPI': field 'lesson' must be a whole number"),
    ("aliases: [PII]", "aliases: [KPI]", "glossary.yaml: term 'PI': 'KPI' is already a term or alias of 'KPI'"),
    ("not_terms: [UK]", "not_terms: [PII]", "glossary.yaml: term 'PI': 'PII' is also listed in not_terms"),
    ("    definition: Insurance.", "    defintion: Insurance.", "term 'PI': unknown field 'defintion'"),
])
def test_mistakes_in_the_terms_file_name_the_term_and_field(small_course, old, new, message):
    from clientcare import content

    (content.CONTENT_DIR / glossary.TERMS_FILE).write_text(textwrap.dedent(TERMS).replace(old, new, 1))
    with pytest.raises(ContentError) as caught:
        glossary.load_glossary()
    assert message in str(caught.value)
    assert glossary.check_glossary(small_course) == [str(caught.value)]
