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
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import ipywidgets as widgets
import pandas as pd

from .catalogue import lesson_heading, lesson_index
from .content import ContentError
from . import registry

COLUMNS = ["lesson", "activity", "id", "title", "done", "status"]


def progress_summary() -> pd.DataFrame:
    """One row per activity: ``lesson, activity, id, title, done, status``, in lesson order.

    Rows come from each kind's status function in :data:`clientcare.registry.KINDS` (in table
    order within a lesson). ``lesson`` is empty for activities that belong to no single lesson
    (flashcard decks, the final test). Content files that could not be read are listed in
    ``summary.attrs["problems"]``.
    """
    problems: list[str] = []
    rows = [{**row, "activity": kind.activity, "order": order}
            for order, kind in enumerate(registry.KINDS) if kind.status
            for row in kind.function("status")(problems)]
    frame = pd.DataFrame(rows, columns=[*COLUMNS, "order"]).astype({"lesson": "Int64", "done": "bool"})
    frame = frame.sort_values(["lesson", "order"], na_position="last", kind="stable")
    frame = frame.drop(columns="order").reset_index(drop=True)
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


def progress_html(summary: pd.DataFrame, titles: dict[int, str] | None = None) -> str:
    """The summary as headed HTML tables, one per lesson."""
    titles = lesson_titles() if titles is None else titles
    if summary.empty:
        return "<p>There are no activities in the course yet.</p>"
    done, total = int(summary["done"].sum()), len(summary)
    parts = [f"<p><b>You have completed {done} of {total} activities.</b></p>"]
    for lesson, group in summary.groupby("lesson", dropna=False, sort=True):
        heading = html.escape(_group_heading(lesson, titles))
        parts.append(f"<h4>{heading} ({int(group['done'].sum())} of {len(group)} done)</h4>")
        parts.append('<table class="clientcare-progress"><thead><tr><th scope="col">Activity</th>'
                     '<th scope="col">Title</th><th scope="col">Done</th><th scope="col">Progress</th>'
                     "</tr></thead><tbody>")
        for row in group.itertuples(index=False):
            mark = "✔ Yes" if row.done else "Not yet"
            parts.append(f"<tr><td>{row.activity}</td><td>{html.escape(row.title)}</td>"
                         f"<td>{mark}</td><td>{html.escape(row.status)}</td></tr>")
        parts.append("</tbody></table>")
    problems = summary.attrs.get("problems") or []
    if problems:
        items = "".join(f"<li>{html.escape(problem)}</li>" for problem in problems)
        parts.append(f"<p>Some course content could not be read; please tell your instructor:</p><ul>{items}</ul>")
    style = ("<style>.clientcare-progress{border-collapse:collapse;margin-bottom:8px}"
             ".clientcare-progress th,.clientcare-progress td{padding:2px 10px;text-align:left}</style>")
    return style + "".join(parts)


@dataclass(frozen=True)
class Progress:
    """What the progress page reports against: the lesson headings (activities come from content)."""

    lesson_titles: Mapping[int, str]


def load_progress() -> Progress:
    """The course's progress page: lesson headings read from the lesson notebooks."""
    return Progress(MappingProxyType(lesson_titles()))


class ProgressSession:
    """The learner's progress, read from their saved files; :meth:`refresh` reads it again. No widgets."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.summary = progress_summary()

    def refresh(self) -> None:
        self.summary = progress_summary()

    def html(self) -> str:
        return progress_html(self.summary, dict(self.progress.lesson_titles))


class ProgressView(widgets.VBox):
    """A summary of the learner's progress, with a button to read it again."""

    def __init__(self, session: ProgressSession):
        self.session = session
        self.page = widgets.HTML(session.html())
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh",
                                             tooltip="Read your latest progress again")
        self.refresh_button.on_click(lambda _button: self.refresh())
        super().__init__([widgets.HTML("<h3>My progress</h3>"), self.refresh_button, self.page])

    def refresh(self) -> None:
        self.session.refresh()
        self.page.value = self.session.html()


def show_progress() -> ProgressView:
    """A summary of the learner's progress, with a button to read it again."""
    return ProgressView(ProgressSession(load_progress()))
