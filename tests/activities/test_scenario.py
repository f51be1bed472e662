"""The scenario model, its validation, a learner's session and the scenario view (widget)."""
import shutil
from pathlib import Path

import pytest
import yaml

from clientcare import content
from clientcare.scenario import ScenarioSession, ScenarioView, load_scenario
from clientcare.store import LearnerFile

TINY = Path(__file__).parent / "data" / "tiny-scenario.yaml"


@pytest.fixture
def tiny(content_dir):
    shutil.copy(TINY, content_dir / "scenarios" / "tiny-scenario.yaml")
    return load_scenario("tiny-scenario")


def write_variant(content_dir, change):
    data = yaml.safe_load(TINY.read_text())
    change(data)
    (content_dir / "scenarios" / "tiny-scenario.yaml").write_text(yaml.safe_dump(data))


def error_for(content_dir, change) -> str:
    write_variant(content_dir, change)
    with pytest.raises(content.ContentError) as caught:
        load_scenario("tiny-scenario")
    return str(caught.value)


def test_score_is_out_of_two_points_per_decision_taken(tiny):
    session = ScenarioSession(tiny)
    assert (session.score, session.max_score, session.percent) == (0, 0, 0)
    session.choose(1)
    assert (session.score, session.max_score, session.percent) == (0, 2, 0)


def test_best_path_scores_full_marks_and_ends_strong(tiny):
    session = ScenarioSession(tiny)
    assert session.choose(0).feedback == "Honest and specific."
    session.choose(0)
    assert session.finished and session.current.ending == "strong"
    assert (session.score, session.max_score) == (4, 4)


def test_poor_path_ends_early_with_its_points(tiny):
    session = ScenarioSession(tiny)
    session.choose(0)
    session.choose(1)
    assert session.finished and session.current.id == "annoyed"
    assert (session.score, session.max_score, session.percent) == (3, 4, 75)


def test_restart_clears_the_path(tiny):
    session = ScenarioSession(tiny)
    session.choose(1)
    session.restart()
    assert (session.current_id, session.score, session.steps) == ("call", 0, [])


def test_choosing_after_the_end_or_out_of_range_is_refused(tiny):
    session = ScenarioSession(tiny)
    with pytest.raises(ValueError, match="choice 5 does not exist at node 'call'"):
        session.choose(4)
    session.choose(1)
    with pytest.raises(ValueError, match="has ended"):
        session.choose(0)


def test_missing_next_node_names_file_node_and_choice(content_dir):
    message = error_for(content_dir, lambda d: d["nodes"]["call"]["choices"][1].update(next="apologise"))
    assert message == "scenarios/tiny-scenario.yaml: node 'call': choice 2: 'next' points at missing node 'apologise'"


def test_missing_feedback_is_named(content_dir):
    message = error_for(content_dir, lambda d: d["nodes"]["follow-up"]["choices"][0].pop("feedback"))
    assert message == "scenarios/tiny-scenario.yaml: node 'follow-up': choice 1: field 'feedback' is missing"


def test_loop_is_rejected(content_dir):
    message = error_for(content_dir, lambda d: d["nodes"]["follow-up"]["choices"][1].update(next="call"))
    assert "loops (call -> follow-up -> call)" in message


def test_unreachable_node_is_rejected(content_dir):
    message = error_for(content_dir, lambda d: d["nodes"].update(orphan={"text": "Nobody gets here.", "ending": "mixed"}))
    assert message == "scenarios/tiny-scenario.yaml: node 'orphan': cannot be reached from 'call'"


@pytest.mark.parametrize("change, expected", [
    (lambda d: d["nodes"]["call"]["choices"][0].update(points=3), "choice 1: field 'points' must be 0, 1 or 2, got 3"),
    (lambda d: d["nodes"]["call"]["choices"][0].update(points="two"), "choice 1: field 'points' must be a whole number"),
    (lambda d: d["nodes"]["call"]["choices"][0].update(points=1), "node 'call': no choice is worth 2 points"),
    (lambda d: d["nodes"]["kept"].update(ending="great"), "node 'kept': field 'ending' must be one of strong, mixed, poor"),
    (lambda d: d["nodes"]["kept"].pop("ending"), "node 'kept': field 'ending' is missing"),
    (lambda d: d["nodes"]["call"]["choices"][0].update(feedbak="x"), "choice 1: unknown field 'feedbak'"),
    (lambda d: d["nodes"]["call"].update(choices=d["nodes"]["call"]["choices"][:1]), "must hold 2 to 4 choices, found 1"),
    (lambda d: d.update(id="other"), "field 'id' is 'other' but must equal the file name"),
    (lambda d: d.update(start="hello"), "field 'start' points at missing node 'hello'"),
])
def test_rule_breaks_are_reported(content_dir, change, expected):
    assert expected in error_for(content_dir, change)


def test_invalid_yaml_reports_the_line(content_dir):
    (content_dir / "scenarios" / "tiny-scenario.yaml").write_text("id: tiny-scenario\ntitle: [unclosed\n")
    with pytest.raises(content.ContentError, match=r"tiny-scenario.yaml: not valid YAML at line \d+"):
        load_scenario("tiny-scenario")


def test_unknown_scenario_lists_what_exists(tiny):
    with pytest.raises(content.ContentError, match=r"no such scenario 'nope' \(available: tiny-scenario\)"):
        load_scenario("nope")


def test_view_shows_feedback_score_and_summary_and_saves_result(tiny, learner_home):
    view = ScenarioView(ScenarioSession(tiny, LearnerFile("scenarios")))
    assert [b.description for b in view.choices.children] == [
        "1. Apologise, explain the delay and give a firm new date.", "2. Say it is nearly done."]
    view.choices.children[0].click()
    assert "Good choice (+2)" in view.feedback.value and "Honest and specific." in view.feedback.value
    assert "Score: 2 of 2" in view.score.value
    view.choices.children[1].click()
    assert "Partly right (+1)" in view.feedback.value
    assert "A poor outcome: you scored 3 of 4 (75%)" in view.choices.children[0].value
    assert "Dana escalates to your director." in view.dialogue.value
    saved = LearnerFile("scenarios").load()["tiny-scenario"]
    assert saved["finished"] and (saved["best_score"], saved["max_score"]) == (3, 4)
    view.restart_button.click()
    assert view.feedback.value == "" and len(view.choices.children) == 2
    view.choices.children[0].click()
    view.choices.children[0].click()
    saved = LearnerFile("scenarios").load()["tiny-scenario"]
    assert (saved["best_score"], saved["last_score"], saved["attempts"]) == (4, 4, 2)
    view.restart_button.click()
    view.choices.children[1].click()  # a worse attempt does not replace the best one
    saved = LearnerFile("scenarios").load()["tiny-scenario"]
    assert (saved["best_score"], saved["max_score"], saved["last_score"], saved["attempts"]) == (4, 4, 0, 3)


def test_feedback_and_settings_render_markdown_but_not_raw_html(content_dir):
    write_variant(content_dir, lambda d: d.update(setting="A **key** client.\n\nSecond <script>x</script> paragraph."))
    view = ScenarioView(ScenarioSession(load_scenario("tiny-scenario")))
    assert "<strong>key</strong>" in view.title.value and "<p>Second" in view.title.value
    assert "<script>" not in view.title.value


def test_every_choice_button_has_a_readable_label(tiny):
    view = ScenarioView(ScenarioSession(tiny))
    for button in view.choices.children:
        assert button.description and button.tooltip
    assert view.restart_button.description == "Restart scenario"
