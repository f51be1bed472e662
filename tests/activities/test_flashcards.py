"""Flashcards: deck validation, the study logic, the widget and saved progress."""
import random
import textwrap

import pytest

from clientcare.content import ContentError
from clientcare.flashcards import (
    Card, Flashcards, FlashcardsSession, FlashcardsView, load_flashcards, saved_known, show_flashcards,
)
from clientcare.store import LearnerFile

DECK = Flashcards("test", "Test deck", tuple(Card(f"card-{n}", f"Front {n}", f"Back {n}") for n in range(1, 6)))


def session(**kwargs):
    return FlashcardsSession(DECK, **kwargs)


def test_navigation_wraps_round_at_both_ends():
    s = session()
    assert s.current.id == "card-1" and s.position_text() == "Card 1 of 5"
    s.previous()
    assert s.current.id == "card-5"
    s.next()
    assert s.current.id == "card-1"
    for _ in range(4):
        s.next()
    assert s.current.id == "card-5"
    s.next()
    assert s.current.id == "card-1"


def test_flip_shows_the_back_and_moving_on_shows_the_front():
    s = session()
    assert s.face == "Front 1"
    s.flip()
    assert s.face == "Back 1" and s.showing_back
    s.next()
    assert s.face == "Front 2" and not s.showing_back


def test_shuffle_is_reproducible_with_a_seeded_random():
    first, second = session(rng=random.Random(7)), session(rng=random.Random(7))
    first.next()
    first.shuffle()
    second.shuffle()
    assert first.order == second.order and first.position == 0
    assert sorted(first.order) == list(range(5))
    expected = list(range(5))
    random.Random(7).shuffle(expected)
    assert first.order == expected
    seen = []
    for _ in range(5):
        seen.append(first.current.id)
        first.next()
    assert sorted(seen) == [card.id for card in DECK.cards]  # every card once


def test_marking_known_counts_progress():
    s = session()
    s.mark(True)
    s.next()
    s.mark(True)
    assert s.progress() == (2, 5) and s.progress_text() == "2 of 5 known"
    s.mark(False)
    assert s.progress_text() == "1 of 5 known" and not s.is_known()


def test_only_unknown_filter_skips_known_cards():
    s = session()
    for _ in range(3):  # know cards 1, 2, 3
        s.mark(True)
        s.next()
    assert s.current.id == "card-4"
    s.set_only_unknown(True)
    s.next()
    assert s.current.id == "card-5"
    s.next()
    assert s.current.id == "card-4"  # wraps past the known cards
    s.previous()
    assert s.current.id == "card-5"
    s.set_only_unknown(False)
    s.next()
    assert s.current.id == "card-1"


def test_turning_the_filter_on_moves_off_a_known_card():
    s = session()
    s.mark(True)
    s.set_only_unknown(True)
    assert s.current.id == "card-2"


def test_known_cards_are_saved_at_once_and_survive_a_new_session(learner_home):
    store = LearnerFile("flashcards")
    s = session(store=store)
    s.next()
    s.mark(True)
    assert LearnerFile("flashcards").load() == {"test": {"known": ["card-2"]}}
    again = session(store=LearnerFile("flashcards"))
    assert again.known == {"card-2"} and again.progress_text() == "1 of 5 known"
    again.next()
    again.mark(False)
    assert saved_known("test") == set()


def test_saving_one_deck_keeps_the_others(learner_home):
    LearnerFile("flashcards").save({"other": {"known": ["x"]}})
    session(store=LearnerFile("flashcards")).mark(True)
    assert LearnerFile("flashcards").load() == {"other": {"known": ["x"]}, "test": {"known": ["card-1"]}}


def test_cards_no_longer_in_the_deck_are_ignored(learner_home):
    LearnerFile("flashcards").save({"test": {"known": ["card-1", "removed-card"]}})
    assert session(store=LearnerFile("flashcards")).progress_text() == "1 of 5 known"


# ---------------------------------------------------------------- widget


def test_widget_buttons_drive_the_session(learner_home):
    view = FlashcardsView(session(store=LearnerFile("flashcards")))
    assert "Front 1" in view.card.value and "Question" in view.card.value
    view.flip_button.click()
    assert "Back 1" in view.card.value and view.flip_button.description == "Show question"
    view.next_button.click()
    assert "Front 2" in view.card.value and view.position.value == "Card 2 of 5"
    view.known_toggle.value = True
    assert "1 of 5 known" in view.progress.value
    view.next_button.click()
    assert view.known_toggle.value is False  # the toggle follows the card on screen
    view.previous_button.click()
    assert view.known_toggle.value is True
    again = FlashcardsView(session(store=LearnerFile("flashcards")))  # a later session
    assert "1 of 5 known" in again.progress.value


def test_widget_filter_and_all_known_message(learner_home):
    view = FlashcardsView(session())
    for _ in range(5):
        view.known_toggle.value = True
        view.next_button.click()
    view.filter_box.value = True
    assert "You know every card" in view.note.value


def test_widget_controls_are_labelled():
    view = FlashcardsView(session())
    for button in [view.flip_button, view.previous_button, view.next_button, view.shuffle_button, view.known_toggle]:
        assert button.description and button.tooltip
    assert view.next_button.description == "Next card" and view.filter_box.description


# ---------------------------------------------------------------- the deck file


def test_course_deck_covers_the_seed_questions():
    deck = load_flashcards("client-care")
    assert len(deck.cards) >= 25
    fronts = " ".join(card.front.lower() for card in deck.cards)
    for phrase in ["what is client care", "client brief", "empathy", "decline an instruction", "fee bid",
                   "fee proposal", "financially unstable", "lower your fees", "calculate a fee",
                   "client feedback", "complaints", "identify your clients", "needs and expectations",
                   "trust", "framework client", "repeat business", "client's office", "client and a customer",
                   "contract", "scope creep"]:
        assert phrase in fronts, phrase
    text = " ".join(card.back for card in deck.cards)
    assert "Stace" not in text and "Transparant" not in text
    assert show_flashcards("client-care").children


DECK_YAML = """\
id: tiny
title: Tiny deck
cards:
  - id: one
    front: Question one?
    back: Answer one.
  - id: two
    front: Question two?
    back: Answer two.
"""


@pytest.mark.parametrize("old, new, message", [
    ("    back: Answer two.\n", "", "flashcards/tiny.yaml: card 'two': field 'back' is missing"),
    ("  - id: two", "  - id: one", "flashcards/tiny.yaml: card id 'one' is used twice"),
    ("    front: Question one?", "    frnt: Question one?", "card 'one': unknown field 'frnt'"),
    ("  - id: two", "  - id: Two Cards", "card 2: field 'id' must be lower-case words"),
    ("title: Tiny deck\n", "", "flashcards/tiny.yaml: field 'title' is missing"),
    ("    front: Question two?", "    front: ''", "card 'two': field 'front' is empty"),
])
def test_deck_mistakes_name_the_file_card_and_field(content_dir, old, new, message):
    (content_dir / "flashcards" / "tiny.yaml").write_text(textwrap.dedent(DECK_YAML).replace(old, new, 1))
    with pytest.raises(ContentError) as caught:
        load_flashcards("tiny")
    assert message in str(caught.value)


def test_valid_small_deck_loads(content_dir):
    (content_dir / "flashcards" / "tiny.yaml").write_text(DECK_YAML)
    deck = load_flashcards("tiny")
    assert [card.id for card in deck.cards] == ["one", "two"] and deck.cards[1].back == "Answer two."
