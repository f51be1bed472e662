"""Scenario state: flags set by choices, conditional `next`, endings' `requires`, and route validation."""
import textwrap

import pytest
import yaml

from clientcare.content import ContentError
from clientcare.scenario import (
    Condition, ScenarioSession, load_scenario, parse_condition, route_problems, walk_routes,
)

# Hiding the access problem (a 0-point choice) sets a flag that decides the ending later,
# even after a good second choice.
FLAGGED = textwrap.dedent("""\
    id: flagged
    title: The venue with stairs
    lesson: 1
    setting: You are recommending a venue to a client whose delegates include wheelchair users.
    start: recommend
    nodes:
      recommend:
        text: One venue has breakout rooms up a flight of stairs. What do you write?
        choices:
          - text: Say the breakout rooms are up a flight of stairs.
            feedback: The client needs to know.
            points: 2
            sets: [told_access]
            next: contract
          - text: Leave the stairs out; they can be sorted out later.
            feedback: The client is deciding without a fact that matters to her.
            points: 0
            sets: [hid_access]
            next: contract
      contract:
        text: The client is ready to sign.
        choices:
          - text: Summarise the key terms before she signs.
            feedback: Informed consent.
            points: 2
            next:
              - if: {all: [told_access], min_score: 0.75}
                to: end-strong
              - if: {any: [hid_access]}
                to: end-stairs
              - to: end-mixed
          - text: Send it straight over.
            feedback: Leaves the risk with her.
            points: 1
            next:
              - if: {none: [told_access]}
                to: end-stairs
              - to: end-mixed
      end-strong:
        text: Everyone reaches every session; she thanks you for raising the stairs early.
        ending: strong
        requires: {all: [told_access], none: [hid_access]}
      end-mixed:
        text: The event goes ahead, but the contract held a surprise.
        ending: mixed
      end-stairs:
        text: On the day two delegates cannot reach the breakout rooms you never mentioned.
        ending: poor
        requires: {all: [hid_access]}
""")


def write(content_dir, data, name="flagged"):
    text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
    (content_dir / "scenarios" / f"{name}.yaml").write_text(text, encoding="utf-8")


def load_changed(content_dir, change):
    data = yaml.safe_load(FLAGGED)
    change(data)
    write(content_dir, data)
    return load_scenario("flagged")


def error_for(content_dir, change) -> str:
    with pytest.raises(ContentError) as caught:
        load_changed(content_dir, change)
    return str(caught.value)


@pytest.fixture
def flagged(content_dir):
    write(content_dir, FLAGGED)
    return load_scenario("flagged")


def play(scenario, *indices):
    run = ScenarioSession(scenario)
    for index in indices:
        run.choose(index)
    return run


def test_flags_follow_the_choices_and_decide_the_ending(flagged):
    honest = play(flagged, 0, 0)
    assert honest.flags == {"told_access"} and honest.current.id == "end-strong"
    hidden = play(flagged, 1, 0)  # a good second choice does not undo the hidden access problem
    assert hidden.flags == {"hid_access"} and hidden.current.id == "end-stairs"
    assert play(flagged, 1, 1).current.id == "end-stairs"
    assert play(flagged, 0, 1).current.id == "end-mixed"


def test_a_score_condition_reads_the_fraction_of_the_points_on_the_route(content_dir):
    def change(d):  # a vaguer mention of the stairs is worth 1 point: 3 of 4 is below the 80 % asked for
        d["nodes"]["recommend"]["choices"].append({
            "text": "Mention that access is a bit mixed.", "feedback": "Too vague to act on.", "points": 1,
            "sets": ["told_access"], "next": "contract"})
        d["nodes"]["contract"]["choices"][0]["next"][0]["if"]["min_score"] = 0.8
    scenario = load_changed(content_dir, change)
    assert play(scenario, 0, 0).current.id == "end-strong"
    vague = play(scenario, 2, 0)
    assert (vague.score, vague.max_score, vague.current.id) == (3, 4, "end-mixed")


def test_every_route_is_walked_with_its_flags_and_score(flagged):
    routes = {tuple(i for _, i in route.steps): (route.end, route.flags, route.score)
              for route, _passed in walk_routes(flagged)}
    assert routes == {
        (0, 0): ("end-strong", {"told_access"}, 4),
        (0, 1): ("end-mixed", {"told_access"}, 3),
        (1, 0): ("end-stairs", {"hid_access"}, 2),
        (1, 1): ("end-stairs", {"hid_access"}, 1),
    }


def test_an_ending_reached_on_a_route_that_contradicts_it_is_rejected_naming_file_ending_and_route(content_dir):
    message = error_for(content_dir, lambda d: d["nodes"]["contract"]["choices"][0].update(next="end-strong"))
    assert message.startswith("scenarios/flagged.yaml: ending 'end-strong' (strong): "
                              "reached on a route that contradicts its conditions (flag told_access not set; "
                              "flag hid_access set; score 50% below 75%)")
    assert "recommend: choice 2 (Leave the stairs out" in message and "-> contract: choice 1 (Summarise" in message


def unchecked(monkeypatch, content_dir, change):
    """The changed scenario parsed without route validation, and its path, to see what a walk reports."""
    from clientcare import scenario as module

    data = yaml.safe_load(FLAGGED)
    change(data)
    path = content_dir / "scenarios" / "flagged.yaml"
    monkeypatch.setattr(module, "_check_routes", lambda *_: None)
    return module.parse_scenario(data, path), path


def send_over_leads_to_strong(d):
    d["nodes"]["contract"]["choices"][1]["next"] = [{"if": {"none": ["told_access"]}, "to": "end-stairs"},
                                                    {"to": "end-strong"}]


def test_a_strong_ending_reached_with_three_quarters_of_the_points_is_accepted(monkeypatch, content_dir):
    scenario, path = unchecked(monkeypatch, content_dir, send_over_leads_to_strong)  # 3 of 4 points
    assert route_problems(scenario, path) == []


def test_a_strong_ending_reached_with_less_than_three_quarters_is_reported(monkeypatch, content_dir):
    def change(d):
        send_over_leads_to_strong(d)
        d["nodes"]["contract"]["choices"][1]["points"] = 0  # 2 of 4 points is not a strong result
    scenario, path = unchecked(monkeypatch, content_dir, change)
    assert route_problems(scenario, path) == [
        "scenarios/flagged.yaml: ending 'end-strong' (strong): reached on a route that contradicts its conditions "
        "(score 50% below 75%): recommend: choice 1 (Say the breakout rooms are up a flight o...) "
        "-> contract: choice 2 (Send it straight over.)"
    ]
    assert route_problems(scenario, path, strong_rule=False) == []


@pytest.mark.parametrize("change, expected", [
    (lambda d: d["nodes"]["end-strong"]["requires"].update(all=["told_acess"]),
     "node 'end-strong': requires: flag 'told_acess' is not set by any choice (a typo?)"),
    (lambda d: d["nodes"]["recommend"]["choices"][0].update(sets=["told_access", "asked_twice"]),
     "node 'recommend': choice 1: flag 'asked_twice' is set but no 'next' or 'requires' reads it"),
    (lambda d: d["nodes"]["recommend"]["choices"][0].update(sets=["Told Access"]),
     "choice 1: field 'sets' must list flags in lower_snake_case, got 'Told Access'"),
    (lambda d: d["nodes"]["end-mixed"].update(requires={"min_score": 1.5}),
     "node 'end-mixed': requires: field 'min_score' must be a fraction from 0 to 1"),
    (lambda d: d["nodes"]["end-mixed"].update(requires={"some": ["told_access"]}),
     "node 'end-mixed': requires: unknown field 'some'"),
    (lambda d: d["nodes"]["end-mixed"].update(requires={"all": ["told_access"], "none": ["told_access"]}),
     "flag 'told_access' cannot be both required and excluded"),
    (lambda d: d["nodes"]["end-mixed"].update(requires={"min_score": 0.8, "max_score": 0.5}),
     "'min_score' is above 'max_score'"),
    (lambda d: d["nodes"]["end-strong"].update(requires={"all": ["told_access"], "min_score": 0.5}),
     "node 'end-strong': a strong ending needs 'min_score' of at least 0.75"),
    (lambda d: d["nodes"]["contract"]["choices"][1]["next"].pop(),
     "choice 2: next 1: the last entry of 'next' is the default and must have no 'if'"),
    (lambda d: d["nodes"]["contract"]["choices"][1]["next"][0].pop("if"),
     "choice 2: next 1: only the last entry of 'next' may leave out 'if'"),
    (lambda d: d["nodes"]["contract"]["choices"][1]["next"][1].update(to="nowhere"),
     "node 'contract': choice 2: 'next' points at missing node 'nowhere'"),
    (lambda d: d["nodes"]["contract"]["choices"][1].update(next=42),
     "choice 2: field 'next' must be a node id or a list"),
    (lambda d: d["nodes"]["contract"]["choices"][1]["next"][0].update(when={"all": ["told_access"]}),
     "choice 2: next 1: unknown field 'when'"),
])
def test_mistakes_in_flags_and_conditions_are_named(content_dir, change, expected):
    assert expected in error_for(content_dir, change)


def test_a_node_no_route_can_reach_is_rejected(content_dir):
    def change(d):  # no route sets both flags, so the mixed ending is out of reach
        d["nodes"]["contract"]["choices"][1]["next"] = [
            {"if": {"all": ["told_access", "hid_access"]}, "to": "end-mixed"},
            {"if": {"any": ["hid_access"]}, "to": "end-stairs"}, {"to": "end-strong"}]
        d["nodes"]["contract"]["choices"][0]["next"] = [
            {"if": {"all": ["told_access"]}, "to": "end-strong"}, {"to": "end-stairs"}]
    message = error_for(content_dir, change)
    assert message == ("scenarios/flagged.yaml: node 'end-mixed': cannot be reached from 'recommend' "
                       "(no route meets the 'if' of the 'next' entries leading to it)")


def test_conditions_report_each_unmet_part():
    condition = parse_condition({"all": ["a"], "any": ["b", "c"], "none": ["d"], "min_score": 0.5,
                                 "max_score": 0.9}, "here")
    assert condition.holds(frozenset({"a", "c"}), 0.5)
    assert condition.unmet(frozenset({"d"}), 1.0) == [
        "flag a not set", "none of b, c set", "flag d set", "score 100% above 90%"]
    assert Condition(min_score=0.75).merged(condition).min_score == 0.75
    assert condition.unmet(frozenset({"a", "b"}), None) == []  # no decisions yet: no points to fall short of


def test_scenarios_written_without_the_new_keys_load_as_before(content_dir):
    plain = yaml.safe_load(FLAGGED)
    for node in plain["nodes"].values():
        node.pop("requires", None)
        for choice in node.get("choices", []):
            choice.pop("sets", None)
            choice["next"] = "end-mixed" if node is plain["nodes"]["contract"] else "contract"
    plain["nodes"] = {k: v for k, v in plain["nodes"].items() if k in ("recommend", "contract", "end-mixed")}
    write(content_dir, plain)
    assert play(load_scenario("flagged"), 0, 1).current.id == "end-mixed"


def test_loading_rejects_a_strong_ending_reached_with_less_than_three_quarters(content_dir):
    def change(d):
        send_over_leads_to_strong(d)
        d["nodes"]["contract"]["choices"][1]["points"] = 0
    message = error_for(content_dir, change)
    assert message.startswith("scenarios/flagged.yaml: ending 'end-strong' (strong): reached on a route that "
                              "contradicts its conditions (score 50% below 75%): recommend: choice 1")
