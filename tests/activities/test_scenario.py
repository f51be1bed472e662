"""The scenario model, its validation, a learner's run and the player widget."""
import shutil
from pathlib import Path

import pytest
import yaml

from clientcare import content
from clientcare.scenario import ScenarioPlayer, ScenarioRun, load_scenario
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
    run = ScenarioRun(tiny)
    assert (run.score, run.max_score, run.percent) == (0, 0, 0)
    run.choose(1)
    assert (run.score, run.max_score, run.percent) == (0, 2, 0)


def test_best_path_scores_full_marks_and_ends_strong(tiny):
    run = ScenarioRun(tiny)
    assert run.choose(0).feedback == "Honest and specific."
    run.choose(0)
    assert run.finished and run.current.ending == "strong"
    assert (run.score, run.max_score) == (4, 4)


def test_poor_path_ends_early_with_its_points(tiny):
    run = ScenarioRun(tiny)
    run.choose(0)
    run.choose(1)
    assert run.finished and run.current.id == "annoyed"
    assert (run.score, run.max_score, run.percent) == (3, 4, 75)


def test_restart_clears_the_path(tiny):
    run = ScenarioRun(tiny)
    run.choose(1)
    run.restart()
    assert (run.current_id, run.score, run.steps) == ("call", 0, [])


def test_choosing_after_the_end_or_out_of_range_is_refused(tiny):
    run = ScenarioRun(tiny)
    with pytest.raises(ValueError, match="choice 5 does not exist at node 'call'"):
        run.choose(4)
    run.choose(1)
    with pytest.raises(ValueError, match="has ended"):
        run.choose(0)


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


def test_player_shows_feedback_score_and_summary_and_saves_result(tiny, learner_home):
    player = ScenarioPlayer(tiny)
    assert [b.description for b in player.choices.children] == [
        "1. Apologise, explain the delay and give a firm new date.", "2. Say it is nearly done."]
    player.choices.children[0].click()
    assert "Good choice (+2)" in player.feedback.value and "Honest and specific." in player.feedback.value
    assert "Score: 2 of 2" in player.score.value
    player.choices.children[1].click()
    assert "Partly right (+1)" in player.feedback.value
    assert "A poor outcome: you scored 3 of 4 (75%)" in player.choices.children[0].value
    assert "Dana escalates to your director." in player.dialogue.value
    saved = LearnerFile("scenarios").load()["tiny-scenario"]
    assert saved["finished"] and (saved["best_score"], saved["max_score"]) == (3, 4)
    player.restart_button.click()
    assert player.feedback.value == "" and len(player.choices.children) == 2
    player.choices.children[0].click()
    player.choices.children[0].click()
    saved = LearnerFile("scenarios").load()["tiny-scenario"]
    assert (saved["best_score"], saved["last_score"], saved["attempts"]) == (4, 4, 2)
    player.restart_button.click()
    player.choices.children[1].click()  # a worse attempt does not replace the best one
    saved = LearnerFile("scenarios").load()["tiny-scenario"]
    assert (saved["best_score"], saved["max_score"], saved["last_score"], saved["attempts"]) == (4, 4, 0, 3)


def test_feedback_and_settings_render_markdown_but_not_raw_html(content_dir):
    write_variant(content_dir, lambda d: d.update(setting="A **key** client.\n\nSecond <script>x</script> paragraph."))
    player = ScenarioPlayer(load_scenario("tiny-scenario"))
    assert "<strong>key</strong>" in player.title.value and "<p>Second" in player.title.value
    assert "<script>" not in player.title.value


def test_every_choice_button_has_a_readable_label(tiny):
    player = ScenarioPlayer(tiny)
    for button in player.choices.children:
        assert button.description and button.tooltip
    assert player.restart_button.description == "Restart scenario"
