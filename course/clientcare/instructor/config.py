"""A course's nbgrader configuration, resolved as nbgrader resolves it, and its gradebook URL.

nbgrader reads ``jupyter_config`` and then ``nbgrader_config`` (``.py`` and ``.json``)
from every folder of Jupyter's config path (``jupyter --paths``: ``~/.jupyter``, the
environment's ``sys.prefix/etc/jupyter``, ``/usr/local/etc/jupyter``, ``/etc/jupyter``,
and ``$JUPYTER_CONFIG_PATH``), lowest priority first, and the course folder's own
``nbgrader_config`` last. :func:`course_config` does the same, so ``clientcare grade``,
``export`` and ``report`` see exactly the settings ``nbgrader autograde`` sees.

The course's ``nbgrader_config.py`` calls :func:`config_before_course` to find what the
config path already set, and leaves it alone (a cohort's PostgreSQL ``db_url`` and shared
``Exchange.root`` in ``/etc/jupyter/nbgrader_config.py`` win over the laptop defaults).

:func:`gradebook_url` is the one place a gradebook URL comes from. This module imports
only traitlets and jupyter_core: the course's config file imports it on every nbgrader run.
"""
from __future__ import annotations

from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import ConfigFileNotFound, JSONFileConfigLoader, PyFileConfigLoader

CONFIG_NAME = "nbgrader_config"

# A course that declares `c.ClientCare.gradebook = "postgresql"` (in its own file or in a system
# config) but finds no PostgreSQL URL gets this URL instead of SQLite: stock nbgrader then fails
# on it (the .invalid domain never resolves) and clientcare's commands stop with MISSING_URL_HELP.
MISSING_POSTGRESQL_URL = "postgresql://gradebook-url-not-set.invalid/clientcare"
MISSING_URL_HELP = (
    "this course's gradebook is PostgreSQL (ClientCare.gradebook = 'postgresql') but no PostgreSQL URL "
    "is configured: set CLIENTCARE_DB_URL=postgresql://user@host/db, or c.CourseDirectory.db_url in "
    "/etc/jupyter/nbgrader_config.py or ~/.jupyter/nbgrader_config.py (`jupyter --paths` lists the "
    "folders nbgrader reads). Refusing to fall back to a new SQLite gradebook.db."
)


class GradebookError(RuntimeError):
    """The course's gradebook cannot be found as configured."""


def config_search_path() -> list[str]:
    """The folders nbgrader reads configuration from before the course's own, highest priority first.

    The same list as ``jupyter_core.application.JupyterApp.config_file_paths``.
    """
    from jupyter_core.paths import jupyter_config_dir, jupyter_config_path

    paths = jupyter_config_path()
    if jupyter_config_dir() not in paths:
        paths.insert(0, jupyter_config_dir())
    return paths


def _load(name: str, folders: list[str]) -> Config:
    """``name``.py then ``name``.json from each folder, lowest priority (last folder) first, merged."""
    merged = Config()
    for folder in reversed(folders):
        for loader_class in (PyFileConfigLoader, JSONFileConfigLoader):
            suffix = ".py" if loader_class is PyFileConfigLoader else ".json"
            try:
                merged.merge(loader_class(name + suffix, path=folder).load_config())
            except ConfigFileNotFound:
                pass
    return merged


_reading = False  # config_before_course is running (a config file on the path may load the course file)


def config_before_course() -> Config | None:
    """What nbgrader has read before the course's own file: the config path's jupyter and nbgrader configs.

    A file on the config path may itself load the course's file (the learner's JupyterLab view does,
    with ``load_subconfig``); the course file then calls this again while the path is being read.
    That inner call returns None instead of reading the path for ever, and the course file then
    sets none of its defaults, so what this returns holds only what was really set before it.
    """
    global _reading
    if _reading:
        return None
    _reading = True
    try:
        folders = config_search_path()
        config = _load("jupyter_config", folders)
        config.merge(_load(CONFIG_NAME, folders))
        return config
    finally:
        _reading = False


def course_config(root: Path | str = ".") -> Config:
    """The nbgrader configuration of the course in ``root``, read as ``nbgrader`` run there reads it."""
    root = Path(root).resolve()
    if not (root / f"{CONFIG_NAME}.py").is_file() and not (root / f"{CONFIG_NAME}.json").is_file():
        raise GradebookError(f"{root} is not a course folder: it has no {CONFIG_NAME}.py "
                             "(use --course DIR, or run the command in the course folder)")
    config = config_before_course() or Config()
    config.merge(_load(CONFIG_NAME, [str(root)]))
    config.CourseDirectory.root = str(root)  # as nbgrader's --CourseDirectory.root / being run in root
    return config


def gradebook_url(root: Path | str = ".", config: Config | None = None) -> str:
    """The gradebook URL of the course in ``root`` (its resolved configuration unless ``config`` is given).

    nbgrader's own rule decides (``CourseDirectory.db_url``, by default ``sqlite:///<root>/gradebook.db``);
    a course declared PostgreSQL without a PostgreSQL URL raises :class:`GradebookError`.
    """
    from nbgrader.coursedir import CourseDirectory

    root = Path(root).resolve()
    config = course_config(root) if config is None else config
    url = CourseDirectory(config=config, root=str(root)).db_url
    declared = config.ClientCare.get("gradebook", "sqlite") if "ClientCare" in config else "sqlite"
    if declared == "postgresql" and (url == MISSING_POSTGRESQL_URL or not url.startswith("postgresql")):
        raise GradebookError(f"{root}: {MISSING_URL_HELP}")
    return url


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL, or None for any other database."""
    prefix = "sqlite:///"
    return Path(url[len(prefix):]) if url.startswith(prefix) else None


def existing_gradebook(url: str) -> str:
    """``url`` itself, if it names a gradebook that exists: reading must never create an empty SQLite file."""
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        raise GradebookError(
            f"there is no gradebook at {path}: nothing has been graded in this course yet, or its gradebook "
            "is configured elsewhere (CourseDirectory.db_url, CLIENTCARE_DB_URL; see `jupyter --paths`)"
        )
    return url

