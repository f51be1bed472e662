"""Learners' saved answers: atomic saves, corrupt files kept aside, reflections restored."""
import json
import os

import pytest
import yaml

from clientcare import store
from clientcare.content import ContentError
from clientcare.reflection import ReflectionSession, ReflectionView, load_reflection, show_reflection
from clientcare.store import CorruptFileWarning, LearnerFile


def test_saved_object_survives_a_new_instance(learner_home):
    LearnerFile("journal").save({"a": {"text": "Réflexion: fees £1,200"}})
    assert LearnerFile("journal").load() == {"a": {"text": "Réflexion: fees £1,200"}}
    assert (learner_home / "journal.json").exists()


def test_missing_file_loads_as_empty(learner_home):
    assert LearnerFile("quiz").load() == {}


def test_crash_in_the_middle_of_a_save_keeps_the_previous_version(learner_home, monkeypatch):
    saved = LearnerFile("journal")
    saved.save({"prompt": {"text": "first answer"}})

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("kernel interrupted mid-save")

    with monkeypatch.context() as patched, pytest.raises(KeyboardInterrupt):
        patched.setattr(store.os, "replace", crash)
        saved.save({"prompt": {"text": "second answer"}})
    assert LearnerFile("journal").load() == {"prompt": {"text": "first answer"}}
    assert [p.name for p in learner_home.iterdir() if p.suffix == ".tmp"] == []


def test_crash_while_writing_the_bytes_keeps_the_previous_version(learner_home, monkeypatch):
    saved = LearnerFile("journal")
    saved.save({"prompt": {"text": "first answer"}})
    with monkeypatch.context() as patched, pytest.raises(OSError, match="disk full"):
        patched.setattr(store.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError("disk full")))
        saved.save({"prompt": {"text": "x" * 100_000}})
    assert LearnerFile("journal").load() == {"prompt": {"text": "first answer"}}


@pytest.mark.parametrize("damage", ['{"prompt": {"text": "half', "", "[1, 2, 3]", "\x00\x01garbage"])
def test_corrupt_file_is_set_aside_with_a_warning_never_dropped(learner_home, damage):
    (learner_home).mkdir(parents=True, exist_ok=True)
    (learner_home / "journal.json").write_text(damage)
    saved = LearnerFile("journal")
    with pytest.warns(CorruptFileWarning, match="could not be read"):
        assert saved.load() == {}
    kept = [p for p in learner_home.iterdir() if p.name.startswith("journal.json.corrupt-")]
    assert len(kept) == 1 and kept[0].read_text() == damage
    assert str(kept[0]) in saved.warning
    saved.save({"new": {"text": "fresh start"}})
    assert json.loads((learner_home / "journal.json").read_text()) == {"new": {"text": "fresh start"}, "schema_version": 1}
    assert kept[0].read_text() == damage


def test_update_merges_with_what_is_on_disk(learner_home):
    first, second = LearnerFile("journal"), LearnerFile("journal")
    first.update(lambda d: d.update(a=1))
    second.update(lambda d: d.update(b=2))
    assert LearnerFile("journal").load() == {"a": 1, "b": 2}


@pytest.fixture
def prompts(content_dir):
    (content_dir / "reflections" / "01-lesson.yaml").write_text(yaml.safe_dump({
        "id": "01-lesson", "lesson": 1,
        "prompts": [{"id": "01-accountability", "title": "Personal accountability",
                     "prompt": "Reflect on a time you let a client down."}],
    }))
    return content_dir


def test_reflection_is_saved_as_typed_and_restored_after_a_restart(prompts, learner_home):
    box = ReflectionView(ReflectionSession(load_reflection("01-accountability"), LearnerFile("journal")))
    assert box.text.value == ""
    box.text.value = "I missed a weekly update to Harbour Estates."
    assert "Saved at" in box.status.value
    # a kernel restart: nothing in memory survives, only the learner's file
    restored = ReflectionView(ReflectionSession(load_reflection("01-accountability"), LearnerFile("journal")))
    assert restored.text.value == "I missed a weekly update to Harbour Estates."
    assert "restored" in restored.status.value


def test_save_button_saves(prompts, learner_home):
    box = ReflectionView(ReflectionSession(load_reflection("01-accountability"), LearnerFile("journal")))
    box.text.value = "Draft"
    box.save_button.click()
    assert ReflectionSession(load_reflection("01-accountability"), LearnerFile("journal")).text == "Draft"


def test_reflection_with_a_corrupt_journal_warns_in_the_widget(prompts, learner_home):
    learner_home.mkdir(parents=True, exist_ok=True)
    (learner_home / "journal.json").write_text("{not json")
    with pytest.warns(CorruptFileWarning):
        box = ReflectionView(ReflectionSession(load_reflection("01-accountability"), LearnerFile("journal")))
    assert "could not be read" in box.status.value and "kept as" in box.status.value


def test_failed_save_tells_the_learner(prompts, learner_home, monkeypatch):
    box = ReflectionView(ReflectionSession(load_reflection("01-accountability"), LearnerFile("journal")))
    monkeypatch.setattr(store, "atomic_write_text", lambda *a: (_ for _ in ()).throw(OSError("read-only")))
    box.text.value = "Important thought"
    assert "Could not save (read-only)" in box.status.value
    assert box.text.value == "Important thought"


def test_reflection_controls_have_labels(prompts):
    box = ReflectionView(ReflectionSession(load_reflection("01-accountability"), LearnerFile("journal")))
    assert box.text.description == "Your answer" and box.save_button.description == "Save"


def test_unknown_prompt_lists_available_ones(prompts):
    with pytest.raises(ContentError, match=r"no reflection prompt 'nope' \(available: 01-accountability\)"):
        show_reflection("nope")


def test_prompt_id_used_in_two_files_is_an_error(prompts):
    (prompts / "reflections" / "02-lesson.yaml").write_text(yaml.safe_dump({
        "id": "02-lesson", "lesson": 2,
        "prompts": [{"id": "01-accountability", "title": "Again", "prompt": "Duplicate id."}],
    }))
    with pytest.raises(ContentError, match="prompt id '01-accountability' is already used in reflections/01-lesson.yaml"):
        load_reflection("01-accountability")


def test_prompt_missing_text_is_named(content_dir):
    (content_dir / "reflections" / "03-x.yaml").write_text(yaml.safe_dump({
        "id": "03-x", "lesson": 3, "prompts": [{"id": "03-a", "title": "A"}]}))
    with pytest.raises(ContentError, match=r"reflections/03-x.yaml: prompt '03-a': field 'prompt' is missing"):
        load_reflection("03-a")
