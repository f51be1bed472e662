"""Flashcards with spaced repetition: scheduling through the real fsrs package, the review queue,
saved schedules (kernel restart, corrupt file, the upgrade of "known" marks), the widget, and
every deck of the course validated."""
import json
import re
import textwrap
import warnings
from datetime import datetime, timedelta, timezone

import pytest

from clientcare import srs
from clientcare.content import ContentError
from clientcare.flashcards import (
    Card, Flashcards, FlashcardsSession, FlashcardsView, all_decks, cards_due_today, load_flashcards,
    upgrade_known_marks,
)
from clientcare.store import CorruptFileWarning, LearnerFile
from notebooks import LESSONS_DIR, read_json

DECK = Flashcards("test", "Test deck", tuple(Card(f"card-{n}", f"Front {n}", f"Back {n}") for n in range(1, 4)), 1)
START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self, moment=START):
        self.moment = moment

    def __call__(self):
        return self.moment


def session(store=None, clock=None):
    return FlashcardsSession(DECK, store, clock or Clock())


def rate_current(s, answer):
    s.show_answer()
    return s.rate(answer)


# ---------------------------------------------------------------- FSRS through the real package


def test_a_card_rated_good_is_due_later_than_one_rated_again():
    again, good = srs.review(None, "Again", START), srs.review(None, "Good", START)
    assert srs.due_at(again) < srs.due_at(good)
    # once learnt, Good sends a card days away and Again brings it back within the hour
    learnt = srs.review(srs.review(good, "Good", START + timedelta(minutes=10)), "Good", START + timedelta(days=3))
    later = START + timedelta(days=30)
    assert srs.due_at(srs.review(learnt, "Good", later)) - later > timedelta(days=7)
    assert srs.due_at(srs.review(learnt, "Again", later)) - later < timedelta(hours=1)
    assert srs.state_name(srs.review(learnt, "Again", later)) == "relearning"


def test_ratings_are_the_four_fsrs_ratings():
    from fsrs import Rating

    assert [name for name, _, _ in srs.RATINGS] == ["Again", "Hard", "Good", "Easy"]
    assert [srs.rating(name) for name in ("Again", "Hard", "Good", "Easy")] == list(Rating)
    with pytest.raises(ValueError, match="Again, Hard, Good, Easy"):
        srs.rating("Known")


def test_a_review_asks_for_recall_before_it_takes_a_rating():
    s = session()
    assert s.face == "Front 1" and not s.showing_answer
    with pytest.raises(ValueError, match="show the answer"):
        s.rate("Good")
    s.show_answer()
    assert s.face == "Back 1"
    event = s.rate("Good")
    assert (event.collection, event.item, event.rating) == ("test", "card-1", "Good")
    assert s.current.card.id == "card-2" and not s.showing_answer


def test_a_review_says_when_each_rating_would_bring_the_card_back():
    s = session()
    assert s.comes_back() == {}  # nothing to rate until the answer is shown
    s.show_answer()
    assert s.comes_back() == {"Again": "in 1 minute", "Hard": "in 6 minutes", "Good": "in 10 minutes",
                              "Easy": "in 8 days"}
    assert s.rate("Easy").due - START == timedelta(days=8)  # what it said is what happens


def test_due_cards_come_first_and_a_card_rated_again_waits_for_the_others():
    clock = Clock()
    s = session(clock=clock)
    rate_current(s, "Again")  # card-1: due in a minute
    assert [item.card.id for item in s.queue()] == ["card-2", "card-3", "card-1"]
    rate_current(s, "Easy")   # card-2: days away
    rate_current(s, "Easy")   # card-3
    assert s.current.card.id == "card-1"  # due within the sitting, so it comes back
    rate_current(s, "Easy")
    assert s.current is None and s.counts() == {"due": 0, "new": 0, "total": 3}
    clock.moment = START + timedelta(days=40)  # on the day they are due, they are back
    assert {item.card.id for item in s.queue()} == {"card-1", "card-2", "card-3"}
    assert s.counts()["due"] == 3


def test_review_finished_tells_listeners_after_saving(learner_home):
    seen = []
    remove = srs.add_review_listener(seen.append)
    try:
        s = session(LearnerFile("flashcards"))
        event = rate_current(s, "Hard")
        assert seen == [event] and event.activity == "flashcard" and event.due > event.reviewed_at
        assert event.title == "Front 1"
    finally:
        remove()

    def broken(_event):
        raise RuntimeError("record store unreachable")

    remove = srs.add_review_listener(broken)
    try:
        with pytest.warns(UserWarning, match="review listener failed"):
            rate_current(s, "Good")
    finally:
        remove()
    assert "card-2" in LearnerFile("flashcards").load()["test"]["schedules"]  # the review was kept


# ---------------------------------------------------------------- saved schedules


def test_schedules_survive_a_kernel_restart(learner_home):
    s = session(LearnerFile("flashcards"))
    rate_current(s, "Good")
    rate_current(s, "Again")
    saved = json.loads((learner_home / "flashcards.json").read_text())
    assert saved["schema_version"] == 2 and set(saved["test"]["schedules"]) == {"card-1", "card-2"}
    again = session(LearnerFile("flashcards"))  # a new kernel reads the same file
    assert again.schedules == s.schedules
    assert srs.due_at(again.schedules[("test", "card-1")]) > srs.due_at(again.schedules[("test", "card-2")])
    assert again.current.card.id == "card-3"  # the one never studied; the others are not due yet


def test_a_corrupt_file_is_set_aside_and_a_broken_schedule_starts_again(learner_home):
    learner_home.mkdir(parents=True)
    (learner_home / "flashcards.json").write_text('{"test": {"schedules": ')
    with pytest.warns(CorruptFileWarning):
        s = session(LearnerFile("flashcards"))
    assert "could not be read" in s.warning and s.counts()["new"] == 3
    kept = list(learner_home.glob("flashcards.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_text() == '{"test": {"schedules": '  # nothing is lost
    view = FlashcardsView(s)
    assert "could not be read" in view.children[1].value
    rate_current(s, "Good")
    good = LearnerFile("flashcards").load()["test"]["schedules"]["card-1"]
    LearnerFile("flashcards").save({"test": {"schedules": {"card-1": good, "card-2": {"due": "soon"}}}})
    with pytest.warns(UserWarning, match="deck 'test': the saved schedule of card-2 could not be read"):
        s = session(LearnerFile("flashcards"))
    assert srs.is_new(s.schedule(s.items[1])) and not srs.is_new(s.schedule(s.items[0]))


def test_saving_one_deck_keeps_the_others(learner_home):
    other = {"other": {"schedules": {"x": srs.review(None, "Good", START)}}}
    LearnerFile("flashcards").save(other)
    rate_current(session(LearnerFile("flashcards")), "Good")
    data = LearnerFile("flashcards").load()
    assert data["other"] == other["other"] and list(data["test"]["schedules"]) == ["card-1"]


def test_known_marks_migrate_into_the_schedule(learner_home):
    # version 1: the old single deck "client-care", with list cards since split into single cards
    learner_home.mkdir(parents=True)
    (learner_home / "flashcards.json").write_text(json.dumps({
        "client-care": {"known": ["csat", "working-from-client-office", "no-longer-exists"]},
        "09-professional-standards": {"known": ["tipping-off"]},
        "schema_version": 1,
    }))
    data = LearnerFile("flashcards").load()
    lesson_3 = data["03-client-care-and-needs"]["schedules"]
    assert set(lesson_3) == {"client-office-advantages", "client-office-disadvantages"}
    assert set(data["08-complaints-and-feedback"]["schedules"]) == {"csat"}
    assert set(data["09-professional-standards"]["schedules"]) == {"tipping-off"}
    assert "client-care" not in data
    for schedule in lesson_3.values():  # a known card is not due today
        assert srs.state_name(schedule) == "review" and srs.due_at(schedule) > srs.now() + timedelta(days=2)
    LearnerFile("flashcards").update(lambda data: None)
    assert json.loads((learner_home / "flashcards.json").read_text())["schema_version"] == 2


def test_upgrade_keeps_a_mark_on_a_card_that_still_exists(content_dir):
    (content_dir / "flashcards" / "tiny.yaml").write_text(DECK_YAML)
    upgraded = upgrade_known_marks({"tiny": {"known": ["one", "gone"]}}, START)
    assert list(upgraded["tiny"]["schedules"]) == ["one"]
    assert srs.due_at(upgraded["tiny"]["schedules"]["one"]) > START + timedelta(days=2)


def test_cards_due_today_counts_across_the_course(learner_home):
    total = sum(len(deck.cards) for deck in all_decks())
    assert cards_due_today() == (0, total)
    LearnerFile("flashcards").save({"04-ethics": {"schedules": {
        "bribery": srs.review(None, "Again", srs.now()), "illegal-work": srs.review(None, "Easy", srs.now())}}})
    assert cards_due_today() == (1, total - 2)


def test_one_counter_says_what_is_due_today_apart_from_what_is_new():
    """srs.due_today is the one count behind the flashcards' and the interview questions' "due today"."""
    again, easy = srs.review(None, "Again", START), srs.review(None, "Easy", START)
    counted = srs.due_today([None, again, easy, {"due": "not a schedule"}], START)
    assert counted == (1, 2) and (counted.due, counted.new) == (1, 2)  # the unreadable one starts again as new
    assert srs.due_today([easy], srs.due_at(easy)) == (1, 0)  # on the day it falls due
    assert srs.due_today([], START) == (0, 0)


def test_flashcards_and_interview_questions_are_counted_alike(learner_home):
    from clientcare.interview import all_interviews, interview_questions_due

    bank, again = all_interviews()[0], srs.review(None, "Again", srs.now())
    LearnerFile("flashcards").save({"04-ethics": {"schedules": {"bribery": again}}})
    LearnerFile("interviews").save({bank.id: {bank.questions[0].id: {"schedule": again}}})
    cards, questions = cards_due_today(), interview_questions_due()
    assert type(cards) is type(questions) is srs.DueToday
    assert (cards.due, questions.due) == (1, 1)
    assert cards.new == sum(len(deck.cards) for deck in all_decks()) - 1
    assert questions.new == sum(len(b.questions) for b in all_interviews()) - 1


# ---------------------------------------------------------------- widget


def test_widget_shows_answer_then_takes_a_rating(learner_home):
    view = FlashcardsView(session(LearnerFile("flashcards")))
    assert "Front 1" in view.card.value and "Question" in view.card.value
    assert all(button.disabled for button in view.rating_buttons.values())
    assert "0 due for review</b>, 3 new" in view.counts.value
    view.show_button.click()
    assert "Back 1" in view.card.value and "Front 1" in view.card.value and view.show_button.disabled
    assert not any(button.disabled for button in view.rating_buttons.values())
    assert "due again in 10 minutes" in view.rating_buttons["Good"].tooltip
    assert "due again in" in view.rating_buttons["Easy"].tooltip
    # on the buttons themselves (so in their accessible names), not only in tooltips
    assert [b.description for b in view.ratings.children] == [
        "Again · in 1 minute", "Hard · in 6 minutes", "Good · in 10 minutes", "Easy · in 8 days"]
    view.rating_buttons["Good"].click()
    assert "Rated Good: this card comes back in 10 minutes" in view.note.value
    assert "Front 2" in view.card.value and not view.show_button.disabled
    assert [b.description for b in view.ratings.children] == ["Again", "Hard", "Good", "Easy"]  # the next card: not yet
    again = FlashcardsView(session(LearnerFile("flashcards")))  # a later session
    assert "2 new" in again.counts.value and "Front 2" in again.card.value


def test_widget_says_when_nothing_is_due():
    view = FlashcardsView(session())
    for _ in range(3):
        view.show_button.click()
        view.rating_buttons["Easy"].click()
    assert "Nothing is due for review now. The next card is due in" in view.card.value
    assert view.show_button.disabled and all(b.disabled for b in view.rating_buttons.values())


def test_widget_controls_are_labelled():
    view = FlashcardsView(session())
    for button in [view.show_button, *view.rating_buttons.values()]:
        assert button.description and button.tooltip
    assert [b.description for b in view.ratings.children] == ["Again", "Hard", "Good", "Easy"]


# ---------------------------------------------------------------- the course's decks


def test_every_lesson_ends_with_its_own_deck():
    decks = {deck.lesson: deck for deck in all_decks()}
    assert sorted(decks) == list(range(1, 10))
    for path in sorted(LESSONS_DIR.glob("0[1-9]-*.ipynb")):
        cells = read_json(path)["cells"]
        last = "".join(cells[-1]["source"])
        assert cells[-1]["cell_type"] == "code" and last == f'show_flashcards("{decks[int(path.name[:2])].id}")', path.name
        assert "".join(cells[-2]["source"]).startswith("## ") and "Flashcards" in "".join(cells[-2]["source"])


def test_every_card_is_one_fact_and_cites_its_source():
    decks = all_decks()
    for deck in decks:
        assert 10 <= len(deck.cards), deck.id
        for card in deck.cards:
            text = f"{card.front} {card.back}"
            assert len(re.findall(r"^\s*[-*] ", card.back, re.M)) <= 3, (deck.id, card.id)
            if "GDPR" in text:
                assert re.search(r"Article|Recital", text), f"{deck.id}/{card.id}: UK GDPR without the article"
            if "RICS" in card.back and "RICS-approved" not in card.back:
                assert re.search(r"20\d\d", text), f"{deck.id}/{card.id}: an RICS rule without its date"
            for act in re.finditer(r"\b(?!Which\b)(?:[A-Z][a-z]+ )+Act\b(?!,? \d{4})", text):
                pytest.fail(f"{deck.id}/{card.id}: '{act.group()}' without its year")


def test_the_seed_questions_are_all_asked_somewhere():
    fronts = " ".join(card.front.lower() for deck in all_decks() for card in deck.cards)
    for phrase in ["what is client care", "client brief", "empathy", "illegal", "fee bid", "fee proposal",
                   "financially unstable", "lower your fee", "charge-out rate", "feedback", "complaint",
                   "identify potential clients", "trust", "framework", "client's office", "client and a customer",
                   "contract", "scope creep", "oh&p", "tipping", "conflict of interest"]:
        assert phrase in fronts, phrase
    backs = " ".join(card.back for deck in all_decks() for card in deck.cards)
    assert "Stace" not in backs and "Transparant" not in backs


DECK_YAML = """\
id: tiny
title: Tiny deck
lesson: 2
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
    ("    front: Question one?", "    frnt: Question one?", "flashcards/tiny.yaml: card 'one': unknown field 'frnt'"),
    ("  - id: two", "  - id: Two Cards", "flashcards/tiny.yaml: card 2: field 'id' must be lower-case words"),
    ("title: Tiny deck\n", "", "flashcards/tiny.yaml: field 'title' is missing"),
    ("lesson: 2", "lesson: two", "flashcards/tiny.yaml: field 'lesson' must be a whole number"),
    ("    front: Question two?", "    front: ''", "flashcards/tiny.yaml: card 'two': field 'front' is empty"),
    ("    back: Answer two.", "    back: |\n      - a\n      - b\n      - c\n      - d",
     "flashcards/tiny.yaml: card 'two': field 'back' is a list of 4 points"),
    ("    back: Answer two.", "    back: Answer two.\n    formerly: [old-card]",
     "flashcards/tiny.yaml: card 'two': field 'formerly' lists 'old-card'"),
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
    assert deck.lesson == 2
