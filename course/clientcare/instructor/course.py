"""A course directory and the nbgrader commands run in it.

nbgrader is run as a subprocess in the course directory, so it reads that
directory's ``nbgrader_config.py`` exactly as an instructor's own commands would.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]

# Settings that would point nbgrader at a real cohort's gradebook or exchange.
_REDIRECTING_ENV = ("CLIENTCARE_DB_URL", "CLIENTCARE_EXCHANGE", "CLIENTCARE_COURSE_ROOT")


def tools_on_path(env: dict) -> dict:
    """``env`` with this environment's bin folder first on PATH: nbgrader runs `alembic` and kernels by name."""
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


class NbgraderError(RuntimeError):
    """An nbgrader command failed; the message includes what it printed."""


@dataclass(frozen=True)
class Course:
    root: Path

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.root / 'gradebook.db'}"

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


def make_scratch_course(root: Path, repo: Path = REPO_ROOT) -> Course:
    """A fresh course directory at ``root`` with the repository's source/ and config."""
    root = Path(root)
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    shutil.copytree(repo / "source", root / "source", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copy2(repo / "nbgrader_config.py", root / "nbgrader_config.py")
    return Course(root)
