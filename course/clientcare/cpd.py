"""The learner's CPD record: what they have learnt on the course, in the shape professional bodies ask
for (date, activity, hours, formal or informal, learning outcome, reflection), exported from the
progress page as a CSV file and as an HTML page ready to print.

* A **completed lesson** (every scenario, quiz and reflection in it done) is formal CPD, at the time
  the lesson states (``content/cpd.yaml``), with its learning outcome and the learner's scores.
* **Flashcard and interview practice** is informal CPD, one row per day, at the time actually spent
  (each flashcard review counts up to 2 minutes, each interview question up to 20), kept in the
  learner's ``practice.json`` as the reviews happen: ``{"days": {"2026-12-01": {"flashcard":
  {"reviews": 12, "seconds": 300.0}, "interview": {"reviews": 2, "seconds": 900.0, "points_made": 7,
  "points": 11}}}}``.
* **Reflections** appear only if the learner ticks "Include my reflections".

Nothing is written outside the learner's own data folder, and nothing at all until they export:
:func:`export_cpd` writes ``cpd/cpd-record-<date>.csv`` and ``.html`` there.
"""
from __future__ import annotations

import base64
import csv
import html
import io
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from . import content, srs
from .content import ContentError, check_known_fields, field, read_yaml, where
from .store import LearnerFile, data_dir

COLUMNS = ["date", "activity", "hours", "formal/informal", "learning outcome", "reflection"]
PRACTICE_FILE = "practice"
PLAN_FILE = "cpd.yaml"
MAX_SECONDS = {"flashcard": 120.0, "interview": 1200.0}
PRACTICE_OUTCOMES = {
    "flashcard": "Recalled key facts, rules and their sources across the course by spaced repetition.",
    "interview": "Practised answering competency-interview questions and compared answers with model answers "
                 "at three levels (knowing, applying, advising).",
}
LESSON_ACTIVITIES = ("Scenario", "Quiz", "Reflection")  # what completing a lesson means


@dataclass(frozen=True)
class LessonPlan:
    lesson: int
    minutes: int
    outcome: str


def load_plan() -> dict[int, LessonPlan]:
    """Each lesson's stated minutes and learning outcome, from ``content/cpd.yaml``."""
    path = content.CONTENT_DIR / PLAN_FILE
    if not path.exists():
        return {}
    data = read_yaml(path)
    plans = {}
    for number, raw in enumerate(field(data, "lessons", list, where(path)), start=1):
        at = where(path, f"lesson {number}")
        check_known_fields(raw, {"lesson", "minutes", "outcome"}, at)
        plan = LessonPlan(field(raw, "lesson", int, at), field(raw, "minutes", int, at), field(raw, "outcome", str, at))
        if plan.lesson in plans:
            raise ContentError(f"{at}: lesson {plan.lesson} is listed twice")
        plans[plan.lesson] = plan
    return plans


# ---------------------------------------------------------------- practice, as it happens


def log_practice(event: srs.ReviewFinished, store: LearnerFile | None = None) -> None:
    """Add one finished review to the day's practice (time capped per review, see :data:`MAX_SECONDS`)."""
    seconds = min(max(float(event.seconds or 0), 0.0), MAX_SECONDS.get(event.activity, 120.0))
    day = event.reviewed_at.astimezone().date().isoformat()

    def change(data: dict[str, Any]) -> None:
        days = data.get("days") if isinstance(data.get("days"), dict) else {}
        today = days.get(day) if isinstance(days.get(day), dict) else {}
        entry = today.get(event.activity) if isinstance(today.get(event.activity), dict) else {}
        entry = {**entry, "reviews": int(entry.get("reviews", 0)) + 1,
                 "seconds": round(float(entry.get("seconds", 0)) + seconds, 1)}
        if event.details:
            for key in ("points_made", "points"):
                entry[key] = int(entry.get(key, 0)) + int(event.details.get(key, 0))
        today[event.activity] = entry
        days[day] = today
        data["days"] = days

    (store or LearnerFile(PRACTICE_FILE)).update(change)


# ---------------------------------------------------------------- the record


def _day(moment: Any) -> str | None:
    try:
        return datetime.fromisoformat(moment).date().isoformat()
    except (TypeError, ValueError):
        return None


def _lesson_dates_and_reflections() -> tuple[dict[int, str], dict[int, list[tuple[str, str]]]]:
    """The latest dated activity per lesson, and each lesson's written reflections (title, text)."""
    from .reflection import load_reflection_set, saved_answer
    from .scenario import load_scenario

    dates: dict[int, str] = {}
    reflections: dict[int, list[tuple[str, str]]] = {}

    def seen(lesson: int, day: str | None) -> None:
        if day and day > dates.get(lesson, ""):
            dates[lesson] = day

    journal = LearnerFile("journal")
    for _, prompts in content.loaded_items("reflections", load_reflection_set, []):
        for prompt in prompts.prompts:
            record = saved_answer(prompt.id, journal)
            if record.get("text", "").strip():
                seen(prompt.lesson, _day(record.get("saved_at")))
                reflections.setdefault(prompt.lesson, []).append((prompt.title, record["text"].strip()))
    played = LearnerFile("scenarios").load()
    for scenario_id, scenario in content.loaded_items("scenarios", load_scenario, []):
        record = played.get(scenario_id)
        if isinstance(record, dict):
            seen(scenario.lesson, _day(record.get("finished_at")))
    return dates, reflections


def cpd_rows(include_reflections: bool = False, today: date | None = None, summary: Any = None) -> list[dict[str, str]]:
    """The CPD record, one row per completed lesson and per day of practice, oldest first (``summary``:
    the progress page's, if already made)."""
    from .progress import lesson_titles, progress_summary

    today = today or date.today()
    summary = progress_summary() if summary is None else summary
    plans, titles = load_plan(), lesson_titles()
    dates, reflections = _lesson_dates_and_reflections()
    rows = []
    lessons = summary[summary["activity"].isin(LESSON_ACTIVITIES) & summary["lesson"].notna()]
    for lesson, group in lessons.groupby("lesson", sort=True):
        lesson = int(lesson)
        plan = plans.get(lesson)
        if plan is None or not group["done"].all():
            continue
        scores = "; ".join(f"{row.activity.lower()} '{row.title}': {row.score}" for row in group.itertuples()
                           if row.score)
        written = reflections.get(lesson, [])
        rows.append({
            "date": dates.get(lesson, today.isoformat()),
            "activity": f"Client Care course (e-learning), {titles.get(lesson, f'Lesson {lesson}')}: "
                        f"{len(group)} activities completed" + (f" ({scores})" if scores else ""),
            "hours": f"{plan.minutes / 60:.2f}",
            "formal/informal": "formal",
            "learning outcome": plan.outcome,
            "reflection": "\n\n".join(f"{title}: {text}" for title, text in written) if include_reflections else "",
        })
    days = LearnerFile(PRACTICE_FILE).load().get("days")
    for day, practice in sorted(days.items()) if isinstance(days, dict) else []:
        for activity, label in (("flashcard", "Flashcard revision (spaced repetition)"),
                                ("interview", "Mock competency-interview practice")):
            entry = practice.get(activity) if isinstance(practice, dict) else None
            if not isinstance(entry, dict) or not entry.get("reviews"):
                continue
            reviews = int(entry["reviews"])
            detail = f"{reviews} card{'s' if reviews != 1 else ''} reviewed" if activity == "flashcard" else (
                f"{reviews} question{'s' if reviews != 1 else ''} answered, "
                f"{int(entry.get('points_made', 0))} of {int(entry.get('points', 0))} checklist points made")
            rows.append({"date": day, "activity": f"{label}: {detail}",
                         "hours": f"{float(entry.get('seconds', 0)) / 3600:.2f}", "formal/informal": "informal",
                         "learning outcome": PRACTICE_OUTCOMES[activity], "reflection": ""})
    return sorted(rows, key=lambda row: row["date"])


def cpd_hours(rows: list[dict[str, str]] | None = None) -> dict[str, float]:
    """Hours so far: ``total``, ``formal`` and ``informal``."""
    rows = cpd_rows() if rows is None else rows
    formal = sum(float(r["hours"]) for r in rows if r["formal/informal"] == "formal")
    informal = sum(float(r["hours"]) for r in rows if r["formal/informal"] == "informal")
    return {"total": round(formal + informal, 2), "formal": round(formal, 2), "informal": round(informal, 2)}


def cpd_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def cpd_html(rows: list[dict[str, str]], today: date | None = None) -> str:
    """A complete HTML page, ready to print (A4 landscape), with totals."""
    today = today or date.today()
    hours = cpd_hours(rows)
    head = "".join(f"<th scope='col'>{html.escape(c[0].upper() + c[1:])}</th>" for c in COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(row[c]).replace(chr(10), '<br>')}</td>" for c in COLUMNS) + "</tr>"
        for row in rows) or f"<tr><td colspan='{len(COLUMNS)}'>No CPD recorded yet.</td></tr>"
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head><meta charset="utf-8"><title>CPD record: Client Care course</title>
<style>
@page {{ size: A4 landscape; margin: 15mm; }}
body {{ font-family: system-ui, sans-serif; color: #111; background: #fff; font-size: 11pt; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #555; padding: 4px 6px; text-align: left; vertical-align: top; }}
th {{ background: #e8e8e8; }}
tr {{ break-inside: avoid; }}
</style></head>
<body>
<h1>CPD record: Client Care course</h1>
<p>Exported on {today.day} {today:%B %Y}. Total {hours['total']:.2f} hours: {hours['formal']:.2f} formal,
{hours['informal']:.2f} informal.</p>
<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
</body></html>
"""


def export_cpd(include_reflections: bool = False, folder: Path | None = None,
               today: date | None = None) -> tuple[Path, Path]:
    """Write the CPD record as CSV and HTML in the learner's data folder (``cpd/``); returns both paths."""
    today = today or date.today()
    rows = cpd_rows(include_reflections, today)
    folder = Path(folder) if folder else data_dir() / "cpd"
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, html_path = folder / f"cpd-record-{today.isoformat()}.csv", folder / f"cpd-record-{today.isoformat()}.html"
    from .store import atomic_write_text

    atomic_write_text(csv_path, cpd_csv(rows))
    atomic_write_text(html_path, cpd_html(rows, today))
    return csv_path, html_path


# ---------------------------------------------------------------- on the progress page


def revision_html(summary: Any = None) -> str:
    """What is due today and the CPD hours so far, for the top of the progress page."""
    from .flashcards import cards_due_today
    from .interview import interview_questions_due
    from .style import heading

    cards, new_cards = cards_due_today()
    questions, new_questions = interview_questions_due()
    hours = cpd_hours(cpd_rows(summary=summary))
    return (heading("Today", 3, css="cc-subtitle") + "<ul class='cc-today'>"
            f"<li><b>{cards} flashcards due today</b> ({new_cards} not studied yet)</li>"
            f"<li><b>{questions} interview questions due today</b> ({new_questions} not practised yet)</li>"
            f"<li><b>{hours['total']:.2f} CPD hours</b> so far ({hours['formal']:.2f} formal, "
            f"{hours['informal']:.2f} informal)</li></ul>")


def _download(path: Path, mime: str, text: str) -> str:
    data = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return (f'<a download="{html.escape(path.name, quote=True)}" href="data:{mime};charset=utf-8;base64,{data}">'
            f"Download {html.escape(path.suffix[1:].upper())}</a>")


class CpdExportBox(widgets.VBox):
    """Export the CPD record: reflections only if ticked; files go to the learner's own data folder."""

    def __init__(self):
        self.include_reflections = widgets.Checkbox(
            description="Include my reflections", value=False, indent=False,
            tooltip="Your reflections are left out of the export unless you tick this")
        self.export_button = widgets.Button(description="Export my CPD record", icon="download",
                                            tooltip="Write your CPD record as a CSV file and a printable HTML page")
        self.result = widgets.HTML()
        self.export_button.on_click(lambda _b: self.export())
        super().__init__([
            widgets.HTML("<h3 class='cc-subtitle'>Your CPD record</h3><p>Export what you have learnt here as a CSV "
                         "file (date, activity, hours, formal or informal, learning outcome, reflection) and as a "
                         "page ready to print. Nothing leaves your own files unless you export it.</p>"),
            widgets.HBox([self.include_reflections, self.export_button]), self.result,
        ])

    def export(self) -> tuple[Path, Path]:
        csv_path, html_path = export_cpd(self.include_reflections.value)
        self.result.value = (
            f"<p role='status'>Saved {html.escape(str(csv_path))} and {html.escape(str(html_path))}. "
            f"{_download(csv_path, 'text/csv', csv_path.read_text(encoding='utf-8'))} · "
            f"{_download(html_path, 'text/html', html_path.read_text(encoding='utf-8'))} "
            "(open the HTML page in your browser and print it).</p>")
        return csv_path, html_path
