"""Practice in the lessons, for the cohort report: read from the course's LRS.

The learners' xAPI statements (see :mod:`clientcare.xapi`) become one table
(:func:`practice_frame`), from which the report shows the scenario decisions learners most
often get wrong (:func:`decisions_missed`), the quiz questions most missed
(:func:`questions_missed`) and how many learners are active in each lesson
(:func:`active_learners`), with a plot of each. Only what a learner chose and scored is
read: the table keeps no text a learner wrote (a statement's ``response`` is dropped for
every activity but a quiz question, where it is the option numbers chosen), so no one's
reflections or interview answers reach the report.
"""
from __future__ import annotations

from typing import Any, Iterable

import matplotlib.pyplot as plt
import pandas as pd

from ..lrs import LrsSettings, fetch_statements, load_settings

COLUMNS = ["learner", "kind", "activity", "item", "lesson", "verb", "success", "scaled", "timestamp", "route",
           "response"]


def _learner(actor: dict[str, Any]) -> str:
    account = actor.get("account") or {}
    return account.get("name") or str(actor.get("mbox", "")).removeprefix("mailto:") or "?"


def _kind_and_item(object_id: str, course_iri: str) -> tuple[str, str, str]:
    """(kind, activity, item) from an activity id under the course IRI."""
    parts = object_id.removeprefix(course_iri.rstrip("/") + "/").split("/")
    if parts[0] == "scenarios":
        return "scenario", parts[1], ""
    if parts[0] == "quizzes" and len(parts) >= 4:
        return "question", parts[1], parts[3].replace("--", "/")
    if parts[0] == "quizzes":
        return "quiz", parts[1], ""
    if parts[0] in ("flashcards", "interviews"):
        return parts[0].rstrip("s"), parts[1] if len(parts) > 2 else "", parts[-1]
    return "other", "/".join(parts), ""


def practice_frame(statements: Iterable[dict[str, Any]], course_iri: str | None = None) -> pd.DataFrame:
    """One row per statement of this course: learner, kind, activity, item, lesson, verb, success, scaled score,
    time and (scenarios) the route; quiz questions keep the options chosen, nothing else keeps text."""
    course_iri = course_iri or load_settings().course_iri
    rows = []
    for statement in statements:
        object_id = str((statement.get("object") or {}).get("id", ""))
        if not object_id.startswith(course_iri.rstrip("/") + "/"):
            continue  # another course's statement
        kind, activity, item = _kind_and_item(object_id, course_iri)
        result = statement.get("result") or {}
        extensions = result.get("extensions") or {}
        route = next((value for key, value in extensions.items() if key.endswith("/xapi/extensions/route")), None)
        grouping = ((statement.get("context") or {}).get("contextActivities") or {}).get("grouping") or []
        lesson = next((int(a["id"].rsplit("/", 1)[1]) for a in grouping
                       if "/lessons/" in str(a.get("id", "")) and a["id"].rsplit("/", 1)[1].isdigit()), None)
        rows.append({
            "learner": _learner(statement.get("actor") or {}), "kind": kind, "activity": activity, "item": item,
            "lesson": lesson, "verb": str((statement.get("verb") or {}).get("id", "")).rsplit("/", 1)[-1],
            "success": result.get("success"), "scaled": (result.get("score") or {}).get("scaled"),
            "timestamp": statement.get("timestamp"), "route": route,
            "response": result.get("response") if kind == "question" else None,
        })
    return pd.DataFrame(rows, columns=COLUMNS).astype({"lesson": "Int64"})


def load_practice(settings: LrsSettings | None = None) -> pd.DataFrame:
    """The course's statements from its LRS (the LRS setting, ``clientcare_lrs.json``) as :func:`practice_frame`."""
    settings = settings or load_settings()
    if not settings.endpoint:
        raise LookupError("the course has no LRS setting (clientcare_lrs.json on the Jupyter config path, or "
                          "CLIENTCARE_LRS_CONFIG): learners' practice is kept only in their own files")
    return practice_frame(fetch_statements(settings), settings.course_iri)


def decisions_missed(frame: pd.DataFrame) -> pd.DataFrame:
    """Per scenario decision (node): how often it was taken, and the share of times the best choice was not."""
    steps = [{"scenario": row.activity, "decision": step["node"], "learner": row.learner,
              "missed": step["points"] < step["best"], "choice": step["choice"]}
             for row in frame[frame["kind"] == "scenario"].itertuples() if isinstance(row.route, list)
             for step in row.route if isinstance(step, dict)]
    table = pd.DataFrame(steps, columns=["scenario", "decision", "learner", "missed", "choice"])
    if table.empty:
        return pd.DataFrame(columns=["scenario", "decision", "times_taken", "learners", "percent_missed",
                                     "most_chosen_instead"])
    missed = table[table["missed"]]
    instead = missed.groupby(["scenario", "decision"])["choice"].agg(lambda c: int(c.mode().iloc[0]))
    summary = (table.groupby(["scenario", "decision"])
               .agg(times_taken=("missed", "size"), learners=("learner", "nunique"), missed=("missed", "sum"))
               .assign(percent_missed=lambda t: (100 * t["missed"] / t["times_taken"]).round(1)))
    summary["most_chosen_instead"] = instead.reindex(summary.index).astype("Int64")
    summary = summary.reset_index().sort_values(["percent_missed", "times_taken"], ascending=[False, False])
    return summary[["scenario", "decision", "times_taken", "learners", "percent_missed",
                    "most_chosen_instead"]].reset_index(drop=True)


def questions_missed(frame: pd.DataFrame) -> pd.DataFrame:
    """Per quiz question: times answered, learners, and the share of answers that were wrong (most missed first)."""
    answers = frame[frame["kind"] == "question"]
    if answers.empty:
        return pd.DataFrame(columns=["quiz", "question", "answered", "learners", "percent_missed"])
    table = (answers.assign(wrong=lambda t: t["success"] != True)  # noqa: E712 - None counts as wrong
             .groupby(["activity", "item"])
             .agg(answered=("wrong", "size"), learners=("learner", "nunique"), wrong=("wrong", "sum"))
             .assign(percent_missed=lambda t: (100 * t["wrong"] / t["answered"]).round(1))
             .reset_index().rename(columns={"activity": "quiz", "item": "question"})
             .sort_values(["percent_missed", "answered"], ascending=[False, False]))
    return table[["quiz", "question", "answered", "learners", "percent_missed"]].reset_index(drop=True)


def active_learners(frame: pd.DataFrame) -> pd.DataFrame:
    """Per lesson: learners with at least one finished activity there, and how many activities they finished."""
    lessons = frame[frame["lesson"].notna() & (frame["kind"] != "question")]  # a quiz attempt counts once
    if lessons.empty:
        return pd.DataFrame(columns=["lesson", "active_learners", "activities_finished"])
    table = (lessons.groupby("lesson").agg(active_learners=("learner", "nunique"),
                                           activities_finished=("learner", "size"))
             .reset_index().sort_values("lesson"))
    return table.reset_index(drop=True)


def _bars(labels: list[str], values: list[float], title: str, xlabel: str, colour: str, limit: float | None = None):
    figure, axis = plt.subplots(figsize=(8, 0.35 * max(1, len(labels)) + 1.2))
    axis.barh(labels[::-1], values[::-1], color=colour)
    if limit:
        axis.set_xlim(0, limit)
    axis.set_xlabel(xlabel)
    axis.set_title(title)
    figure.tight_layout()
    return figure


def decisions_figure(decisions: pd.DataFrame, limit: int = 12):
    top = decisions.head(limit)
    return _bars([f"{s}: {d}" for s, d in zip(top["scenario"], top["decision"])], list(top["percent_missed"]),
                 f"The {len(top)} scenario decisions most often missed", "times the best choice was not taken (%)",
                 "#c0504d", 100)


def questions_figure(questions: pd.DataFrame, limit: int = 12):
    top = questions.head(limit)
    return _bars([f"{q}: {i}" for q, i in zip(top["quiz"], top["question"])], list(top["percent_missed"]),
                 f"The {len(top)} quiz questions most missed", "answers that were wrong (%)", "#8064a2", 100)


def active_figure(active: pd.DataFrame):
    figure, axis = plt.subplots(figsize=(8, 3))
    axis.bar([f"Lesson {n}" for n in active["lesson"]], active["active_learners"], color="#1f6f8b")
    axis.set_ylabel("learners")
    axis.set_title("Active learners per lesson")
    axis.tick_params(axis="x", labelrotation=45)
    figure.tight_layout()
    return figure
