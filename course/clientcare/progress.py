"""The learner's progress: what they have done, against everything the course offers.

:func:`progress_summary` asks every kind of activity in the registry
(:mod:`clientcare.registry`) for its rows, each activity reading its own content and
learner file, and returns one row per activity as a pandas DataFrame; :func:`show_progress` renders it, grouped by lesson. In the course's
widget idiom, :class:`Progress` is what the page reports against (the lesson headings),
:class:`ProgressSession` the learner's summary, :class:`ProgressView` the widget. Content
is read with each activity's own loader; a content file that cannot be read is
listed as a problem rather than hiding the rest of the page.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Sequence

import ipywidgets as widgets
import pandas as pd

from . import catalogue
from .catalogue import lesson_heading, lesson_index, lesson_references
from .content import ContentError
from .store import LearnerFile
from .style import heading, themed
from . import registry

COLUMNS = ["lesson", "activity", "id", "title", "done", "status", "score"]
ACTIVITY_COLUMNS = ("Activity", "Title", "Complete", "Best score", "Progress")  # a lesson's table on the page
ASSIGNMENT_COLUMNS = ("Assignment", "Due", "Where you are", "Open")


# ---------------------------------------------------------------- where and how well (presentation)


def _score(points: Any, out_of: Any) -> str:
    """``3 of 4 (75%)``, or "" when there is nothing to score."""
    if isinstance(points, bool) or not isinstance(points, (int, float)) or not isinstance(out_of, (int, float)) \
            or out_of <= 0:
        return ""
    return f"{points:g} of {out_of:g} ({round(100 * points / out_of)}%)"


def best_scores() -> dict[tuple[str, str], str]:
    """The learner's best score per (activity, id), shown apart from "finished", so a scenario
    finished with no points is not mistaken for a good one."""
    scores = {}
    for scenario_id, record in LearnerFile("scenarios").load().items():
        if isinstance(record, dict) and record.get("finished") is True:
            scores[("Scenario", scenario_id)] = _score(record.get("best_score"), record.get("max_score"))
    for quiz_id, record in LearnerFile("quiz").load().items():
        if isinstance(record, dict) and record.get("attempts"):
            activity = "Final test" if quiz_id == "final-test" else "Quiz"
            scores[(activity, quiz_id)] = _score(record.get("best"), record.get("total"))
    return scores


_ACTIVITY_OF = {kind.show: kind.activity for kind in registry.KINDS if kind.show}


def activity_places(lessons_dir: Path | None = None) -> dict[tuple[str, str], tuple[int, int]]:
    """Where each activity is met: (activity, id) -> (lesson number, position in that lesson), from
    the ``show_*("id")`` calls in the lesson notebooks (the first lesson that shows it)."""
    lessons_dir = catalogue.lessons_dir() if lessons_dir is None else lessons_dir
    places: dict[tuple[str, str], tuple[int, int]] = {}
    try:
        references = lesson_references(lessons_dir)
    except (OSError, ValueError, SyntaxError, KeyError):
        return places
    for position, (notebook, _cell, function, item_id) in enumerate(references):
        if notebook[:2].isdigit() and notebook[:2] != "00" and function in _ACTIVITY_OF:  # 00: the progress page
            places.setdefault((_ACTIVITY_OF[function], item_id), (int(notebook[:2]), position))
    return places


def lesson_files(lessons_dir: Path | None = None) -> dict[int, str]:
    """Lesson number -> notebook file name, e.g. ``{6: "06-fees.ipynb"}`` (for links)."""
    lessons_dir = catalogue.lessons_dir() if lessons_dir is None else lessons_dir
    found = (lesson_heading(path) for path in sorted(Path(lessons_dir).glob("[0-9][0-9]-*.ipynb")))
    return {lesson.number: lesson.notebook for lesson in found if lesson}


def progress_summary() -> pd.DataFrame:
    """One row per activity: ``lesson, activity, id, title, done, status, score``, in lesson order.

    Rows come from each kind's status function in :data:`clientcare.registry.KINDS`. An activity
    a lesson shows belongs to that lesson, in the order the lesson shows it (:func:`activity_places`);
    others keep their content file's lesson, in table order, and ``lesson`` is empty for those that
    belong to no single lesson (e.g. the final test). ``score`` is the best score, apart from
    ``done`` (finished). Content files that could not be read are in ``summary.attrs["problems"]``.
    """
    problems: list[str] = []
    rows = [{**row, "activity": kind.activity, "order": order}
            for order, kind in enumerate(registry.KINDS) if kind.status
            for row in kind.function("status")(problems)]
    places, scores = activity_places(), best_scores()
    for row in rows:  # an activity belongs to the lesson that shows it, in the order the lesson shows it
        place = places.get((row["activity"], row["id"]))
        row["place"] = place[1] if place else None
        if place:
            row["lesson"] = place[0]
        row["score"] = scores.get((row["activity"], row["id"]), "")
    frame = pd.DataFrame(rows, columns=[*COLUMNS, "place", "order"]).astype({"lesson": "Int64", "done": "bool"})
    frame = frame.sort_values(["lesson", "place", "order"], na_position="last", kind="stable")
    frame = frame.drop(columns=["place", "order"]).reset_index(drop=True)
    frame.attrs["problems"] = problems
    return frame


def lesson_totals(summary: pd.DataFrame) -> pd.DataFrame:
    """Activities done and available per lesson (``lesson`` empty for course-wide activities)."""
    totals = summary.groupby("lesson", dropna=False, sort=True)["done"].agg(done="sum", total="count")
    return totals.reset_index().astype({"done": "int64", "total": "int64"})


def lesson_titles(lessons_dir: Path | None = None) -> dict[int, str]:
    """Lesson headings such as ``Lesson 6: Fees``: from the course's lesson index, or from the
    numbered lesson notebooks in ``lessons_dir`` if given."""
    if lessons_dir is None:
        try:
            lessons = lesson_index()
        except ContentError:
            lessons = ()
    else:
        lessons = [lesson_heading(path) for path in sorted(Path(lessons_dir).glob("[0-9][0-9]-*.ipynb"))]
    return {lesson.number: lesson.heading for lesson in lessons if lesson}


def _group_heading(lesson: Any, titles: dict[int, str]) -> str:
    if pd.isna(lesson):
        return "Across the course"
    return titles.get(int(lesson), f"Lesson {int(lesson)}")


# ---------------------------------------------------------------- graded assignments


def assignment_status(course: Path | None = None, submissions: Path | None = None,
                      course_id: str = "clientcare") -> list[dict[str, str]]:
    """Each graded assignment of the course (``release/<name>``) with where the learner is with it:
    not fetched, fetched (a link to open it), submitted (when), feedback ready (a link to it).

    Fetched work and feedback are in the learner's ``learner/assignments/<name>/`` (see
    :mod:`clientcare.lab`); submissions are in nbgrader's own record of what this learner
    submitted (its cache in the Jupyter data folder)."""
    course = course or catalogue.course_root()
    if submissions is None:
        from jupyter_core.paths import jupyter_data_dir

        submissions = Path(jupyter_data_dir()) / "nbgrader_cache" / course_id
    release = course / "release"
    names = sorted(p.name for p in release.iterdir() if p.is_dir()) if release.is_dir() else []
    schedule = _schedule()
    rows = []
    for name in names:
        folder = course / "learner" / "assignments" / name
        notebooks = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
        sent = sorted(submissions.glob(f"*+{name}+*")) if submissions.is_dir() else []
        feedback = sorted((folder / "feedback").glob(f"*/{name}.html")) if folder.is_dir() else []
        row = {"name": name, "status": "Not fetched yet: open Nbgrader > Assignment List and press Fetch",
               "link": "", "link_text": "", "due": schedule.due_text(name) if schedule else ""}
        if notebooks:
            row.update(status="Fetched, not submitted", link=f"../assignments/{name}/{notebooks[0].name}",
                       link_text="Open the assignment")
        if sent:
            when = _submitted_on(sent[-1])
            row["status"] = f"Submitted {when}" if when else "Submitted"
        if feedback:
            row.update(status=row["status"] + "; feedback ready",
                       link=f"../assignments/{name}/feedback/{feedback[-1].parent.name}/{feedback[-1].name}",
                       link_text="Read your feedback")
        rows.append(row)
    return rows


def _schedule():
    """The course's due dates (content/due-dates.yaml), or None if they cannot be read."""
    from .schedule import load_schedule

    try:
        return load_schedule()
    except ContentError:
        return None


def _submitted_on(folder: Path) -> str:
    try:
        stamp = (folder / "timestamp.txt").read_text(encoding="utf-8").strip()
        moment = datetime.fromisoformat(stamp.replace(" UTC", "").replace("Z", ""))
    except (OSError, ValueError):
        return ""
    return f"on {moment.day} {moment:%B %Y} at {moment:%H:%M}"


def _link(href: str, text: str) -> str:
    return f'<a href="{html.escape(href, quote=True)}">{html.escape(text)}</a>' if href else ""


def stacking_table(label: str, columns: Sequence[str], rows: Iterable[Sequence[str]], *, row_header: int,
                   wide: Sequence[str] = ()) -> str:
    """A table that never needs scrolling sideways: columns while its output area is wide enough; in a
    narrow one (an 800 px window with the file browser open) each row stacks, the row's heading first,
    then each cell after its column's name (``clientcare.css``, a container query on ``cc-stack``); a cell
    with nothing to say ("–" or empty) is then left out of sight, not out of the table.

    ``rows`` hold each cell's HTML (already escaped), in ``columns`` order; the cell at ``row_header``
    names its row; cells of the ``wide`` columns take a whole line when stacked. The table, row and
    cell roles are written out because browsers drop a table's semantics once CSS changes its display:
    a screen reader still reads a table with its column headers."""
    head = "".join(f'<th scope="col" role="columnheader">{html.escape(name)}</th>' for name in columns)
    body = []
    for cells in rows:
        out = []
        for number, (name, cell) in enumerate(zip(columns, cells)):
            if number == row_header:
                out.append(f"<th scope='row' role='rowheader' class='cc-text-cell'>{cell}</th>")
            else:
                classes = [css for css, applies in (("cc-wide", name in wide), ("cc-none", cell in ("", "–"))) if applies]
                css = f' class="{" ".join(classes)}"' if classes else ""
                out.append(f"<td role='cell' data-label='{html.escape(name, quote=True)}'{css}>{cell}</td>")
        body.append(f"<tr role='row'>{''.join(out)}</tr>")
    return (f'<div class="cc-stack"><table class="cc-table cc-progress-table cc-stacking" role="table" '
            f'aria-label="{html.escape(label, quote=True)}"><thead role="rowgroup"><tr role="row">{head}</tr></thead>'
            f'<tbody role="rowgroup">{"".join(body)}</tbody></table></div>')


def assignments_html(rows: list[dict[str, str]]) -> str:
    if not rows:
        return ""
    cells = ([html.escape(row["name"]), html.escape(row.get("due") or "–"), html.escape(row["status"]),
              _link(row["link"], row["link_text"])] for row in rows)
    schedule = _schedule()
    policy = f'<p class="cc-late-policy">{html.escape(schedule.policy.describe())}</p>' if schedule else ""
    return (heading("Graded assignments", 3, css="cc-subtitle")
            + stacking_table("Graded assignments", ASSIGNMENT_COLUMNS, cells, row_header=0, wide=("Where you are",))
            + policy)


# ---------------------------------------------------------------- the page


def progress_html(summary: pd.DataFrame, titles: dict[int, str] | None = None,
                  files: dict[int, str] | None = None, assignments: list[dict[str, str]] | None = None) -> str:
    """The summary as headed HTML tables, one per lesson in lesson order, each headed by a link to
    the lesson; finished and best score in separate columns; then the graded assignments."""
    titles = lesson_titles() if titles is None else titles
    files = lesson_files() if files is None else files
    if summary.empty:
        return "<p>There are no activities in the course yet.</p>"
    done, total = int(summary["done"].sum()), len(summary)
    parts = [f"<p><b>You have completed {done} of {total} activities.</b> "
             "An activity is complete once you have finished it (or written your reflection, or studied every "
             "card or interview question); its best score is shown beside it.</p>"]
    from .cpd import revision_html  # revision due today and CPD hours (issue 17)

    parts.append(revision_html(summary))
    for lesson, group in summary.groupby("lesson", dropna=False, sort=True):
        title = html.escape(_group_heading(lesson, titles))
        file = None if pd.isna(lesson) else files.get(int(lesson))
        linked = f'<a href="{html.escape(file, quote=True)}">{title}</a>' if file else title
        parts.append(f'<h3 class="cc-subtitle">{linked} ({int(group["done"].sum())} of {len(group)} done)</h3>')
        cells = ([html.escape(row.activity), html.escape(row.title), "Yes" if row.done else "Not yet",
                  html.escape(row.score) or "–", html.escape(row.status)] for row in group.itertuples(index=False))
        parts.append(stacking_table(f"{_group_heading(lesson, titles)}: your activities", ACTIVITY_COLUMNS, cells,
                                    row_header=1, wide=("Progress",)))
    parts.append(assignments_html(assignment_status() if assignments is None else assignments))
    problems = summary.attrs.get("problems") or []
    if problems:
        items = "".join(f"<li>{html.escape(problem)}</li>" for problem in problems)
        parts.append(f"<p>Some course content could not be read; please tell your instructor:</p><ul>{items}</ul>")
    parts.append(sharing_html())
    return "".join(parts)


def sharing_html() -> str:
    """What is shared of the learner's activity, and with whom (records: see :mod:`clientcare.lrs`)."""
    from .lrs import sharing_notice

    return (heading("What is shared", 3, css="cc-subtitle")
            + f'<p class="cc-sharing">{html.escape(sharing_notice())}</p>')


@dataclass(frozen=True)
class Progress:
    """What the progress page reports against: the lesson headings (activities come from content)."""

    lesson_titles: Mapping[int, str]
    lesson_files: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))


def load_progress() -> Progress:
    """The course's progress page: lesson headings and notebooks."""
    return Progress(MappingProxyType(lesson_titles()), MappingProxyType(lesson_files()))


class ProgressSession:
    """The learner's progress, read from their saved files; :meth:`refresh` reads it again. No widgets."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.summary = progress_summary()

    def refresh(self) -> None:
        self.summary = progress_summary()

    def html(self) -> str:
        return progress_html(self.summary, dict(self.progress.lesson_titles), dict(self.progress.lesson_files))


class ProgressView(widgets.VBox):
    """A summary of the learner's progress, with a button to read it again."""

    def __init__(self, session: ProgressSession):
        self.session = session
        self.page = widgets.HTML(session.html())
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh",
                                             tooltip="Read your latest progress again")
        self.refresh_button.on_click(lambda _button: self.refresh())
        # An <h2>: the progress notebook itself has only its "# My progress" title above.
        from .cpd import CpdExportBox  # the CPD record's export (issue 17)

        self.cpd = CpdExportBox()
        from .xapi import set_share_text, share_text  # learning records (issue 18): the learner's choice

        self.share_text = widgets.Checkbox(value=share_text(), indent=False,
                                           description="Include my reflections and written answers in what is shared")
        self.share_text.observe(lambda change: (set_share_text(change["new"]), self.refresh()), names="value")
        super().__init__([widgets.HTML(heading("Your progress so far", 2)), self.refresh_button, self.page,
                          self.share_text, self.cpd])
        themed(self, "progress")

    def refresh(self) -> None:
        self.session.refresh()
        self.page.value = self.session.html()


def show_progress() -> ProgressView:
    """A summary of the learner's progress, with a button to read it again."""
    return ProgressView(ProgressSession(load_progress()))
