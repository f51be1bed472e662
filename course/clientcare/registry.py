"""The one table of the course's kinds of activity and of the learner files they keep.

Everything that has to know "which kinds of content are there" reads :data:`KINDS`:
``clientcare check`` (which folders to validate and which ``show_*`` calls in lessons
to resolve), the package's exports (``from clientcare import show_x``), the progress
page (one status function per kind, owned by the activity's module), the learner
files' schema versions, and the test fixtures (the content folders of a scratch
course). Modules are named, not imported, so reading this table stays cheap.

Adding a kind is one row here (and the functions it names, in the activity's module):

    Kind("glossary", activity="Glossary", folder="glossary", noun="glossary",
         module="glossary", loader="load_glossary", show="show_glossary",
         learner_file="glossary", status="glossary_progress"),

* ``folder``: ``content/<folder>/<id>.yaml``; ``loader(id)`` validates one file.
* ``show``: the ``show_*`` function lessons call; its first argument is a file id,
  unless ``shown_ids`` names a function returning the ids it accepts (e.g. reflection
  prompts, which live inside files); ``shown_noun`` names them in error messages.
* ``learner_file``: ``<name>.json`` in the learner's data folder, at ``schema_version``;
  :mod:`.store` stamps the version on every save and upgrades older files on load with
  the functions in ``upgrades`` (``{old version: function(data) -> data}``).
* ``status``: ``function(problems) -> [row, ...]``, each row a mapping with
  ``lesson, id, title, done, status``, for the progress page (``problems`` collects
  content files that could not be read). Rows are ordered by lesson, then by the
  order of :data:`KINDS`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from typing import Any, Callable, Mapping


@dataclass(frozen=True)
class Kind:
    name: str                               # short identifier, e.g. "scenario"
    activity: str                           # label on the progress page, e.g. "Scenario"
    module: str                             # clientcare.<module> holds everything named below
    folder: str | None = None               # content/<folder>/*.yaml, if the kind has content files
    noun: str | None = None                 # one file of the folder, in messages ("no such scenario")
    loader: str | None = None               # function(file id) -> the validated content
    show: str | None = None                 # the show_* function for lessons
    shown_ids: str | None = None            # function() -> ids show_* accepts (default: the folder's file ids)
    shown_noun: str | None = None           # what show_*'s argument names, in messages (default: noun)
    learner_file: str | None = None         # <name>.json in the learner's data folder
    schema_version: int = 1                 # current layout of that file
    upgrades: Mapping[int, str | Callable[[dict], dict]] = field(default_factory=dict)  # old version -> upgrade (name in module)
    status: str | None = None               # function(problems) -> progress rows

    def function(self, attribute: str) -> Callable[..., Any]:
        """The function named by ``attribute`` (e.g. ``"loader"``), imported from the kind's module."""
        name = getattr(self, attribute)
        if not name:
            raise AttributeError(f"kind {self.name!r} has no {attribute}")
        return getattr(import_module(f".{self.module}", __package__), name)


KINDS: tuple[Kind, ...] = (
    Kind("scenario", "Scenario", "scenario", folder="scenarios", noun="scenario", loader="load_scenario",
         show="show_scenario", learner_file="scenarios", status="scenario_progress"),
    Kind("quiz", "Quiz", "quiz", folder="quizzes", noun="quiz", loader="load_quiz",
         show="show_quiz", learner_file="quiz", status="quiz_progress"),
    Kind("reflection", "Reflection", "reflection", folder="reflections", noun="reflection set",
         loader="load_reflection_set", show="show_reflection", shown_ids="all_reflections",
         shown_noun="reflection prompt", learner_file="journal", status="reflection_progress"),
    Kind("flashcards", "Flashcards", "flashcards", folder="flashcards", noun="flashcard deck",
         loader="load_flashcards", show="show_flashcards", learner_file="flashcards", status="flashcards_progress",
         schema_version=2, upgrades={1: "upgrade_known_marks"}),
    Kind("review", "Revision", "flashcards", show="show_review"),
    Kind("interview", "Interview practice", "interview", folder="interviews", noun="interview question bank",
         loader="load_interview", show="show_interview", learner_file="interviews", status="interviews_progress"),
    Kind("final-test", "Final test", "quiz", show="show_final_test", status="final_test_progress"),
    Kind("fee-calculator", "Fee calculator", "fee_calculator", show="show_fee_calculator"),
    Kind("progress", "Progress", "progress", show="show_progress"),
    Kind("cpd", "CPD record", "cpd", learner_file="practice"),
    # Learner files that belong to no single kind.
    Kind("attempts", "Attempts", "order", learner_file="attempts"),
    Kind("statements", "Learning records", "xapi", learner_file="statements"),  # xAPI statements, pending sends
)


def content_kinds() -> tuple[Kind, ...]:
    """The kinds with a folder of content files, in table order."""
    return tuple(kind for kind in KINDS if kind.folder)


def by_folder(folder: str) -> Kind:
    for kind in KINDS:
        if kind.folder == folder:
            return kind
    raise KeyError(f"no kind of content keeps its files in content/{folder}/")


def exports() -> dict[str, str]:
    """``show_*`` name -> module, for ``from clientcare import show_x``."""
    return {kind.show: kind.module for kind in KINDS if kind.show}


def learner_file_kind(name: str) -> Kind | None:
    """The kind whose learner file is ``<name>.json`` (None for files no kind declares)."""
    return next((kind for kind in KINDS if kind.learner_file == name), None)


def progress_row(lesson: Any, item_id: str, title: Any, done: bool, status: str) -> dict[str, Any]:
    """One row of the progress page, as a status function returns it (``lesson`` None: course-wide)."""
    lesson = lesson if isinstance(lesson, int) and not isinstance(lesson, bool) else None
    title = title.strip() if isinstance(title, str) and title.strip() else item_id
    return {"lesson": lesson, "id": item_id, "title": title, "done": bool(done), "status": status}
