"""Learners' saved answers: small JSON files that are never lost.

Each kind of progress (journal, quiz, flashcards, scenarios) lives in its own
file in the learner's data folder: ``$CLIENTCARE_HOME`` if set, otherwise
``~/.clientcare``. Files are written atomically (a crash in the middle of a save
leaves the previous version intact) and a file that cannot be read is moved aside
with a warning, never silently dropped or overwritten.

Every file carries ``schema_version``: the layout its kind declares in
:mod:`clientcare.registry`. A file without one (written before versions existed) is
version 0, the same layout as version 1. On load an older file is upgraded step by
step through the kind's ``upgrades``; a file from a newer version of the course is set
aside rather than misread. Callers never see the ``schema_version`` key.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator

HOME_ENV = "CLIENTCARE_HOME"
SCHEMA_KEY = "schema_version"  # never a content id: ids are lower-case words joined by hyphens


def schema(name: str) -> tuple[int, dict[int, Callable[[dict[str, Any]], dict[str, Any]]]]:
    """(current version, {old version: upgrade function}) of learner file ``name`` (from the registry)."""
    from importlib import import_module

    from .registry import learner_file_kind

    kind = learner_file_kind(name)
    if kind is None:
        return 1, {}
    module = import_module(f".{kind.module}", __package__)
    upgrades = {version: (getattr(module, step) if isinstance(step, str) else step)
                for version, step in kind.upgrades.items()}
    return kind.schema_version, upgrades


class CorruptFileWarning(UserWarning):
    """A learner's file could not be read and was set aside."""


def data_dir() -> Path:
    """The folder holding this learner's saved answers (created if missing)."""
    folder = Path(os.environ.get(HOME_ENV) or Path.home() / ".clientcare")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old or the new file, never half of one."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


class LearnerFile:
    """One JSON object saved in the learner's data folder, e.g. ``journal.json``."""

    def __init__(self, name: str, folder: Path | None = None):
        self.name = name
        self.folder = Path(folder) if folder else data_dir()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / f"{name}.json"
        self.warning: str | None = None  # set when a corrupt file was set aside

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise read-modify-write between notebooks open at the same time."""
        with open(self.folder / f".{self.path.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def load(self) -> dict[str, Any]:
        """The saved object; ``{}`` if there is none yet or it had to be set aside."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError(f"expected a JSON object, found {type(data).__name__}")
            return self._upgraded(data)
        except ValueError as error:
            self._set_aside(error)
            return {}

    def _upgraded(self, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` brought to the current schema version, without the version key."""
        current, upgrades = schema(self.name)
        version = data.pop(SCHEMA_KEY, 0)
        if not isinstance(version, int) or isinstance(version, bool) or version < 0:
            raise ValueError(f"{SCHEMA_KEY} must be a whole number, found {version!r}")
        if version > current:
            raise ValueError(f"it was written by a newer version of the course ({SCHEMA_KEY} {version}; "
                             f"this one reads up to {current})")
        while version < current:
            data = upgrades.get(version, lambda old: old)(data)  # 0 -> 1: the same layout
            version += 1
        return data

    def _set_aside(self, error: Exception) -> None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        kept = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        os.replace(self.path, kept)
        self.warning = (
            f"Your saved file {self.path} could not be read ({error}). "
            f"It has been kept as {kept} so nothing is lost; a new file has been started."
        )
        warnings.warn(self.warning, CorruptFileWarning, stacklevel=3)

    def save(self, data: dict[str, Any]) -> None:
        """Replace the whole saved object (atomically)."""
        stamped = {**data, SCHEMA_KEY: schema(self.name)[0]}
        atomic_write_text(self.path, json.dumps(stamped, indent=2, ensure_ascii=False, sort_keys=True))

    def update(self, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Load, apply ``change`` to the object in place, save; returns the saved object."""
        with self._locked():
            data = self.load()
            change(data)
            self.save(data)
        return data
