"""The course's own scenarios and quizzes cannot be passed on cues, and their endings tell the truth.

* the cue lint (`clientcare check`) passes on the real content;
* two bots that do not read the lesson, one always picking the first option shown, one the
  longest, play every scenario and quiz through the real session logic, in the order each of
  many learners would see the options, and average under 40 %;
* every route through every scenario is walked and each node it reaches (each ending
  above all) has its conditions met, strong endings included (75 % of the route's points);
* a 0-point choice has a consequence: it leads somewhere else than the best choice or sets a flag,
  and no route carrying a flag set by a 0-point choice ends strong.
"""
import pytest

from clientcare.content import CONTENT_DIR
from clientcare.cues import (
    BOTS, bot_scores, course_activities, cue_report, idle_choices, positional_references, strong_after_flagged_mistakes,
)
from clientcare.scenario import route_problems

BOT_LIMIT = 0.40
LEARNERS = 25


@pytest.fixture(scope="module")
def activities():
    scenarios, quizzes = course_activities()
    assert len(scenarios) >= 16 and len(quizzes) >= 8
    return scenarios, quizzes


def test_the_cue_lint_passes_on_the_course(activities):
    report = cue_report()
    assert report.unreadable == ()
    assert report.problems() == [], "\n".join(report.lines())
    assert positional_references(*activities) == []


@pytest.mark.parametrize("bot", BOTS)
def test_a_bot_that_does_not_read_scores_under_40_percent(activities, bot):
    scores = bot_scores(*activities, learners=LEARNERS)
    assert scores.average(bot) < BOT_LIMIT, "\n".join(scores.lines())


def test_every_route_of_every_scenario_meets_the_conditions_of_its_ending(activities):
    scenarios, _ = activities
    problems = [problem for s in scenarios
                for problem in route_problems(s, CONTENT_DIR / "scenarios" / f"{s.id}.yaml", strong_rule=True)]
    assert problems == []


def test_a_zero_point_choice_has_a_consequence(activities):
    assert idle_choices(activities[0]) == []


def test_no_strong_ending_after_a_mistake_that_set_a_flag(activities):
    assert strong_after_flagged_mistakes(activities[0]) == []


def test_clientcare_check_reports_cue_rates_and_passes_on_the_course(capsys):
    from clientcare.cli import main
    from notebooks import REPO

    assert main(["check", "--course", str(REPO)]) == 0
    out, err = capsys.readouterr()
    assert "Cue lint: how often the best or correct option is the longest" in out and "  overall: " in out
    assert "  bot 'first': " in out and "  bot 'longest': " in out
    assert "error:" not in err and "warning:" not in err
