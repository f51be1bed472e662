"""The learner's progress: what they have done, against everything the course offers.

:func:`progress_summary` reads the learner's saved files (scenarios, quiz,
flashcards, journal) and the course content, and returns one row per activity as
a pandas DataFrame; :func:`show_progress` renders it, grouped by lesson. In the course's
widget idiom, :class:`Progress` is what the page reports against (the lesson headings),
:class:`ProgressSession` the learner's summary, :class:`ProgressView` the widget. Content
is read with each activity's own loader; a content file that cannot be read is
listed as a problem rather than hiding the rest of the page.
"""
from __future__ import annotations

import html
import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import ipywidgets as widgets
import pandas as pd

from .content import ContentError, file_ids
from .flashcards import load_flashcards, saved_known
from .reflection import load_reflection_set
from .quiz import final_test_status, load_quiz
from .scenario import load_scenario
from .store import LearnerFile
from .style import heading, themed

COLUMNS = ["lesson", "activity", "id", "title", "done", "status", "score"]
ACTIVITY_ORDER = ["Scenario", "Quiz", "Reflection", "Flashcards", "Final test"]
LESSONS_DIR = Path(__file__).resolve().parents[1] / "lessons"


def _row(lesson: Any, activity: str, item_id: str, title: Any, done: bool, status: str,
         score: str = "") -> dict[str, Any]:
    """One activity: ``done`` means finished (or written, or every card known); ``score`` is the best
    score, shown apart from it, so a finished scenario with 0 points is not mistaken for a good one."""
    lesson = lesson if isinstance(lesson, int) and not isinstance(lesson, bool) else None
    title = title.strip() if isinstance(title, str) and title.strip() else item_id
    return {"lesson": lesson, "activity": activity, "id": item_id, "title": title, "done": done, "status": status,
            "score": score}


def _score(points: Any, out_of: Any) -> str:
    """``3 of 4 (75%)``, or "" when there is nothing to score."""
    if not isinstance(points, (int, float)) or not isinstance(out_of, (int, float)) or out_of <= 0:
        return ""
    return f"{points:g} of {out_of:g} ({round(100 * points / out_of)}%)"


def _record(saved: dict[str, Any], key: str) -> dict[str, Any]:
    value = saved.get(key)
    return value if isinstance(value, dict) else {}


def _loaded(kind: str, load: Callable[[str], Any], problems: list[str]) -> Iterator[tuple[str, Any]]:
    """Every content file of ``kind`` that loads, by id; the others are noted in ``problems``."""
    for item_id in file_ids(kind):
        try:
            yield item_id, load(item_id)
        except ContentError as error:
            problems.append(str(error))


def _scenario_rows(problems: list[str]) -> list[dict[str, Any]]:
    saved = LearnerFile("scenarios").load()
    rows = []
    for scenario_id, scenario in _loaded("scenarios", load_scenario, problems):
        record = _record(saved, scenario_id)
        done = record.get("finished") is True
        if done:
            status = f"Finished: best score {record.get('best_score', 0)} of {record.get('max_score', 0)}"
        else:
            status = "Started, not finished" if record else "Not started"
        score = _score(record.get("best_score"), record.get("max_score")) if done else ""
        rows.append(_row(scenario.lesson, "Scenario", scenario_id, scenario.title, done, status, score))
    return rows


def _quiz_rows(problems: list[str]) -> list[dict[str, Any]]:
    saved = LearnerFile("quiz").load()
    rows = []
    for quiz_id, quiz in _loaded("quizzes", load_quiz, problems):
        record = _record(saved, quiz_id)
        attempts = record.get("attempts", 0)
        done = isinstance(attempts, int) and attempts > 0
        status = (f"Best score {record.get('best', 0)} of {quiz.total} "
                  f"({attempts} attempt{'s' if attempts != 1 else ''})") if done else "Not attempted"
        score = _score(record.get("best"), quiz.total) if done else ""
        rows.append(_row(quiz.lesson, "Quiz", quiz_id, quiz.title, done, status, score))
    return rows


def _written_on(saved_at: Any) -> str:
    try:
        moment = datetime.fromisoformat(saved_at)
        return f"Written on {moment.day} {moment:%B %Y}"
    except (TypeError, ValueError):
        return "Written"


def _reflection_rows(problems: list[str]) -> list[dict[str, Any]]:
    saved = LearnerFile("journal").load()
    rows = []
    for _, reflections in _loaded("reflections", load_reflection_set, problems):
        for prompt in reflections.prompts:
            record = _record(saved, prompt.id)
            text = record.get("text")
            done = isinstance(text, str) and bool(text.strip())
            status = _written_on(record.get("saved_at")) if done else "Not written"
            rows.append(_row(prompt.lesson, "Reflection", prompt.id, prompt.title, done, status))
    return rows


def _flashcard_rows(problems: list[str]) -> list[dict[str, Any]]:
    store = LearnerFile("flashcards")
    rows = []
    for deck_id, deck in _loaded("flashcards", load_flashcards, problems):
        known = saved_known(deck_id, store) & {card.id for card in deck.cards}
        total = len(deck.cards)
        rows.append(_row(None, "Flashcards", deck_id, deck.title, len(known) == total,
                         f"{len(known)} of {total} cards known"))
    return rows


def _final_test_rows() -> list[dict[str, Any]]:
    """The end-of-course test (drawn from the lesson quizzes): its best score, if the course has quizzes."""
    if not file_ids("quizzes"):
        return []
    status = final_test_status()
    return [_row(None, "Final test", status["id"], status["title"], status["done"], status["status"])]


def progress_summary() -> pd.DataFrame:
    """One row per activity: ``lesson, activity, id, title, done, status, score``, in lesson order.

    An activity a lesson shows belongs to that lesson and comes in the order the lesson shows it
    (:func:`activity_places`); others keep the lesson their content file names, and ``lesson`` is
    empty for activities that belong to no single lesson (e.g. the final test). Content files
    that could not be read are listed in ``summary.attrs["problems"]``.
    """
    problems: list[str] = []
    rows = [*_scenario_rows(problems), *_quiz_rows(problems), *_reflection_rows(problems),
            *_flashcard_rows(problems), *_final_test_rows()]
    places = activity_places(LESSONS_DIR)
    for row in rows:  # an activity belongs to the lesson that shows it, in the order the lesson shows it
        place = places.get((row["activity"], row["id"]))
        row["place"] = place[1] if place else None
        if place:
            row["lesson"] = place[0]
    frame = pd.DataFrame(rows, columns=[*COLUMNS, "place"]).astype({"lesson": "Int64", "done": "bool"})
    frame["order"] = frame["activity"].map(ACTIVITY_ORDER.index)
    frame = frame.sort_values(["lesson", "place", "order"], na_position="last", kind="stable")
    frame = frame.drop(columns=["order", "place"]).reset_index(drop=True)
    frame.attrs["problems"] = problems
    return frame


def lesson_totals(summary: pd.DataFrame) -> pd.DataFrame:
    """Activities done and available per lesson (``lesson`` empty for course-wide activities)."""
    totals = summary.groupby("lesson", dropna=False, sort=True)["done"].agg(done="sum", total="count")
    return totals.reset_index().astype({"done": "int64", "total": "int64"})


def lesson_titles(lessons_dir: Path = LESSONS_DIR) -> dict[int, str]:
    """Lesson headings such as ``Lesson 6: Fees``, read from the numbered lesson notebooks."""
    titles = {}
    for notebook in sorted(lessons_dir.glob("[0-9][0-9]-*.ipynb")):
        try:
            cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        except (OSError, ValueError, KeyError):
            continue
        for cell in cells:
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else source
            first = source.strip().splitlines()[0] if source.strip() else ""
            if cell.get("cell_type") == "markdown" and first.startswith("# Lesson "):
                number = first[len("# Lesson "):].split(":")[0].strip()
                if number.isdigit():
                    titles[int(number)] = first.lstrip("# ").strip()
                break
    return titles


_SHOWS = {"show_scenario": "Scenario", "show_quiz": "Quiz", "show_reflection": "Reflection",
          "show_flashcards": "Flashcards"}
_CALL = re.compile(r'\b(show_scenario|show_quiz|show_reflection|show_flashcards)\(\s*["\']([^"\']+)["\']')


def _lesson_notebooks(lessons_dir: Path) -> Iterator[tuple[int, Path, list[dict[str, Any]]]]:
    """(lesson number, notebook, cells) for every numbered lesson that can be read."""
    for notebook in sorted(lessons_dir.glob("[0-9][0-9]-*.ipynb")):
        try:
            cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        except (OSError, ValueError, KeyError):
            continue
        yield int(notebook.name[:2]), notebook, cells


def activity_places(lessons_dir: Path = LESSONS_DIR) -> dict[tuple[str, str], tuple[int, int]]:
    """Where each activity is met: (activity, id) -> (lesson number, position in that lesson), read
    from the ``show_*("id")`` calls in the lesson notebooks (the first lesson that shows it)."""
    places: dict[tuple[str, str], tuple[int, int]] = {}
    for number, _path, cells in _lesson_notebooks(lessons_dir):
        position = 0
        for cell in cells:
            if cell.get("cell_type") != "code":
                continue
            source = cell.get("source", "")
            for function, item_id in _CALL.findall("".join(source) if isinstance(source, list) else source):
                position += 1
                places.setdefault((_SHOWS[function], item_id), (number, position))
    return places


def lesson_files(lessons_dir: Path = LESSONS_DIR) -> dict[int, str]:
    """Lesson number -> notebook file name, e.g. ``{6: "06-fees.ipynb"}`` (for links)."""
    return {number: path.name for number, path, _cells in _lesson_notebooks(lessons_dir) if number > 0}


def _group_heading(lesson: Any, titles: dict[int, str]) -> str:
    if pd.isna(lesson):
        return "Across the course"
    return titles.get(int(lesson), f"Lesson {int(lesson)}")


# ---------------------------------------------------------------- graded assignments


def course_dir() -> Path:
    """The course folder: the one the learner's JupyterLab was started for, else the package's own."""
    return Path(os.environ.get("CLIENTCARE_COURSE_DIR") or LESSONS_DIR.parents[1])


def assignment_status(course: Path | None = None, submissions: Path | None = None,
                      course_id: str = "clientcare") -> list[dict[str, str]]:
    """Each graded assignment of the course (``release/<name>``) with where the learner is with it:
    not fetched, fetched (a link to open it), submitted (when), feedback ready (a link to it).

    Fetched work and feedback are in the learner's ``learner/assignments/<name>/`` (see
    :mod:`clientcare.lab`); submissions are in nbgrader's own record of what this learner
    submitted (its cache in the Jupyter data folder)."""
    course = course or course_dir()
    if submissions is None:
        from jupyter_core.paths import jupyter_data_dir

        submissions = Path(jupyter_data_dir()) / "nbgrader_cache" / course_id
    release = course / "release"
    names = sorted(p.name for p in release.iterdir() if p.is_dir()) if release.is_dir() else []
    rows = []
    for name in names:
        folder = course / "learner" / "assignments" / name
        notebooks = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
        sent = sorted(submissions.glob(f"*+{name}+*")) if submissions.is_dir() else []
        feedback = sorted((folder / "feedback").glob(f"*/{name}.html")) if folder.is_dir() else []
        row = {"name": name, "status": "Not fetched yet: open Nbgrader > Assignment List and press Fetch",
               "link": "", "link_text": ""}
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


def _submitted_on(folder: Path) -> str:
    try:
        stamp = (folder / "timestamp.txt").read_text(encoding="utf-8").strip()
        moment = datetime.fromisoformat(stamp.replace(" UTC", "").replace("Z", ""))
    except (OSError, ValueError):
        return ""
    return f"on {moment.day} {moment:%B %Y} at {moment:%H:%M}"


def assignments_html(rows: list[dict[str, str]]) -> str:
    if not rows:
        return ""
    body = "".join(
        f"<tr><th scope='row' class='cc-text-cell'>{html.escape(row['name'])}</th>"
        f"<td>{html.escape(row['status'])}</td>"
        f"<td>{_link(row['link'], row['link_text'])}</td></tr>"
        for row in rows
    )
    return (heading("Graded assignments", 3, css="cc-subtitle")
            + '<div class="cc-table-scroll" role="region" tabindex="0" aria-label="Graded assignments">'
            '<table class="cc-table cc-progress-table">'
            '<thead><tr><th scope="col">Assignment</th><th scope="col">Where you are</th>'
            f'<th scope="col">Open</th></tr></thead><tbody>{body}</tbody></table></div>')


def _link(href: str, text: str) -> str:
    return f'<a href="{html.escape(href, quote=True)}">{html.escape(text)}</a>' if href else ""


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
             "An activity is complete once you have finished it (or written your reflection, or know every "
             "card); its best score is shown beside it.</p>"]
    for lesson, group in summary.groupby("lesson", dropna=False, sort=True):
        title = html.escape(_group_heading(lesson, titles))
        file = None if pd.isna(lesson) else files.get(int(lesson))
        linked = f'<a href="{html.escape(file, quote=True)}">{title}</a>' if file else title
        parts.append(f'<h3 class="cc-subtitle">{linked} ({int(group["done"].sum())} of {len(group)} done)</h3>')
        parts.append(f'<div class="cc-table-scroll" role="region" tabindex="0" aria-label="{title}: your activities">'
                     '<table class="cc-table cc-progress-table"><thead><tr>'
                     '<th scope="col">Activity</th><th scope="col">Title</th><th scope="col">Complete</th>'
                     '<th scope="col">Best score</th><th scope="col">Progress</th></tr></thead><tbody>')
        for row in group.itertuples(index=False):
            mark = "Yes" if row.done else "Not yet"
            parts.append(f"<tr><td>{row.activity}</td><th scope='row' class='cc-text-cell'>{html.escape(row.title)}</th>"
                         f"<td>{mark}</td><td>{html.escape(row.score) or '–'}</td>"
                         f"<td>{html.escape(row.status)}</td></tr>")
        parts.append("</tbody></table></div>")
    parts.append(assignments_html(assignment_status() if assignments is None else assignments))
    problems = summary.attrs.get("problems") or []
    if problems:
        items = "".join(f"<li>{html.escape(problem)}</li>" for problem in problems)
        parts.append(f"<p>Some course content could not be read; please tell your instructor:</p><ul>{items}</ul>")
    return "".join(parts)


@dataclass(frozen=True)
class Progress:
    """What the progress page reports against: the lesson headings (activities come from content)."""

    lesson_titles: Mapping[int, str]
    lesson_files: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))


def load_progress() -> Progress:
    """The course's progress page: lesson headings and files read from the lesson notebooks."""
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
        super().__init__([widgets.HTML(heading("Your progress so far", 2)), self.refresh_button, self.page])
        themed(self, "progress")

    def refresh(self) -> None:
        self.session.refresh()
        self.page.value = self.session.html()


def show_progress() -> ProgressView:
    """A summary of the learner's progress, with a button to read it again."""
    return ProgressView(ProgressSession(load_progress()))
