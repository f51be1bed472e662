"""The cue lint (is the best option the longest?) and the cue bots, on small made-up content."""
import textwrap

import pytest
import yaml

from clientcare import cues
from clientcare.cues import (
    CueItem, CueReport, bot_scores, cue_report, lint, play_quiz, play_scenario, quiz_items, scenario_items,
)
from clientcare.order import Attempt
from clientcare.quiz import load_quiz
from clientcare.scenario import load_scenario

LONG = "Acknowledge the problem, say what you know, and promise a written update by three o'clock."
SHORT = "Say nothing yet."
MIDDLE = "Tell them it is in hand and you will call back."


def scenario_file(content_dir, name, decisions, best_longest):
    """A chain of ``decisions`` nodes; the 2-point choice is the longest when ``best_longest[i]``."""
    nodes = {}
    for i in range(decisions):
        nxt = f"d{i + 1}" if i + 1 < decisions else "end"
        best, other = (LONG, SHORT) if best_longest[i] else (SHORT, LONG)
        nodes[f"d{i}"] = {"text": f"Decision {i}.", "choices": [
            {"text": best, "feedback": "Best.", "points": 2, "next": nxt},
            {"text": other, "feedback": "Weak.", "points": 0, "next": nxt},
            {"text": MIDDLE, "feedback": "Partly.", "points": 1, "next": nxt},
        ]}
    nodes["end"] = {"text": "It ends.", "ending": "mixed"}
    data = {"id": name, "title": name, "lesson": 1, "setting": "A client.", "start": "d0", "nodes": nodes}
    (content_dir / "scenarios" / f"{name}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return load_scenario(name)


QUIZ = textwrap.dedent(f"""\
    id: 96-cues
    title: Cue quiz
    lesson: 1
    questions:
      - id: single-long
        kind: single
        prompt: Which?
        options:
          - {{text: "{LONG}", correct: true, feedback: "Yes."}}
          - {{text: "{SHORT}", correct: false, feedback: "No."}}
          - {{text: "{MIDDLE}", correct: false, feedback: "No."}}
      - id: single-short
        kind: single
        prompt: Which?
        options:
          - {{text: "{SHORT}", correct: true, feedback: "Yes."}}
          - {{text: "{LONG}", correct: false, feedback: "No."}}
          - {{text: "{MIDDLE}", correct: false, feedback: "No."}}
      - id: multi-long
        kind: multiple
        prompt: Which?
        options:
          - {{text: "{LONG}", correct: true, feedback: "Yes."}}
          - {{text: "{MIDDLE}", correct: true, feedback: "Yes."}}
          - {{text: "{SHORT}", correct: false, feedback: "No."}}
      - id: multi-mixed
        kind: multiple
        prompt: Which?
        options:
          - {{text: "{LONG}", correct: true, feedback: "Yes."}}
          - {{text: "{SHORT}", correct: true, feedback: "Yes."}}
          - {{text: "{MIDDLE}", correct: false, feedback: "No."}}
      - id: multi-all
        kind: multiple
        prompt: Which?
        options:
          - {{text: "{LONG}", correct: true, feedback: "Yes."}}
          - {{text: "{SHORT}", correct: true, feedback: "Yes."}}
      - id: sum
        kind: numeric
        prompt: What is 1,200 plus 300?
        answer: 1500
""")


@pytest.fixture
def quiz(content_dir):
    (content_dir / "quizzes" / "96-cues.yaml").write_text(QUIZ, encoding="utf-8")
    return load_quiz("96-cues")


def test_a_decision_is_cued_when_a_best_choice_is_the_longest(content_dir):
    scenario = scenario_file(content_dir, "chain", 3, [True, False, True])
    assert [(i.item, i.cued) for i in scenario_items(scenario)] == [
        ("node 'd0'", True), ("node 'd1'", False), ("node 'd2'", True)]


def test_question_measures_single_longest_multiple_all_right_longer_numeric_not_counted(quiz):
    assert [(i.item, i.cued) for i in quiz_items(quiz)] == [
        ("question 'single-long'", True), ("question 'single-short'", False),
        ("question 'multi-long'", True),  # both right options are longer than the wrong one
        ("question 'multi-mixed'", False),  # a right option is shorter than a wrong one
        ("question 'multi-all'", True),  # nothing wrong to tell apart: ticking everything scores
    ]


def test_ties_count_as_cued_and_white_space_does_not_count():
    assert cues.longest_is_best(["Call  the\nclient today."], ["Email the client today"])
    assert not cues.longest_is_best(["Call."], ["Email the client today."])


def items(file, pattern):
    return [CueItem(file, f"item {n}", cued) for n, cued in enumerate(pattern)]


def test_a_file_over_half_with_four_items_fails_naming_its_cued_items():
    report = CueReport(tuple(items("scenarios/a.yaml", [True, True, True, False])
                             + items("quizzes/b.yaml", [True, True, True])  # only 3 items: no per-file verdict
                             + items("quizzes/c.yaml", [False] * 10)))
    problems = report.problems()
    assert problems[0] == ("scenarios/a.yaml: the best option is the longest in 3 of 4 items (75%, limit 50%): "
                           "item 0, item 1, item 2")
    assert len(problems) == 1  # 6 of 17 overall is 35 %, under 40 %
    assert report.overall == pytest.approx(6 / 17)


def test_the_course_over_the_overall_limit_fails():
    report = CueReport(tuple(items("scenarios/a.yaml", [True, True, False, False])
                             + items("quizzes/b.yaml", [True, False, False])))  # 3 of 7 = 43 %
    assert report.problems() == [
        "across the course the best option is the longest in 3 of 7 items (43%, limit 40%); shorten best options "
        "or lengthen distractors in the files above and in the worst files listed by `clientcare check`"]
    assert CueReport(tuple(items("quizzes/b.yaml", [True, True, False, False, False]))).problems() == []  # 40 %


def test_the_report_lists_every_file_worst_first(content_dir, quiz):
    scenario_file(content_dir, "chain", 4, [True, True, True, True])
    report = cue_report()
    lines = report.lines()
    assert lines[1].split() == ["scenarios/chain.yaml", "4", "of", "4", "(100%)"]
    assert lines[2].split() == ["quizzes/96-cues.yaml", "3", "of", "5", "(60%)"]
    assert lines[-1].startswith("  overall: 7 of 9 items (78%)")


def test_lint_errors_name_files_and_items(content_dir, quiz):
    scenario_file(content_dir, "chain", 4, [True, True, True, False])
    lines, errors, _warnings = lint()
    assert any(line.startswith("  bot 'longest'") for line in lines)
    assert errors[0].startswith("cue: scenarios/chain.yaml: the best option is the longest in 3 of 4 items")
    assert "node 'd0', node 'd1', node 'd2'" in errors[0]


def learners(activity, n=30):
    return [Attempt(f"test-learner-{i:03d}-abcdef", activity) for i in range(n)]


def test_the_longest_bot_exploits_long_best_answers_and_not_short_ones(content_dir):
    cued = scenario_file(content_dir, "cued", 4, [True] * 4)
    fair = scenario_file(content_dir, "fair", 4, [False] * 4)
    assert all(play_scenario("longest", cued, a) == 1.0 for a in learners("scenario/cued"))
    assert all(play_scenario("longest", fair, a) == 0.0 for a in learners("scenario/fair"))  # longest is 0 points


def test_the_first_bot_sees_the_shuffled_order_not_the_written_one(content_dir, quiz):
    scenario = scenario_file(content_dir, "cued", 4, [True] * 4)  # the best choice is written first
    assert play_scenario("first", scenario, None) == 1.0  # as written, "always the first" is perfect
    shuffled = [play_scenario("first", scenario, a) for a in learners("scenario/cued", 60)]
    assert 0.35 < sum(shuffled) / len(shuffled) < 0.65  # shuffled, it is a guess: 50 % expected
    scores = bot_scores([scenario], [quiz], learners=40)
    assert scores.scenarios["first"]["cued"] == pytest.approx(sum(shuffled[:40]) / 40, abs=0.2)
    assert scores.average("longest") > scores.average("first")


def test_bots_answer_quizzes_through_the_real_scoring(quiz):
    # As written: "first" is right on both single questions (their keys are written first) and nowhere else;
    # "longest" is right on single-long only (it ticks just LONG in every multiple, as only LONG is above the
    # mean length, and types 1200, the largest number in the prompt, for the sum).
    assert play_quiz("first", quiz, None) == pytest.approx(2 / 6)
    assert play_quiz("longest", quiz, None) == pytest.approx(1 / 6)


def test_text_that_points_at_an_option_by_its_place_is_named(content_dir, quiz):
    scenario = scenario_file(content_dir, "chain", 1, [True])
    data = yaml.safe_load((content_dir / "quizzes" / "96-cues.yaml").read_text())
    data["questions"][0]["options"][1]["text"] = "All of the above."
    data["questions"][1]["options"][0]["feedback"] = "Unlike the first option, this one asks."
    (content_dir / "quizzes" / "96-cues.yaml").write_text(yaml.safe_dump(data))
    found = cues.positional_references([scenario], [load_quiz("96-cues")])
    assert found == [
        "quizzes/96-cues.yaml: question 'single-long', option 2: \"All of the above\" refers to an option by its "
        "place, but options are shown in a shuffled order",
        "quizzes/96-cues.yaml: question 'single-short', option 1 feedback: \"the first option\" refers to an "
        "option by its place, but options are shown in a shuffled order",
    ]
    assert cues.positional_references([], [quiz]) == []  # "Option B" of a fee proposal would not match either
    assert not cues.POSITIONAL.search("State clearly what Option B leaves out.")


def test_a_zero_point_choice_leading_where_the_best_leads_without_a_flag_is_idle(content_dir):
    scenario = scenario_file(content_dir, "chain", 2, [True, False])  # every choice leads to the same node
    assert cues.idle_choices([scenario]) == [
        f"scenarios/chain.yaml: node 'd{n}': choice 2: a 0-point choice leads where the best choice leads and "
        "sets no flag, so it has no consequence" for n in (0, 1)]


def test_a_strong_ending_after_a_flagged_mistake_is_named(content_dir, monkeypatch):
    from clientcare import scenario as module
    from clientcare.cues import strong_after_flagged_mistakes

    monkeypatch.setattr(module, "_check_routes", lambda *_: None)  # see what the check finds, not what load rejects
    scenario = scenario_file(content_dir, "chain", 1, [True])
    assert strong_after_flagged_mistakes([scenario]) == []  # its ending is mixed
    data = yaml.safe_load((content_dir / "scenarios" / "chain.yaml").read_text())
    data["nodes"]["d0"]["choices"][1]["sets"] = ["kept_quiet"]
    data["nodes"]["end"]["ending"] = "strong"
    data["nodes"]["d0"]["choices"][1]["points"] = 0
    data["nodes"]["d0"]["choices"][0]["next"] = [{"if": {"none": ["kept_quiet"]}, "to": "end"}, {"to": "end"}]
    (content_dir / "scenarios" / "chain.yaml").write_text(yaml.safe_dump(data))
    found = strong_after_flagged_mistakes([load_scenario("chain")])
    assert found == ["scenarios/chain.yaml: ending 'end' (strong) is reached after the 0-point choice that set "
                     "kept_quiet: d0: choice 2 (Say nothing yet.)"]


def test_the_report_shows_how_many_options_are_right_in_multi_select_questions(quiz):
    assert cues.multiple_choice_mix([quiz]) == (
        "  multi-select questions: 3 (0 one right, 0 some right, 2 all but one right, 1 all right)")
