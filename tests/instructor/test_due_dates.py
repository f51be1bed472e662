"""Due dates and the late policy: one course file, validated on load, shown in each assignment's introduction."""
import json
import re
import textwrap

import pytest

from clientcare import cli
from clientcare.content import ContentError
from clientcare.instructor.course import Course
from clientcare.instructor.duedates import due_line, introduction_with_due_date
from clientcare.schedule import LatePolicy, check_against, load_schedule

from notebooks import REPO

GOOD = """\
timezone: Europe/London
late_policy: {grace_minutes: 15, percent_per_day: 5, zero_after_days: 5}
assignments:
  fee-proposals: 2027-02-05 17:00
"""


def schedule_from(content_dir, text):
    path = content_dir / "due-dates.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_schedule()


def test_every_assignment_of_the_course_has_a_due_date():
    assert check_against(load_schedule(), Course(REPO).assignments()) == []


def test_a_due_time_is_read_on_the_course_clock(content_dir):
    schedule = schedule_from(content_dir, GOOD)
    assert schedule.due_text("fee-proposals") == "Friday 5 February 2027 at 17:00 (UK time)"
    assert str(schedule.due_utc("fee-proposals")) == "2027-02-05 17:00:00"  # GMT in February
    summer = schedule_from(content_dir, GOOD.replace("2027-02-05", "2027-06-04"))
    assert str(summer.due_utc("fee-proposals")) == "2027-06-04 16:00:00"  # BST: an hour ahead of UTC


@pytest.mark.parametrize("text, message", [
    (GOOD.replace("2027-02-05 17:00", "5th Feb"),
     "due-dates.yaml: assignment 'fee-proposals': field 'due' must be a date and time such as 2027-02-05 17:00"),
    (GOOD.replace("2027-02-05 17:00", "2027-02-05"),
     "due-dates.yaml: assignment 'fee-proposals': field 'due' needs a time as well as the date"),
    (GOOD.replace("Europe/London", "Narnia/Cair_Paravel"), "due-dates.yaml: field 'timezone' must be a time zone"),
    (GOOD.replace("percent_per_day: 5", "percent_per_day: -5"),
     "due-dates.yaml: late_policy: field 'percent_per_day' must be a number, 0 or more"),
    (GOOD.replace("grace_minutes", "grace_minute"), "grace_minute"),
    (GOOD.replace("assignments:", "assignment:"), "assignment"),
])
def test_mistakes_name_the_file_assignment_and_field(content_dir, text, message):
    with pytest.raises(ContentError, match=message.replace("(", r"\(").replace(")", r"\)")):
        schedule_from(content_dir, text)


def test_an_assignment_missing_or_unknown_is_named(content_dir):
    schedule = schedule_from(content_dir, GOOD + "  fee-proposal: 2027-02-05 17:00\n")
    problems = check_against(schedule, ["fee-proposals", "confidentiality"])
    assert any("assignment 'confidentiality': no due date" in p for p in problems)
    assert any("assignment 'fee-proposal': not an assignment of the course" in p for p in problems)


def test_clientcare_check_fails_on_a_broken_due_dates_file(content_dir, capsys):
    (content_dir / "due-dates.yaml").write_text(GOOD.replace("17:00", "5pm"), encoding="utf-8")
    assert cli.main(["check", "--course", str(REPO)]) == 1
    assert "assignment 'fee-proposals': field 'due'" in capsys.readouterr().err


@pytest.mark.parametrize("hours_late, penalty", [
    (0.2, 0.0),   # within 15 minutes' grace
    (1, 2.0),     # one day (or part of one): 5 % of 40
    (30, 4.0),    # two days
    (120, 10.0),  # five days
    (121, 40.0),  # more than five days: everything
])
def test_the_late_policy(hours_late, penalty):
    assert LatePolicy(15, 5, 5).penalty(40, hours_late * 3600) == pytest.approx(penalty)


def test_each_assignment_introduction_shows_its_due_date_and_the_policy():
    """source/ and release/ carry the Due line `clientcare release` writes from the due dates file."""
    schedule = load_schedule()
    for name in Course(REPO).assignments():
        for folder in ("source", "release"):
            notebook = json.loads((REPO / folder / name / f"{name}.ipynb").read_text(encoding="utf-8"))
            intro = "".join(notebook["cells"][0]["source"])
            assert due_line(schedule, name) in intro, f"{folder}/{name}: run `clientcare release`"
            assert "loses 5% of its mark for each day or part of a day late" in intro


def test_the_due_line_replaces_the_old_one_or_goes_under_the_title():
    assert introduction_with_due_date("# Title\n\nBody", "**Due:** Monday.") == "# Title\n\n**Due:** Monday.\n\nBody"
    assert introduction_with_due_date("# Title\n\n**Due:** Monday.\n\nBody", "**Due:** Friday.") == \
        "# Title\n\n**Due:** Friday.\n\nBody"


def test_the_progress_page_shows_each_due_date_and_the_late_policy(tmp_path):
    from clientcare.progress import assignment_status, assignments_html

    course = tmp_path / "course"
    for name in ("confidentiality", "fee-proposals"):
        (course / "release" / name).mkdir(parents=True)
    rows = assignment_status(course, tmp_path / "cache")
    assert [row["due"] for row in rows] == ["Friday 29 January 2027 at 17:00 (UK time)",
                                            "Friday 5 February 2027 at 17:00 (UK time)"]
    page = assignments_html(rows)
    assert re.search(r'<th scope="col"[^>]*>Due</th>', page), "no Due column header"
    assert "Friday 5 February 2027 at 17:00 (UK time)" in page
    assert load_schedule().policy.describe() in page


def test_nbgrader_applies_the_course_late_policy():
    from clientcare.instructor.config import course_config

    assert course_config(REPO).AssignLatePenalties.plugin_class == "clientcare.instructor.late_policy.CourseLatePolicy"
