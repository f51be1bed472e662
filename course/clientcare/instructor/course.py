"""A course directory and the nbgrader commands run in it.

A course is a folder holding ``nbgrader_config.py`` and ``source/`` (this checkout is
one). Every instructor command takes ``--course DIR``, by default the current
directory, as nbgrader does. nbgrader is run as a subprocess in the course directory,
so it reads the configuration exactly as an instructor's own commands would; the same
configuration, read in-process, is :attr:`Course.config` (see :mod:`.config`).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from .config import CONFIG_NAME, course_config, gradebook_url
from .new_gradebook import create_gradebook

# Settings that would point nbgrader at a real cohort's gradebook or exchange.
_REDIRECTING_ENV = ("CLIENTCARE_DB_URL", "CLIENTCARE_EXCHANGE")


def tools_on_path(env: dict) -> dict:
    """``env`` with this environment's bin folder first on PATH: nbgrader runs `alembic` and kernels by name."""
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


class NbgraderError(RuntimeError):
    """An nbgrader command failed; the message includes what it printed."""


@dataclass(frozen=True)
class Course:
    """The course in folder ``root`` (resolved to an absolute path)."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root).resolve())

    @cached_property
    def config(self):
        """The course's nbgrader configuration, resolved as nbgrader resolves it."""
        return course_config(self.root)

    @property
    def db_url(self) -> str:
        """The gradebook URL, from the course's configuration (:func:`.config.gradebook_url`)."""
        return gradebook_url(self.root, self.config)

    def assignments(self) -> list[str]:
        """Assignment names: folders in source/ holding a notebook of the same name."""
        source = self.root / "source"
        return sorted(p.name for p in source.iterdir() if (p / f"{p.name}.ipynb").is_file())

    def nbgrader(self, *args: str, isolated: bool = False, check: bool = True) -> subprocess.CompletedProcess:
        """Run ``nbgrader ARGS`` in the course directory.

        ``isolated`` drops environment settings that could redirect nbgrader to a
        real gradebook or exchange (used for the demo and the tests).
        """
        env = tools_on_path(dict(os.environ))
        if isolated:
            for name in _REDIRECTING_ENV:
                env.pop(name, None)
        result = subprocess.run(
            [sys.executable, "-m", "nbgrader", *args],
            cwd=self.root, env=env, capture_output=True, text=True,
        )
        if check and result.returncode != 0:
            raise NbgraderError(
                f"`nbgrader {' '.join(args)}` failed in {self.root} (exit {result.returncode}):\n"
                + _tail(result.stdout + result.stderr)
            )
        return result


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def make_scratch_course(root: Path, template: Path | str = ".", db_url: str | None = None) -> Course:
    """A fresh course at ``root`` with the source/ and config of the course in ``template`` (default: cwd).

    The scratch course keeps its own gradebook (SQLite in ``root`` unless ``db_url`` names another)
    and exchange inside ``root`` whatever the environment and system configuration say
    (``nbgrader_config.json`` there pins them, and nbgrader reads it after the ``.py``), so demos
    and tests never touch a cohort's gradebook.
    """
    root, template = Path(root).resolve(), Path(template).resolve()
    if not (template / f"{CONFIG_NAME}.py").is_file():
        raise NbgraderError(f"{template} is not a course folder: it has no {CONFIG_NAME}.py")
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    shutil.copytree(template / "source", root / "source", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copy2(template / f"{CONFIG_NAME}.py", root / f"{CONFIG_NAME}.py")
    pinned = {"CourseDirectory": {"db_url": db_url or f"sqlite:///{root / 'gradebook.db'}"},
              "Exchange": {"root": str(root / "exchange")}}
    (root / f"{CONFIG_NAME}.json").write_text(json.dumps(pinned, indent=2) + "\n", encoding="utf-8")
    create_gradebook(pinned["CourseDirectory"]["db_url"])
    return Course(root)
