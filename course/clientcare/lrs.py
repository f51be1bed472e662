"""The course's Learning Record Store (LRS): its one setting, sending statements, reading them back.

The setting is one small JSON file, ``clientcare_lrs.json``, in any folder of the Jupyter
config path (``jupyter --paths``; on the trial hub ``/srv/clientcare-hub/etc/jupyter``),
or wherever ``CLIENTCARE_LRS_CONFIG`` names::

    {"endpoint": "https://lrs.example.org/xAPI/", "username": "clientcare", "password": "...",
     "course_iri": "https://courses.example.org/clientcare"}

``CLIENTCARE_LRS_ENDPOINT``, ``CLIENTCARE_LRS_USERNAME`` and ``CLIENTCARE_LRS_PASSWORD``
override the file's values. Optional keys: ``homepage`` (the actor's account home page;
default the course IRI), ``email_domain`` (identify learners as ``<id>@<domain>`` instead),
``timeout`` (seconds per request, default 3) and ``retry_seconds`` (default 60). Without
an endpoint nothing is sent: statements stay in the learner's own file.

Sending happens on a background thread (:class:`Sender`), a batch at a time with a short
timeout. A statement stays *pending* in the learner's file until the LRS has received
it; an LRS that is down or unreachable is tried again later (on the next statement, the
next activity shown, and every ``retry_seconds`` while anything is pending).
"""
from __future__ import annotations

import base64
import json
import logging
import os
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CONFIG_FILE = "clientcare_lrs.json"
CONFIG_ENV = "CLIENTCARE_LRS_CONFIG"
DEFAULT_COURSE_IRI = "https://courses.example.org/clientcare"
BATCH = 50
_KEYS = {"endpoint", "username", "password", "course_iri", "homepage", "email_domain", "timeout", "retry_seconds"}


class LrsConfigError(ValueError):
    """The LRS setting cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class LrsSettings:
    endpoint: str = ""
    username: str = ""
    password: str = ""
    course_iri: str = DEFAULT_COURSE_IRI
    homepage: str = ""
    email_domain: str = ""
    timeout: float = 3.0
    retry_seconds: float = 60.0
    source: str = ""  # where the setting was read from, for messages

    def __post_init__(self) -> None:
        if not self.homepage:
            object.__setattr__(self, "homepage", self.course_iri)

    @property
    def statements_url(self) -> str:
        return self.endpoint.rstrip("/") + "/statements"

    @property
    def host(self) -> str:
        return urllib.parse.urlsplit(self.endpoint).netloc


def config_file() -> Path | None:
    """The LRS setting's file: ``$CLIENTCARE_LRS_CONFIG``, else the first ``clientcare_lrs.json`` on the config path."""
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    from jupyter_core.paths import jupyter_config_dir, jupyter_config_path

    for folder in [jupyter_config_dir(), *jupyter_config_path()]:
        candidate = Path(folder) / CONFIG_FILE
        if candidate.is_file():
            return candidate
    return None


def parse_settings(data: Any, source: str) -> LrsSettings:
    """Validate the setting's fields; :class:`LrsConfigError` names ``source`` and the field."""
    if not isinstance(data, dict):
        raise LrsConfigError(f"{source}: expected a JSON object with 'endpoint', 'username' and 'password'")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise LrsConfigError(f"{source}: unknown field '{unknown[0]}' (known: {', '.join(sorted(_KEYS))})")
    values: dict[str, Any] = {}
    for key in ("endpoint", "username", "password", "course_iri", "homepage", "email_domain"):
        if key in data and data[key] is not None:
            if not isinstance(data[key], str):
                raise LrsConfigError(f"{source}: field '{key}' must be text")
            values[key] = data[key].strip()
    for key in ("timeout", "retry_seconds"):
        if key in data:
            if isinstance(data[key], bool) or not isinstance(data[key], (int, float)) or data[key] <= 0:
                raise LrsConfigError(f"{source}: field '{key}' must be a positive number of seconds")
            values[key] = float(data[key])
    for key in ("endpoint", "course_iri", "homepage"):
        if values.get(key) and not values[key].startswith(("http://", "https://")):
            raise LrsConfigError(f"{source}: field '{key}' must be an http(s) URL, got {values[key]!r}")
    if values.get("endpoint") and not (values.get("username") and values.get("password")):
        raise LrsConfigError(f"{source}: an 'endpoint' needs 'username' and 'password' (the LRS's credentials)")
    return LrsSettings(**values, source=source)


def load_settings() -> LrsSettings:
    """The course's LRS setting (no endpoint: nothing is sent). A broken file is reported and ignored."""
    path, data = config_file(), {}
    source = str(path) if path else "environment"
    if path is not None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            log.warning("LRS setting %s could not be read (%s); nothing will be sent", path, error)
            data = {}
    if isinstance(data, dict):
        for key in ("endpoint", "username", "password"):
            if os.environ.get(f"CLIENTCARE_LRS_{key.upper()}"):
                data[key] = os.environ[f"CLIENTCARE_LRS_{key.upper()}"]
    try:
        return parse_settings(data, source)
    except LrsConfigError as error:
        log.warning("%s; nothing will be sent", error)
        return LrsSettings(source=source)


# ---------------------------------------------------------------- talking to the LRS


class LrsUnavailable(RuntimeError):
    """The LRS could not be reached, or refused the credentials: try again later."""


def _request(settings: LrsSettings, method: str, url: str, body: Any = None) -> tuple[int, Any]:
    token = base64.b64encode(f"{settings.username}:{settings.password}".encode()).decode()
    headers = {"Authorization": f"Basic {token}", "X-Experience-API-Version": "1.0.3",
               "Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=settings.timeout) as response:
            text = response.read().decode("utf-8")
            return response.status, json.loads(text) if text.strip() else None
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")[:500]
        if error.code in (400, 409, 422):  # refused (bad request, already held, failed validation)
            return error.code, detail
        raise LrsUnavailable(f"the LRS answered {error.code}: {detail}") from error
    except (OSError, ValueError) as error:  # refused, timed out, no route, bad reply
        raise LrsUnavailable(f"the LRS at {settings.host} could not be reached ({error})") from error


def post_statements(settings: LrsSettings, statements: list[dict[str, Any]]) -> tuple[list[str], dict[str, str]]:
    """Send ``statements``; returns (ids the LRS now holds, {id: why it refused it}).

    Raises :class:`LrsUnavailable` when nothing can be known (down, timed out, 5xx, 401).
    A batch the LRS refuses (400 or 422, or 409 because it already holds one of them) is sent
    one by one, so one bad statement cannot hold back the others; a 409 for a single
    statement means the LRS already has it.
    """
    if not statements:
        return [], {}
    status, _ = _request(settings, "POST", settings.statements_url, statements)
    if status < 300:
        return [s["id"] for s in statements], {}
    if len(statements) == 1:
        return ([statements[0]["id"]], {}) if status == 409 else ([], {statements[0]["id"]: f"refused ({status})"})
    held, refused = [], {}
    for statement in statements:
        ok, bad = post_statements(settings, [statement])
        held += ok
        refused.update(bad)
    return held, refused


def fetch_statements(settings: LrsSettings, limit: int = 500, **query: str) -> list[dict[str, Any]]:
    """Every statement the LRS holds (optionally filtered: ``verb=...``, ``since=...``), following ``more``."""
    url = settings.statements_url + "?" + urllib.parse.urlencode({"limit": limit, **query})
    found: list[dict[str, Any]] = []
    while url:
        status, body = _request(settings, "GET", url)
        if status >= 300 or not isinstance(body, dict):
            raise LrsUnavailable(f"the LRS refused to list statements ({status}): {body}")
        found += body.get("statements", [])
        more = body.get("more") or ""
        url = urllib.parse.urljoin(settings.statements_url, more) if more else ""
    return found


# ---------------------------------------------------------------- the background sender


class Sender:
    """Sends one learner folder's pending statements in the background; one per folder and endpoint."""

    def __init__(self, folder: Path, settings: LrsSettings):
        self.folder, self.settings = Path(folder), settings
        self._wake = threading.Event()
        self._lock = threading.Lock()  # one flush at a time
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    def kick(self) -> None:
        """Try to send now, in the background (returns at once)."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="clientcare-lrs-sender", daemon=True)
            self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.settings.retry_seconds)
            self._wake.clear()
            try:
                left = self.flush()
            except Exception:  # noqa: BLE001 - never let the thread die with statements pending
                log.exception("sending learning records failed")
                left = 1
            if not left and not self._wake.is_set():
                return  # nothing pending: the next statement starts a new thread

    def flush(self) -> int:
        """Send what is pending now (blocking, at most a few timeouts); returns how many are still pending."""
        from .xapi import pending, statements_file

        with self._lock:
            store = statements_file(self.folder)
            waiting = pending(store)
            delivered: set[str] = set()
            refused: dict[str, str] = {}
            try:
                for start in range(0, len(waiting), BATCH):
                    held, bad = post_statements(self.settings, waiting[start:start + BATCH])
                    delivered.update(held)
                    refused.update(bad)
                self.last_error = None
            except LrsUnavailable as error:
                self.last_error = str(error)
                log.info("learning records kept to send later: %s", error)
            done = delivered | set(refused)

            def change(data: dict[str, Any]) -> None:
                data["pending"] = [i for i in data.get("pending") or [] if i not in done]
                if refused:
                    data.setdefault("refused", {}).update(refused)
                data["last_error"] = self.last_error

            return len(store.update(change)["pending"])


_senders: dict[tuple[str, str], Sender] = {}
_senders_lock = threading.Lock()


def sender(folder: Path, settings: LrsSettings | None = None) -> Sender:
    """The sender for this learner folder and the course's LRS."""
    settings = settings or load_settings()
    key = (str(Path(folder).resolve()), settings.statements_url)
    with _senders_lock:
        if key not in _senders or _senders[key].settings != settings:
            _senders[key] = Sender(Path(folder), settings)
        return _senders[key]


def retry_pending(folder: Path | None = None) -> None:
    """Try again, in the background, to send statements left pending (called when an activity is shown)."""
    try:
        from .xapi import pending, statements_file

        settings = load_settings()
        store = statements_file(folder)
        if settings.endpoint and pending(store):
            sender(store.folder, settings).kick()
    except Exception:  # noqa: BLE001 - never in the way of showing an activity
        log.exception("could not retry sending learning records")


def sharing_notice() -> str:
    """One plain sentence (or two) for the progress page: what is shared, with whom, and what is not."""
    from .xapi import learner_id, pending, share_text

    settings = load_settings()
    text = ("reflections and written answers are included only if you choose to share them"
            if not share_text() else "you have chosen to include your reflections and written answers")
    if not settings.endpoint:
        return ("A record of each scenario, quiz, reflection and flashcard or interview review you finish is kept in "
                f"your own folder (statements.json); nothing is sent anywhere; {text}.")
    waiting = len(pending())
    later = (f" {waiting} record{'s are' if waiting != 1 else ' is'} waiting to be sent and will be sent "
             "when the course's record store can be reached." if waiting else "")
    return (f"When you finish a scenario, submit a quiz, save a reflection or finish a flashcard or interview review, "
            f"a record of "
            f"what you chose and scored is kept in your own folder and sent, under your course id "
            f"({learner_id()}), to the course's learning record store ({settings.host}), where your instructors "
            f"see it; {text}." + later)
