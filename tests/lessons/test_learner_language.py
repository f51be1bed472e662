"""Learner-facing text teaches in its own voice: no "seed", no "the course material says".

Searched: every text field of every content file, the Markdown of every lesson and of every
released assignment (what learners read). Authoring documents (README.md, CONVENTIONS.md)
may speak of seeds; learners never see them.
"""
import re

import yaml

from clientcare.content import CONTENT_DIR
from notebooks import LESSONS_DIR, RELEASE_DIR, read_json, text_of

AUTHORING = re.compile(r"\bseeds?\b|\bcourse materials?\b|\bsource materials?\b", re.IGNORECASE)


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def learner_texts():
    for path in sorted(CONTENT_DIR.rglob("*.yaml")):
        for text in strings(yaml.safe_load(path.read_text(encoding="utf-8"))):
            yield path.relative_to(CONTENT_DIR).as_posix(), text
    for path in [*sorted(LESSONS_DIR.glob("*.ipynb")), *sorted(RELEASE_DIR.glob("*/*.ipynb"))]:
        for cell in read_json(path)["cells"]:
            if cell["cell_type"] == "markdown":
                yield path.name, text_of(cell)


def test_no_learner_facing_text_cites_authoring_material_as_an_authority():
    found = []
    for where, text in learner_texts():
        for match in AUTHORING.finditer(text):
            start = max(0, match.start() - 40)
            found.append(f"{where}: ...{' '.join(text[start:match.end() + 40].split())}...")
    assert found == [], "learner-facing text refers to authoring material:\n" + "\n".join(found)


def test_the_search_catches_the_phrases_it_is_for():
    for phrase in ("The seed principle is", "as the seed tells you", "According to the course material,",
                   "Seeds of doubt"):
        assert AUTHORING.search(phrase)
    assert not AUTHORING.search("Proceeds of Crime Act 2002, s.333A")
