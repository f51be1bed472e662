"""Learning records: what a learner does in the lessons, as xAPI 1.0.3 statements.

Each finished scenario (route, score, ending), quiz attempt (one statement per question
and one for the attempt) and flashcard or interview review becomes a statement
(:func:`scenario_statement`, :func:`quiz_statements`, :func:`review_statement`):

* the actor is an *account* on the course's home page named by the learner's nbgrader
  id (the name nbgrader submits under), never an email address unless the course sets
  ``email_domain`` in its LRS settings (then ``mailto:<id>@<domain>``);
* verbs are ADL's (``http://adlnet.gov/expapi/verbs/...``);
* activity ids live under the course IRI (``<course>/scenarios/<id>``,
  ``<course>/quizzes/<id>/questions/<qid>``, ``<course>/lessons/<n>``, ...);
* the result has ``score`` (raw, min, max, scaled), ``success`` and ``completion``.

:func:`emit` keeps every statement in the learner's own file (``statements.json`` in
their data folder) and, when the course has an LRS (:mod:`clientcare.lrs`), marks it
pending and hands it to the background sender: emitting never waits for the network
and never raises into a widget. Written text (reflections, interview answers) is only
put in a statement when the learner has opted in (:func:`set_share_text`).
"""
from __future__ import annotations

import getpass
import logging
import os
import re
import uuid
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

from .store import LearnerFile

log = logging.getLogger(__name__)

VERSION = "1.0.3"
STATEMENTS_FILE = "statements"
VERBS = {
    "completed": "http://adlnet.gov/expapi/verbs/completed",
    "answered": "http://adlnet.gov/expapi/verbs/answered",
    "responded": "http://adlnet.gov/expapi/verbs/responded",
}
ACTIVITY_TYPES = {
    "course": "http://adlnet.gov/expapi/activities/course",
    "lesson": "http://adlnet.gov/expapi/activities/lesson",
    "simulation": "http://adlnet.gov/expapi/activities/simulation",
    "assessment": "http://adlnet.gov/expapi/activities/assessment",
    "interaction": "http://adlnet.gov/expapi/activities/cmi.interaction",
    "question": "http://adlnet.gov/expapi/activities/question",
}
QUIZ_MASTERY = 0.8  # a quiz attempt is a success at 80 % or more
PLATFORM = "Client Care (JupyterLab)"
LANGUAGE = "en-GB"


# ---------------------------------------------------------------- who and where


def learner_id() -> str:
    """The learner's nbgrader id: the name nbgrader submits under (its ``get_username`` rule)."""
    name = os.environ.get("CLIENTCARE_LEARNER_ID") or getpass.getuser()
    return os.environ.get("JUPYTERHUB_USER", name) if name == "jovyan" else name


def actor(settings: Any = None) -> dict[str, Any]:
    """The learner as an xAPI Agent: an account on the course's home page, or an email if configured."""
    from .lrs import load_settings

    settings = settings or load_settings()
    name = learner_id()
    if settings.email_domain:
        return {"objectType": "Agent", "mbox": f"mailto:{name}@{settings.email_domain}"}
    return {"objectType": "Agent", "account": {"homePage": settings.homepage, "name": name}}


def _iri(settings: Any, *parts: Any) -> str:
    return "/".join([settings.course_iri.rstrip("/"), *(str(part) for part in parts)])


def extension(settings: Any, name: str) -> str:
    """The IRI of one of the course's extensions (``route``, ``ending``, ``lesson``, ``rating``...)."""
    return _iri(settings, "xapi", "extensions", name)


def _activity(iri: str, kind: str, name: str, **definition: Any) -> dict[str, Any]:
    return {"objectType": "Activity", "id": iri,
            "definition": {"type": ACTIVITY_TYPES[kind], "name": {LANGUAGE: name}, **definition}}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _statement(settings: Any, verb: str, obj: dict[str, Any], result: dict[str, Any], lesson: Any = None,
               parent: dict[str, Any] | None = None, registration: str | None = None) -> dict[str, Any]:
    grouping = [_activity(_iri(settings), "course", "Client Care")]
    if isinstance(lesson, int) and not isinstance(lesson, bool):
        grouping.append(_activity(_iri(settings, "lessons", lesson), "lesson", f"Lesson {lesson}"))
    context: dict[str, Any] = {"platform": PLATFORM, "language": LANGUAGE,
                               "contextActivities": {"grouping": grouping}}
    if parent:
        context["contextActivities"]["parent"] = [parent]
    if registration:
        context["registration"] = registration
    return {
        "id": str(uuid.uuid4()), "version": VERSION, "timestamp": _now(), "actor": actor(settings),
        "verb": {"id": VERBS[verb], "display": {"en-US": verb}}, "object": obj, "result": result,
        "context": context,
    }


def _score(raw: float, maximum: float) -> dict[str, Any]:
    scaled = round(raw / maximum, 4) if maximum else 0.0
    return {"raw": raw, "min": 0, "max": maximum, "scaled": scaled}


# ---------------------------------------------------------------- statements of each activity


def scenario_statement(session: Any, settings: Any = None) -> dict[str, Any]:
    """A finished scenario: ``completed``, the score, success for a strong ending, the ending and the route.

    The route extension lists every decision as ``{"node", "choice", "points", "best"}``
    (``choice``: the choice's number as written, from 1), so a report can find the
    decisions learners most often get wrong.
    """
    from .lrs import load_settings
    from .scenario import MAX_POINTS

    settings = settings or load_settings()
    scenario = session.scenario
    route = [{"node": step.node.id, "choice": step.node.choices.index(step.choice) + 1,
              "points": step.choice.points, "best": MAX_POINTS} for step in session.steps]
    ending = session.current.ending
    result = {"score": _score(session.score, session.max_score), "success": ending == "strong",
              "completion": True,
              "extensions": {extension(settings, "ending"): ending, extension(settings, "route"): route}}
    obj = _activity(_iri(settings, "scenarios", scenario.id), "simulation", scenario.title)
    return _statement(settings, "completed", obj, result, lesson=scenario.lesson)


def _response(question: Any, answer: Any) -> str:
    """An xAPI interaction response: option numbers as written (``1[,]3``), or the number typed."""
    if question.kind == "numeric":
        return "" if answer is None else str(answer).strip()
    return "[,]".join(str(index + 1) for index in sorted(answer or ()))


def quiz_statements(session: Any, settings: Any = None) -> list[dict[str, Any]]:
    """A submitted quiz attempt: one ``answered`` statement per question asked (its result, success,
    the response as option numbers), then one ``completed`` for the attempt, all in one registration."""
    from .lrs import load_settings
    from .quiz import score_question

    settings = settings or load_settings()
    quiz = session.quiz
    registration = str(uuid.uuid4())
    quiz_activity = _activity(_iri(settings, "quizzes", quiz.id), "assessment", quiz.title)
    statements = []
    for question in session.questions:
        answer = session.answers.get(question.id)
        right = score_question(question, answer)
        definition: dict[str, Any] = {"interactionType": "numeric" if question.kind == "numeric" else "choice"}
        if question.kind == "numeric":
            definition["correctResponsesPattern"] = [f"{question.answer - question.tolerance:g}[:]"
                                                     f"{question.answer + question.tolerance:g}"]
        else:
            definition["correctResponsesPattern"] = ["[,]".join(str(i + 1) for i in sorted(question.correct))]
            definition["choices"] = [{"id": str(n), "description": {LANGUAGE: option.text}}
                                     for n, option in enumerate(question.options, start=1)]
        obj = _activity(_iri(settings, "quizzes", quiz.id, "questions", question.id.replace("/", "--")),
                        "interaction", question.id, **definition)
        result = {"score": _score(right, 1), "success": bool(right), "completion": True,
                  "response": _response(question, answer)}
        statements.append(_statement(settings, "answered", obj, result, lesson=quiz.lesson, parent=quiz_activity,
                                     registration=registration))
    score, total = session.score or 0, quiz.total
    result = {"score": _score(score, total), "success": bool(total) and score / total >= QUIZ_MASTERY,
              "completion": True}
    statements.append(_statement(settings, "completed", quiz_activity, result, lesson=quiz.lesson,
                                 registration=registration))
    return statements


def review_statement(kind: str, item_id: str, title: str, *, deck: str | None = None, rating: str | None = None,
                     success: bool | None = None, score: float | None = None, max_score: float | None = None,
                     lesson: int | None = None, text: str | None = None, settings: Any = None) -> dict[str, Any]:
    """A finished flashcard review (``kind="flashcard"``) or interview practice (``kind="interview"``).

    ``rating`` is the learner's own rating of the review (e.g. FSRS's again/hard/good/easy),
    kept as an extension; ``text`` (an interview answer) is included only if the learner
    opted in to sharing their text (:func:`share_text`).
    """
    from .lrs import load_settings

    settings = settings or load_settings()
    folder = {"flashcard": "flashcards", "interview": "interviews"}[kind]
    parts = [folder, deck, item_id] if deck else [folder, item_id]
    obj = _activity(_iri(settings, *parts), "question" if kind == "interview" else "interaction", title,
                    **({} if kind == "interview" else {"interactionType": "other"}))
    result: dict[str, Any] = {"completion": True}
    if success is not None:
        result["success"] = bool(success)
    if score is not None and max_score:
        result["score"] = _score(score, max_score)
    if rating is not None:
        result["extensions"] = {extension(settings, "rating"): rating}
    if text and share_text():
        result["response"] = text
    parent = _activity(_iri(settings, folder, deck), "assessment", deck) if deck else None
    return _statement(settings, "answered" if kind == "flashcard" else "responded", obj, result, lesson=lesson,
                      parent=parent)


def reflection_statement(reflection: Any, text: str, settings: Any = None) -> dict[str, Any]:
    """A reflection saved with its Save button: ``responded``, complete; its text only if the learner opted in."""
    from .lrs import load_settings

    settings = settings or load_settings()
    obj = _activity(_iri(settings, "reflections", reflection.id), "question", reflection.title)
    result: dict[str, Any] = {"completion": bool(text.strip())}
    if text.strip() and share_text():
        result["response"] = text
    return _statement(settings, "responded", obj, result, lesson=getattr(reflection, "lesson", None))


def review_listener(event: Any) -> None:
    """Record a finished flashcard or interview review (:class:`clientcare.srs.ReviewFinished`).

    Registered with :func:`clientcare.srs.add_review_listener`. Success is any rating but
    Again; numbers and yes/no details of the review (e.g. checklist points ticked) go in an
    extension, written text only if the learner opted in.
    """
    lesson = int(event.collection[:2]) if event.collection[:2].isdigit() else None
    details = dict(event.details or {})
    text = details.pop("answer", None) if isinstance(details.get("answer"), str) else None

    def build() -> dict[str, Any]:
        from .lrs import load_settings

        settings = load_settings()
        statement = review_statement(event.activity, event.item, event.title, deck=event.collection,
                                     rating=event.rating, success=event.rating != "Again", lesson=lesson, text=text,
                                     settings=settings)
        plain = {key: value for key, value in details.items()
                 if isinstance(value, (bool, int, float)) or (isinstance(value, list)
                                                               and all(isinstance(v, (int, str)) for v in value))}
        if plain:
            statement["result"].setdefault("extensions", {})[extension(settings, "details")] = plain
        made, out_of = details.get("points_made"), details.get("points")
        if isinstance(made, (int, float)) and isinstance(out_of, (int, float)) and out_of > 0 and 0 <= made <= out_of:
            statement["result"]["score"] = _score(made, out_of)  # an interview's checklist points made
        seconds = getattr(event, "seconds", None)
        if isinstance(seconds, (int, float)) and seconds >= 0:
            statement["result"]["duration"] = f"PT{round(seconds, 2):g}S"
        if isinstance(event.reviewed_at, datetime):
            moment = event.reviewed_at if event.reviewed_at.tzinfo else event.reviewed_at.replace(tzinfo=timezone.utc)
            statement["timestamp"] = moment.isoformat(timespec="milliseconds")
        return statement

    record(build)


# ---------------------------------------------------------------- the learner's record and sharing choice


def statements_file(folder: Any = None) -> LearnerFile:
    return LearnerFile(STATEMENTS_FILE, folder)


def share_text(store: LearnerFile | None = None) -> bool:
    """Has the learner opted in to sharing their written text (reflections, interview answers)?"""
    return (store or statements_file()).load().get("share_text") is True


def set_share_text(on: bool, store: LearnerFile | None = None) -> None:
    (store or statements_file()).update(lambda data: data.__setitem__("share_text", bool(on)))


def kept(store: LearnerFile | None = None) -> list[dict[str, Any]]:
    """Every statement kept in the learner's file, oldest first."""
    statements = (store or statements_file()).load().get("statements")
    return [s for s in statements if isinstance(s, dict)] if isinstance(statements, list) else []


def pending(store: LearnerFile | None = None) -> list[dict[str, Any]]:
    """The kept statements not yet received by the course's LRS."""
    data = (store or statements_file()).load()
    waiting = set(data.get("pending") or [])
    return [s for s in kept(store) if s.get("id") in waiting]


def record(build: Any, *args: Any, folder: Any = None, **kwargs: Any) -> list[dict[str, Any]]:
    """``emit(build(*args, **kwargs))``, where building the statements cannot break the caller either."""
    try:
        statements = build(*args, **kwargs)
    except Exception:  # noqa: BLE001 - logged; the widget carries on
        log.exception("could not build the learning record")
        return []
    return emit(statements, folder)


def emit(statements: dict[str, Any] | Iterable[dict[str, Any]], folder: Any = None) -> list[dict[str, Any]]:
    """Keep ``statements`` in the learner's file and, with an LRS configured, send them in the background.

    Never raises: a learning record must not break the activity that made it (a problem
    is logged and the statements, once kept, are retried later).
    """
    batch = [statements] if isinstance(statements, Mapping) else list(statements)
    try:
        from .lrs import load_settings, sender

        for statement in batch:
            problems = validate_statement(statement)
            if problems:
                raise ValueError(f"not a valid xAPI statement: {'; '.join(problems)}")
        settings = load_settings()
        store = statements_file(folder)

        def change(data: dict[str, Any]) -> None:
            data.setdefault("statements", []).extend(batch)
            if settings.endpoint:
                data["pending"] = list(data.get("pending") or []) + [s["id"] for s in batch]

        store.update(change)
        if settings.endpoint:
            sender(store.folder, settings).kick()
    except Exception:  # noqa: BLE001 - logged; the widget carries on
        log.exception("could not record the learning record")
    return batch


# ---------------------------------------------------------------- structure (xAPI 1.0.3)

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
_IRI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s]+$")
_LANG = re.compile(r"^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$")
_STATEMENT_KEYS = {"id", "actor", "verb", "object", "result", "context", "timestamp", "stored", "authority",
                   "version", "attachments"}
_RESULT_KEYS = {"score", "success", "completion", "response", "duration", "extensions"}
_CONTEXT_KEYS = {"registration", "instructor", "team", "contextActivities", "revision", "platform", "language",
                 "statement", "extensions"}


def _language_map(value: Any, at: str) -> list[str]:
    if not isinstance(value, dict) or not value:
        return [f"{at} must be a language map"]
    return [f"{at}: {key!r} is not a language tag" for key, text in value.items()
            if not _LANG.match(str(key)) or not isinstance(text, str)]


def _agent(value: Any, at: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{at} must be an object"]
    ifis = [key for key in ("mbox", "mbox_sha1sum", "openid", "account") if key in value]
    problems = [] if len(ifis) == 1 else [f"{at} must have exactly one identifier (has {ifis or 'none'})"]
    if value.get("objectType", "Agent") not in ("Agent", "Group"):
        problems.append(f"{at}.objectType must be Agent")
    if "mbox" in value and not str(value["mbox"]).startswith("mailto:"):
        problems.append(f"{at}.mbox must be a mailto: IRI")
    if "account" in value:
        account = value["account"]
        if not isinstance(account, dict) or not str(account.get("homePage", "")).startswith(("http://", "https://")) \
                or not isinstance(account.get("name"), str) or not account.get("name"):
            problems.append(f"{at}.account needs homePage (a URL) and name")
    return problems


def _extensions(value: Any, at: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{at} must be an object"]
    return [f"{at}: key {key!r} is not an IRI" for key in value if not _IRI.match(str(key))]


def _activity_problems(value: Any, at: str) -> list[str]:
    if not isinstance(value, dict) or value.get("objectType", "Activity") != "Activity":
        return [f"{at} must be an Activity"]
    problems = [] if _IRI.match(str(value.get("id", ""))) else [f"{at}.id must be an IRI"]
    definition = value.get("definition")
    if definition is not None:
        if "type" in definition and not _IRI.match(str(definition["type"])):
            problems.append(f"{at}.definition.type must be an IRI")
        if "name" in definition:
            problems += _language_map(definition["name"], f"{at}.definition.name")
        if "interactionType" in definition and definition["interactionType"] not in (
                "true-false", "choice", "fill-in", "long-fill-in", "matching", "performance", "sequencing",
                "likert", "numeric", "other"):
            problems.append(f"{at}.definition.interactionType is not an xAPI interaction type")
    return problems


def validate_statement(statement: Any) -> list[str]:
    """What makes ``statement`` an invalid xAPI 1.0.3 statement (empty: valid)."""
    if not isinstance(statement, dict):
        return ["a statement must be a JSON object"]
    problems = [f"unknown property {key!r}" for key in statement if key not in _STATEMENT_KEYS]
    if "id" in statement and not _UUID.match(str(statement["id"])):
        problems.append("id must be a UUID")
    if statement.get("version", VERSION) and not str(statement.get("version", VERSION)).startswith("1.0"):
        problems.append("version must be 1.0.x")
    problems += _agent(statement.get("actor"), "actor")
    verb = statement.get("verb")
    if not isinstance(verb, dict) or not _IRI.match(str(verb.get("id", ""))):
        problems.append("verb.id must be an IRI")
    elif "display" in verb:
        problems += _language_map(verb["display"], "verb.display")
    problems += _activity_problems(statement.get("object"), "object")
    result = statement.get("result")
    if result is not None:
        if not isinstance(result, dict):
            problems.append("result must be an object")
        else:
            problems += [f"result: unknown property {key!r}" for key in result if key not in _RESULT_KEYS]
            for flag in ("success", "completion"):
                if flag in result and not isinstance(result[flag], bool):
                    problems.append(f"result.{flag} must be true or false")
            score = result.get("score")
            if score is not None:
                problems += _score_problems(score)
            if "response" in result and not isinstance(result["response"], str):
                problems.append("result.response must be a string")
            if "extensions" in result:
                problems += _extensions(result["extensions"], "result.extensions")
    context = statement.get("context")
    if context is not None:
        problems += [f"context: unknown property {key!r}" for key in context if key not in _CONTEXT_KEYS]
        if "registration" in context and not _UUID.match(str(context["registration"])):
            problems.append("context.registration must be a UUID")
        for kind, activities in (context.get("contextActivities") or {}).items():
            if kind not in ("parent", "grouping", "category", "other"):
                problems.append(f"context.contextActivities: unknown {kind!r}")
            for n, activity in enumerate(activities if isinstance(activities, list) else [activities]):
                problems += _activity_problems(activity, f"context.contextActivities.{kind}[{n}]")
        if "language" in context and not _LANG.match(str(context["language"])):
            problems.append("context.language must be a language tag")
    if "timestamp" in statement:
        try:
            moment = datetime.fromisoformat(str(statement["timestamp"]).replace("Z", "+00:00"))
            if moment.tzinfo is None:
                problems.append("timestamp must have a time zone")
        except ValueError:
            problems.append("timestamp must be ISO 8601")
    return problems


def _score_problems(score: Any) -> list[str]:
    if not isinstance(score, dict):
        return ["result.score must be an object"]
    numbers = {key: value for key, value in score.items() if key in ("scaled", "raw", "min", "max")}
    problems = [f"result.score: unknown property {key!r}" for key in score if key not in numbers]
    problems += [f"result.score.{key} must be a number" for key, value in numbers.items()
                 if isinstance(value, bool) or not isinstance(value, (int, float))]
    if problems:
        return problems
    if "scaled" in score and not -1 <= score["scaled"] <= 1:
        problems.append("result.score.scaled must be from -1 to 1")
    low, high = score.get("min"), score.get("max")
    if low is not None and high is not None and not low < high:
        problems.append("result.score.min must be below max")
    if "raw" in score and ((low is not None and score["raw"] < low) or (high is not None and score["raw"] > high)):
        problems.append("result.score.raw must be between min and max")
    return problems
