"""Fictional people and organisations: one register, every name unique, every name in the course registered.

The register is ``course/clientcare/content/fictional-entities.yaml`` (format in content/README.md).
Finding the names a text uses is a documented heuristic, not a parser of English:

* a **person** is two capitalised words in a row whose first word is a common given name
  (the list below, plus the first name of every registered person): "Harriet Okafor";
* an **organisation** is a run of two to five capitalised words (``&``, ``and``, ``of``
  allowed inside) ending in a word that names a kind of organisation (Events, Estates,
  Partners, Ltd, Trust ...): "Kestrel Logistics", "Harrow & Finch Chartered Surveyors".
  Leading sentence words ("Because", "The"), job titles ("Head of Asset Management") and
  generic phrases ("Social Housing") are dropped by the rules below;
* real bodies and people named on purpose (laws, regulators, quoted public figures) are
  listed in ``REAL`` and need no registration.

A name found in the text must be registered (or contain or be contained in a registered name:
"Riverside Exchange" is covered by "The Riverside Exchange"). Texts searched: every content
file (all its text fields), the Markdown of every lesson and of every released assignment
(what learners read; test data in code cells is not searched).
"""
from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from clientcare.content import CONTENT_DIR
from notebooks import LESSONS_DIR, RELEASE_DIR, SOURCE_DIR, read_json, text_of

REGISTER = CONTENT_DIR / "fictional-entities.yaml"
KINDS = {"person", "organisation"}
LESSON_KEY = re.compile(r"^lesson-(\d{2})$")

GIVEN_NAMES = set("""
Aaron Abdul Abigail Adam Ade Adrian Agnes Ahmed Aidan Aileen Aisha Alan Alastair Aled Alex Alexander Alexandra
Alfie Ali Alice Alison Amanda Amara Amelia Amir Amit Amy Andrea Andrew Andy Angela Anil Anita Ann Anna Anne Annie
Anthony Anya Aoife Arjun Arthur Asha Ashley Aziz Barbara Beatrice Bella Ben Benjamin Beth Bethan Bilal Bill Bob
Bridget Bruce Callum Cameron Carl Carla Carmen Carol Caroline Catherine Cerys Charles Charlie Charlotte Chidi Chloe
Chris Christine Christopher Ciaran Claire Clare Colin Connor Craig Dafydd Dan Dana Daniel Danielle Darren David Dawn
Dean Deborah Declan Deepa Denise Derek Dev Diana Dominic Donna Dylan Ed Eddie Edward Eilidh Eleanor Elena Eliza
Elizabeth Ella Ellie Emily Emma Eric Erin Ethan Eve Evie Ewan Farah Fatima Felix Femi Fiona Frances Francesca Frank
Fraser Freya Gareth Gary Gavin Gemma George Georgia Gerald Gill Gillian Grace Graham Greg Hamish Hamza Hannah
Harriet Harry Harvey Hassan Hazel Heather Helen Henry Hiro Holly Hugh Iain Ian Imogen Imran Ines Isaac Isabel
Isabella Isla Ivan Jack Jacob Jade Jake James Jamie Jane Janet Jasmine Jason Jay Jean Jeff Jennifer Jenny Jess
Jessica Jim Joan Joanna Joanne Joe Joel John Jon Jonathan Jordan Joseph Josh Joshua Joy Judith Julia Julian Julie
Jun Justin Kamal Karen Kate Katherine Kathryn Katie Kay Keith Kelly Kenji Kevin Kieran Kim Kirsty Kofi Kwame Laura
Lauren Leah Lee Lena Leo Leon Liam Lily Linda Lisa Liz Lois Louise Lucas Lucy Luis Luke Lydia Maggie Malcolm Marcus
Margaret Maria Marie Mark Marta Martha Martin Mary Matt Matthew Maya Megan Mei Mel Melanie Mia Michael Michelle Mike
Miriam Mo Mohammed Molly Morag Nadia Naomi Natalie Nathan Neil Ngozi Nia Niamh Nicholas Nick Nicola Nikhil Nina
Noah Nora Oisin Oliver Olivia Omar Oscar Owen Pamela Patrick Paul Pauline Pedro Peter Phil Philip Phoebe Piotr
Pippa Polly Priya Rachel Rahul Raj Rajesh Ravi Rebecca Rhys Richard Rita Rob Robert Robin Rohan Rory Rosa Rose
Rosie Ross Ruby Rukhsana Russell Ruth Ryan Sadia Sally Sam Samantha Samir Samuel Sanjay Sara Sarah Scott Sean
Sebastian Shabana Sharon Shaun Simon Sinead Siobhan Sofia Sophie Stella Stephen Steve Stuart Sue Sunil Susan
Suzanne Tara Tariq Ted Theo Thomas Tim Tina Toby Tom Tomasz Tony Tracy Tunde Tyler Uma Vanessa Vicky Victoria
Vikram Vivek Wei Wendy Will William Yasmin Yusuf Zainab Zara Zoe
""".split())

ORGANISATION_WORDS = set("""
Academy Accountants Advisory Agency Architects Associates Association Audio Bakeries Bank Brewery Builders Capital
Care Caterers Catering Centre Charity Clinic Coaches College Communications Construction Consultancy Consultants
Consulting Council Dental Design Developments Energy Engineering Entertainment Estates Events Exchange Finance
Foods Foundation Freight Gardens Group Hall Healthcare Holdings Homecare Homes Hospitality Hotel Hotels Housing Inns
Insurance Investments LLP Labs Lettings Limited Living Logistics Ltd Management Manor Marketing Media Motors
Partners Partnership Pharma Planning Productions Properties Property Realty Recruitment Retail School Services
Software Solicitors Solutions Stores Studio Studios Surveying Surveyors Systems Technologies Travel Trust University
Venues plc
""".split())

# Words that start a capitalised run without being part of a name: sentence openers, titles, generic phrases.
LEADING_NOISE = set("""
A About After Also An And As At Because Before But By Call Contact Dear Email For From Her His If In Into Its
Meanwhile Now Of On Our Recommend Since So Tell Thank That The Their Then This To Under Unlike When While With Your
""".split())
GENERIC_FIRST = set("""
Asset Client Customer Director Facilities Finance Head Internal Local Manager National Private Professional Public
Regional Senior Social Chief
""".split())

# Real bodies, laws and people named on purpose: they need no registration.
REAL = {
    "Royal Institution of Chartered Surveyors", "National Crime Agency", "Supply of Goods and Services",
    "Merthyr Tydfil County Borough Council", "Bill Gates", "Client Care", "Financial Conduct Authority",
    "Information Commissioner's Office", "Bank of England", "Property Ombudsman", "Housing Ombudsman",
    "Chartered Institute of Public Relations", "Competition and Markets Authority", "Citizens Advice",
    # FHR European Ventures LLP v Cedar Capital Partners LLC [2014] UKSC 45: the Supreme Court case on secret commissions
    "FHR European Ventures LLP", "Cedar Capital Partners",
    # the glossary's professional bodies (content/glossary.yaml)
    "Royal Institute of British Architects", "Institute of Chartered Accountants",
}

CAP = r"[A-Z][a-zA-Z'’\-]+"
PERSON = re.compile(rf"\b({CAP}) ((?:Mc|Mac|O'|O’)?{CAP})\b")
ORGANISATION = re.compile(  # ends at the organisation word: "Northern Care Leaders Summit" is an event, not a firm
    rf"\b((?:{CAP}|&) (?:(?:{CAP}|&|and|of) ){{0,3}}(?:{'|'.join(sorted(ORGANISATION_WORDS))}))\b(?! [A-Z&])")
TITLES = {"Dr", "Mr", "Mrs", "Ms", "Miss", "Mx", "Professor", "Prof", "Sir", "Dame", "Lord", "Lady", "Rev", "Cllr"}
TITLED = re.compile(rf"\b({'|'.join(sorted(TITLES))}) ((?:Mc|Mac|O'|O’)?{CAP})\b")
# First words too common to tell two firms apart: the stem of "Harbour Lights Festival" is "harbour lights".
COMMON_FIRST = set("""
Bay Black Blue Bridge Castle Church City East Golden Grand Great Green Harbour High Hill Lake Little Lower Mill New
North Old Park Port Red River Royal Saint Silver South St Upper Vale Valley West White
""".split())
SKIP_KEYS = {"id", "kind", "next", "start", "to", "ending", "sets", "all", "any", "none", "unit"}


def normal(name: str) -> str:
    """Lower case, one space, no leading "the" or title: "Dr Nkem Adeyemi" -> "nkem adeyemi"."""
    words = name.replace("’", "'").split()
    while words and (words[0] in TITLES or words[0].lower() == "the"):
        words = words[1:]
    return " ".join(words).lower()


def load_register() -> dict[str, list[dict]]:
    data = yaml.safe_load(REGISTER.read_text(encoding="utf-8")) or {}
    assert isinstance(data, dict), "the register maps lesson keys (lesson-01 ...) to lists of entries"
    return data


def entries() -> list[tuple[str, dict]]:
    return [(key, entry) for key, listed in load_register().items() for entry in (listed or [])]


def strings(value, key=None):
    if key in SKIP_KEYS:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v, key)


def course_texts() -> list[tuple[str, int | None, str]]:
    """(where, lesson or None for course-wide, text) for everything a learner reads."""
    texts = []
    for path in sorted(CONTENT_DIR.rglob("*.yaml")):
        if path == REGISTER:
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        lesson = data.get("lesson") if isinstance(data.get("lesson"), int) else None
        where = path.relative_to(CONTENT_DIR).as_posix()
        texts += [(where, lesson, text) for text in strings(data)]
    for path in sorted(LESSONS_DIR.glob("[0-9][0-9]-*.ipynb")):
        lesson = int(path.name[:2]) or None
        texts += [(path.name, lesson, text_of(c)) for c in read_json(path)["cells"] if c["cell_type"] == "markdown"]
    for path in sorted(RELEASE_DIR.glob("*/*.ipynb")):
        texts += [(f"release/{path.parent.name}/{path.name}", None, text_of(c))
                  for c in read_json(path)["cells"] if c["cell_type"] == "markdown"]
    # One text per paragraph, heading, list item or table row, line breaks inside one joined.
    blocks = re.compile(r"\n\s*\n|\n(?=\s*(?:#|[-*] |\d+\. |\|))")
    return [(where, lesson, " ".join(block.split()))
            for where, lesson, text in texts for block in blocks.split(text) if block.strip()]


def names_in(text: str, given: set[str]) -> set[tuple[str, str]]:
    """(kind, name) of every person and organisation the heuristic finds in ``text``.

    A title and a surname ("Dr Adeyemi") is found as kind ``titled``: it must be the surname
    of a registered person.
    """
    found = set()
    for match in TITLED.finditer(text):
        if match.group(2) not in given:
            found.add(("titled", re.sub(r"['’]s?$", "", match.group(2))))
    for match in PERSON.finditer(text):
        if match.group(1) in given and match.group(2) not in ORGANISATION_WORDS:
            found.add(("person", re.sub(r"['’]s?$", "", match.group(0))))  # "Priya Shah's" is Priya Shah
    for match in ORGANISATION.finditer(text):
        words = match.group(1).split()
        while words and (words[0] in LEADING_NOISE or words[0] in ("&", "and", "of")):
            words = words[1:]
        if len(words) < 2 or words[0] in GENERIC_FIRST:
            continue
        if any(w.endswith(("'s", "’s")) for w in words[:-1]):  # "Northgate's Head of ...": a possessive, not a name
            continue
        found.add(("organisation", " ".join(words)))
    return found


def stem(name: str) -> str:
    """An organisation's distinctive first word: "brightwater" of "Brightwater Events".

    When the first word is an everyday word (COMMON_FIRST), the first two: "harbour lights".
    """
    words = [w for w in name.replace("’", "'").split() if w.lower() != "the"]
    if not words:
        return ""
    taken = words[:2] if words[0] in COMMON_FIRST and len(words) > 2 else words[:1]
    return " ".join(taken).lower()


def story(entry: dict) -> str:
    """The story an entry belongs to: the role's closing parenthesis, "(venue-commission)"."""
    match = re.search(r"\(([^()]*)\)\s*$", str(entry.get("role", "")))
    return match.group(1).strip().lower() if match else f"<{entry.get('name')}>"


# ---------------------------------------------------------------- the register itself


def test_every_entry_is_well_formed():
    problems = []
    for key, listed in load_register().items():
        if not LESSON_KEY.match(str(key)):
            problems.append(f"{key}: keys are lesson-NN (lesson-01 ... lesson-09)")
            continue
        for entry in listed or []:
            if not isinstance(entry, dict) or set(entry) != {"name", "kind", "role"}:
                problems.append(f"{key}: {entry!r}: an entry has exactly name, kind and role")
            elif entry["kind"] not in KINDS or not str(entry["name"]).strip() or not str(entry["role"]).strip():
                problems.append(f"{key}: {entry['name']!r}: kind is person or organisation; name and role not empty")
    assert problems == []


def test_every_name_is_registered_once_across_the_course():
    seen = defaultdict(list)
    for key, entry in entries():
        seen[normal(entry["name"])].append(f"{key} ({entry['role']})")
    twice = {name: where for name, where in seen.items() if len(where) > 1}
    assert twice == {}, f"names registered more than once: {twice}"


def test_no_two_organisations_share_a_distinctive_first_word():
    """One "Northgate" per course. A group and its practices in one story ("Meridian Events" and
    "Meridian Surveyors", both "(ethical-dilemmas assignment)") are one organisation and may share it."""
    by_stem = defaultdict(list)
    for key, entry in entries():
        if entry["kind"] == "organisation":
            by_stem[stem(entry["name"])].append((key, story(entry), entry["name"]))
    clashes = {s: [f"{name} ({key}, {where})" for key, where, name in found]
               for s, found in by_stem.items() if len({(key, where) for key, where, _ in found}) > 1}
    assert clashes == {}, f"organisations sharing a name (one 'Northgate' per course): {clashes}"


def test_no_person_is_named_after_an_unrelated_organisation():
    """"Tom Kestrel" next to "Kestrel Logistics" reads as one family; fine only if his role names that firm."""
    firms = {stem(e["name"]): e["name"] for _, e in entries() if e["kind"] == "organisation"}
    wrong = [f"{e['name']} ({key}) and {firms[normal(e['name']).split()[-1]]}" for key, e in entries()
             if e["kind"] == "person" and normal(e["name"]).split()[-1] in firms
             and firms[normal(e["name"]).split()[-1]] not in e["role"]]
    assert wrong == [], f"people whose surname is an unrelated firm's name: {wrong}"


# ---------------------------------------------------------------- the course against the register


@pytest.fixture(scope="module")
def texts():
    return course_texts()


@pytest.fixture(scope="module")
def registered():
    return {normal(e["name"]): key for key, e in entries()}


def covered(name: str, registered: dict[str, str]) -> bool:
    n = normal(name)
    return n in registered or any(r in n or n in r for r in registered)


def test_every_person_and_organisation_named_in_the_course_is_registered(texts, registered):
    people = [normal(e["name"]).split() for _, e in entries() if e["kind"] == "person"]
    given = GIVEN_NAMES | {words[0].title() for words in people if words}
    surnames = {words[-1] for words in people if words}
    missing = defaultdict(set)
    for where, _lesson, text in texts:
        for kind, name in names_in(text, given):
            known = name.lower() in surnames if kind == "titled" else covered(name, registered)
            if name not in REAL and not known:
                missing[f"{kind} {name}"].add(where)
    report = [f"{name} (in {', '.join(sorted(where))})" for name, where in sorted(missing.items())]
    assert report == [], "not in fictional-entities.yaml:\n" + "\n".join(report)


def test_a_lesson_uses_only_its_own_fictional_entities(texts):
    """A name registered under lesson-05 appears in no other lesson's notebook or content files."""
    owners = {}
    for key, entry in entries():
        owners[entry["name"]] = int(LESSON_KEY.match(key).group(1))
    wrong = set()
    for where, lesson, text in texts:
        if lesson is None:
            continue
        for name, owner in owners.items():
            if owner != lesson and name in text and re.search(rf"\b{re.escape(name)}\b", text):
                wrong.add(f"{name} (registered for lesson {owner}) in {where} (lesson {lesson})")
    assert sorted(wrong) == []


def test_every_registered_name_is_used(texts):
    """Every registered name appears somewhere: content, lessons, or an assignment (notebooks and data)."""
    assignments = [path.read_text(encoding="utf-8", errors="replace")
                   for path in sorted(SOURCE_DIR.rglob("*")) if path.is_file() and path.suffix in (".ipynb", ".csv", ".json", ".txt", ".yaml", ".md")]
    everything = " ".join([text for _, _, text in texts] + [" ".join(a.split()) for a in assignments])
    everything = everything.replace("’", "'").lower()
    unused = [f"{e['name']} ({key})" for key, e in entries() if normal(e["name"]) not in everything]
    assert unused == [], f"registered but not used anywhere (remove or fix the spelling): {unused}"


# ---------------------------------------------------------------- the heuristic itself


def test_the_heuristic_finds_people_and_firms_and_skips_titles_and_sentence_words():
    text = ("Because Granta Events had no record, Harriet Okafor, Head of Asset Management at Harrow & Finch "
            "Chartered Surveyors, rang Social Housing and Northgate's Head of Asset Management. Tom said no.")
    assert names_in(text, GIVEN_NAMES) == {
        ("organisation", "Granta Events"), ("person", "Harriet Okafor"),
        ("organisation", "Harrow & Finch Chartered Surveyors")}
    assert names_in("Dr Adeyemi chairs the Northern Care Leaders Summit for Kestrel Logistics Ltd.", GIVEN_NAMES) == {
        ("titled", "Adeyemi"), ("organisation", "Kestrel Logistics Ltd")}
    assert stem("The Brightwater Events") == stem("Brightwater Surveyors") == "brightwater"
    assert stem("Harbour Lights Festival") != stem("Harbour Lane Housing Association")
    assert normal("Dr Nkem  Adeyemi") == "nkem adeyemi"
