"""One registry of kinds: check, exports, the progress page, learner files and fixtures all follow it.

The last tests add a kind (a glossary) as one row, the way a new kind is added, and see it
validated by `clientcare check`, resolved in lessons, listed on the progress page and
given a content folder by the test fixture, with nothing else changed.
"""
import json
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

import clientcare
from clientcare import content, registry
from clientcare.catalogue import check_content, check_lesson_references
from clientcare.content import CONTENT_DIR, ContentError, field, identifier, load_item, where
from clientcare.progress import progress_summary
from clientcare.registry import KINDS, Kind, progress_row
from clientcare.store import CorruptFileWarning, LearnerFile


def test_every_name_in_the_table_exists():
    for kind in KINDS:
        for attribute in ("loader", "show", "shown_ids", "status"):
            if getattr(kind, attribute):
                assert callable(kind.function(attribute)), (kind.name, attribute)
        assert (kind.folder is None) == (kind.loader is None) == (kind.noun is None), kind.name


def test_exports_are_the_tables_show_functions():
    shows = sorted(kind.show for kind in KINDS if kind.show)
    assert clientcare.__all__ == shows
    for name in shows:
        assert callable(getattr(clientcare, name))


def test_every_content_folder_belongs_to_a_kind():
    folders = {path.name for path in CONTENT_DIR.iterdir() if path.is_dir()}
    assert folders == {kind.folder for kind in registry.content_kinds()}


def test_the_fixture_makes_every_kinds_folder(content_dir):
    assert sorted(p.name for p in content_dir.iterdir()) == sorted(k.folder for k in registry.content_kinds())


def test_messages_use_each_kinds_noun(content_dir):
    with pytest.raises(ContentError, match="no such quiz 'nope'"):
        registry.by_folder("quizzes").function("loader")("nope")


# ---------------------------------------------------------------- learner files


def test_a_file_from_before_schema_versions_still_loads(learner_home):
    learner_home.mkdir(parents=True)
    (learner_home / "quiz.json").write_text(json.dumps({"06-fees": {"last": 3, "best": 4, "total": 5, "attempts": 2}}))
    assert LearnerFile("quiz").load() == {"06-fees": {"last": 3, "best": 4, "total": 5, "attempts": 2}}


def test_every_save_carries_the_kinds_schema_version(learner_home):
    for kind in KINDS:
        if kind.learner_file:
            LearnerFile(kind.learner_file).save({"x": {"a": 1}})
            saved = json.loads((learner_home / f"{kind.learner_file}.json").read_text())
            assert saved == {"x": {"a": 1}, "schema_version": kind.schema_version}
            assert LearnerFile(kind.learner_file).load() == {"x": {"a": 1}}


def test_a_file_from_a_newer_course_is_kept_aside_not_misread(learner_home):
    learner_home.mkdir(parents=True)
    (learner_home / "flashcards.json").write_text(json.dumps({"deck": {"known": ["a"]}, "schema_version": 99}))
    with pytest.warns(CorruptFileWarning, match="newer version of the course"):
        assert LearnerFile("flashcards").load() == {}
    assert [p.name for p in learner_home.iterdir() if ".corrupt-" in p.name]


def test_old_files_are_upgraded_step_by_step(learner_home, monkeypatch):
    def rename_known(data):  # version 1 -> 2: "known" becomes "cards_known"
        return {deck: {"cards_known": record["known"]} for deck, record in data.items()}

    flashcards = registry.learner_file_kind("flashcards")
    upgraded = Kind(**{**flashcards.__dict__, "schema_version": 2, "upgrades": {1: rename_known}})
    monkeypatch.setattr(registry, "KINDS", tuple(upgraded if k is flashcards else k for k in KINDS))
    learner_home.mkdir(parents=True)
    (learner_home / "flashcards.json").write_text(json.dumps({"deck": {"known": ["a"]}}))  # version 0
    assert LearnerFile("flashcards").load() == {"deck": {"cards_known": ["a"]}}
    LearnerFile("flashcards").update(lambda data: None)
    assert json.loads((learner_home / "flashcards.json").read_text())["schema_version"] == 2


# ---------------------------------------------------------------- adding a kind is one row


@dataclass(frozen=True)
class Glossary:
    id: str
    lesson: int
    terms: tuple[str, ...]


def _parse_glossary(data, path: Path) -> Glossary:
    at = where(path)
    return Glossary(identifier(data, "id", at), field(data, "lesson", int, at), tuple(field(data, "terms", list, at)))


def _glossary_module() -> types.ModuleType:
    module = types.ModuleType("clientcare.glossary_for_test")
    module.load_glossary = lambda item_id: load_item("glossary", item_id, _parse_glossary)
    module.show_glossary = lambda item_id: module.load_glossary(item_id)

    def glossary_progress(problems):
        known = LearnerFile("glossary").load()
        return [progress_row(glossary.lesson, item_id, f"Glossary {item_id}", item_id in known, "Read")
                for item_id, glossary in content.loaded_items("glossary", module.load_glossary, problems)]

    module.glossary_progress = glossary_progress
    return module


@pytest.fixture
def with_glossary(monkeypatch):
    monkeypatch.setitem(sys.modules, "clientcare.glossary_for_test", _glossary_module())
    row = Kind("glossary", "Glossary", "glossary_for_test", folder="glossary", noun="glossary",
               loader="load_glossary", show="show_glossary", learner_file="glossary", status="glossary_progress")
    monkeypatch.setattr(registry, "KINDS", (*KINDS, row))
    return row


def test_a_new_kind_is_checked_shown_and_counted(with_glossary, content_dir, learner_home, tmp_path):
    folder = content_dir / "glossary"
    assert folder.is_dir()  # the fixture follows the registry
    (folder / "fees-terms.yaml").write_text(yaml.safe_dump({"id": "fees-terms", "lesson": 6, "terms": ["VAT"]}))
    (folder / "broken.yaml").write_text(yaml.safe_dump({"id": "broken", "lesson": "six", "terms": ["x"]}))
    checked, errors = check_content()
    assert checked == 2 and errors == ["glossary/broken.yaml: field 'lesson' must be a whole number, got 'six'"]
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": 'show_glossary("fees-terms")\nshow_glossary("no-such-terms")'}
    (lessons / "06-fees.ipynb").write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4,
                                                        "nbformat_minor": 5}))
    assert check_lesson_references(lessons) == [
        "06-fees.ipynb: cell 1: show_glossary('no-such-terms') names no existing glossary"]
    assert "show_glossary" in registry.exports()
    LearnerFile("glossary").save({"fees-terms": {"read": True}})
    summary = progress_summary()
    glossary = summary[summary["activity"] == "Glossary"]
    assert glossary[["id", "done"]].values.tolist() == [["fees-terms", True]]
    assert summary.attrs["problems"] == ["glossary/broken.yaml: field 'lesson' must be a whole number, got 'six'"]
    assert json.loads((learner_home / "glossary.json").read_text())["schema_version"] == 1
