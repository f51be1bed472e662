"""The course in JupyterLab: the learner's and the instructor's views, and lessons that reopen working.

Two views of one course folder:

* **learner** (``make lab``): JupyterLab serves a generated folder, ``learner/``
  (gitignored), holding only ``lessons/`` (a link to ``course/lessons``) and
  ``assignments/``, where nbgrader's Assignment List puts fetched assignments and
  their feedback. ``source/``, ``release/``, the gradebook, submissions and other
  learners' feedback are not in it. nbgrader's instructor extensions (Formgrader,
  Create Assignment, Course List) and the notebook toolbar's Validate button (which
  told a lesson "Success! Your notebook passes all the tests") are off; an
  assignment is still validated from the Assignment List.
* **instructor** (``make instructor``): JupyterLab on the course folder with every
  nbgrader extension.

Both use :func:`pre_save_hook`: a lesson is saved without outputs, execution
counts or widget state, and with the notebook and cell metadata it was shipped
with, so JupyterLab's autosave can never leave a lesson that reopens with "Error
displaying widget: model not found" or a clone whose tracked files have changed.

The Jupyter configuration for each view is package data in ``clientcare/jupyter/``:
``<view>/jupyter_server_config.py``, ``<view>/labconfig/page_config.json`` and,
for learners, ``learner/nbgrader_config.py``. Run ``python -m clientcare.lab learner``
(or ``instructor``) from the course folder; extra arguments go to ``jupyter lab``.

Every lesson shares one format (:func:`tidy_lesson`): the same first instruction (Run All),
numbered sections, code cells folded away. ``python -m clientcare.lab tidy`` rewrites the
lessons in it after they are edited.
"""
from __future__ import annotations

import copy
import json
import os
import re
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from .catalogue import COURSE_DIR_VARIABLE, course_root, lessons_dir

VIEWS = ("learner", "instructor")
LEARNER_FOLDER = "learner"          # the learner's workspace, inside the course folder (gitignored)
ASSIGNMENTS_FOLDER = "assignments"  # fetched assignments and their feedback, inside the workspace
FIRST_LESSON = "01-responsibility-to-clients.ipynb"
#: Extra folders whose notebooks are lessons (os.pathsep-separated); course/lessons always is.
LESSONS_VARIABLE = "CLIENTCARE_LESSONS"

# True while the learner's nbgrader_config.py reads the course's own (which reads the config path again).
loading_course_config = False

# Cell metadata a learner's JupyterLab changes while they read (collapsing, scrolling,
# timing); on a lesson these never reach the disk.
_VIEW_STATE_KEYS = ("collapsed", "scrolled", "execution", "trusted", "jupyter")


def lessons_dirs() -> list[Path]:
    """The folders whose notebooks are lessons: course/lessons of the course (:func:`catalogue.course_root`:
    the launcher's course folder, else the nearest course folder at or above the current directory),
    and any in CLIENTCARE_LESSONS."""
    folders = [lessons_dir()]
    folders += [Path(p) for p in os.environ.get(LESSONS_VARIABLE, "").split(os.pathsep) if p]
    return [folder.resolve() for folder in folders]


def is_lesson(os_path: str | Path) -> bool:
    """Is the notebook at ``os_path`` (links followed) one of the course's lessons?"""
    real = Path(os_path).resolve()
    return real.suffix == ".ipynb" and any(real.parent == folder for folder in lessons_dirs())


def _read_notebook(os_path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(os_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def clean_lesson(notebook: dict[str, Any], shipped: dict[str, Any] | None = None) -> dict[str, Any]:
    """The lesson as it is kept on disk: no outputs, execution counts or widget state.

    ``shipped`` is the lesson as it is on disk now (None for a new file). Its notebook
    metadata (kernel name, language) and each cell's metadata (e.g. a code cell's
    ``jupyter.source_hidden``) are kept, so reading the lesson changes nothing:
    a learner who expands a code cell or runs it in another kernel saves the lesson
    as it was shipped. Cells the learner added keep their own metadata, less view state.
    """
    notebook = copy.deepcopy(notebook)
    shipped_cells = {}
    if shipped:
        notebook["metadata"] = copy.deepcopy(shipped.get("metadata", {}))
        shipped_cells = {cell.get("id"): cell for cell in shipped.get("cells", []) if cell.get("id")}
    metadata = notebook.setdefault("metadata", {})
    metadata.pop("widgets", None)
    for cell in notebook.get("cells", []):
        before = shipped_cells.get(cell.get("id"))
        if before is not None and before.get("cell_type") == cell.get("cell_type"):
            cell["metadata"] = copy.deepcopy(before.get("metadata", {}))
        else:
            cell["metadata"] = {key: value for key, value in cell.get("metadata", {}).items()
                                if key not in _VIEW_STATE_KEYS}
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return notebook


def pre_save_hook(model: dict[str, Any], path: str, contents_manager: Any, **_kwargs: Any) -> None:
    """Jupyter server ``FileContentsManager.pre_save_hook``: save lessons as shipped (see :func:`clean_lesson`).

    Other notebooks (assignments, the learner's own) are saved untouched.
    """
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    root = Path(getattr(contents_manager, "root_dir", "."))
    os_path = root / path.lstrip("/")
    if not is_lesson(os_path):
        return
    model["content"] = clean_lesson(model["content"], _read_notebook(os_path.resolve()))


# ---------------------------------------------------------------- the lessons' shared format

#: The first instruction of every lesson, word for word (a Markdown cell after the title).
FIRST_INSTRUCTION = (
    "**How to use this lesson.** Choose **Run > Run All Cells** now, and each time you open the "
    "lesson: it brings up every activity below (scenarios, reflections, the quiz, and any flashcards "
    "or calculator). The code cells are folded away because you do not need to read or change them. "
    "Your answers and scores are saved for you as you go."
)


def _is_instruction(cell: dict[str, Any]) -> bool:
    """Is ``cell`` the lesson's first instruction, in this wording or an earlier one ("Run the cell below once")?"""
    text = _text(cell).strip()
    return cell.get("cell_type") == "markdown" and (
        text.startswith("**How to use this lesson.**") or ("Run the cell below" in text and len(text) < 300))
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
_SECTION = re.compile(r"^## +(?:\d+\.\s+)?(?P<title>\S.*)$")


def _text(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _number_sections(text: str, start: int) -> tuple[str, int]:
    """Number the ``## `` headings of a Markdown cell from ``start`` (outside code blocks)."""
    lines, fenced, number = text.split("\n"), False, start
    for i, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        match = None if fenced else _SECTION.match(line)
        if match:
            lines[i] = f"## {number}. {match.group('title')}"
            number += 1
    return "\n".join(lines), number


def tidy_lesson(notebook: dict[str, Any], prefix: str = "cell", *, number_sections: bool = True) -> dict[str, Any]:
    """A lesson in the course's shared format (what ``python -m clientcare.lab tidy`` writes):

    - the first instruction, :data:`FIRST_INSTRUCTION`, right after the title cell;
    - every ``## `` section heading numbered 1, 2, 3 ... in order (not on the progress page);
    - every code cell folded away (``jupyter.source_hidden``), as code is not for learners to read;
    - no outputs, execution counts or widget state; every cell with an id; one kernel spec.
    """
    notebook = clean_lesson(notebook)
    cells = notebook.get("cells", [])
    cells = [cell for index, cell in enumerate(cells) if not (index < 4 and _is_instruction(cell))]
    title_at = next((i for i, cell in enumerate(cells) if cell.get("cell_type") == "markdown"
                     and _text(cell).lstrip().startswith("# ")), -1)
    instruction = {"cell_type": "markdown", "id": f"{prefix}-how-to-use", "metadata": {},
                   "source": FIRST_INSTRUCTION}
    cells.insert(title_at + 1, instruction)
    number, used = 1, set()
    for index, cell in enumerate(cells):
        if not cell.get("id") or cell["id"] in used:
            cell["id"] = f"{prefix}-{index:02d}"
        used.add(cell["id"])
        if cell.get("cell_type") == "markdown" and number_sections:
            text, number = _number_sections(_text(cell), number)
            cell["source"] = text
        elif cell.get("cell_type") == "code":
            cell.setdefault("metadata", {}).setdefault("jupyter", {})["source_hidden"] = True
    notebook["cells"] = cells
    metadata = notebook.setdefault("metadata", {})
    metadata["kernelspec"] = dict(KERNELSPEC)
    metadata["language_info"] = {"name": "python"}
    notebook["nbformat"], notebook["nbformat_minor"] = 4, max(5, notebook.get("nbformat_minor", 5))
    return notebook


def lesson_text(notebook: dict[str, Any]) -> str:
    """The lesson as Jupyter writes it to disk (so saving an unchanged lesson changes no byte)."""
    import nbformat

    return nbformat.writes(nbformat.from_dict(notebook)) + "\n"


def tidy_lessons(folder: Path) -> list[Path]:
    """Rewrite every lesson in ``folder`` in the shared format; returns the files changed."""
    changed = []
    for path in sorted(Path(folder).glob("[0-9][0-9]-*.ipynb")):
        before = path.read_text(encoding="utf-8")
        after = lesson_text(tidy_lesson(json.loads(before), prefix=f"l{path.name[:2]}",
                                        number_sections=path.name[:2] != "00"))
        if after != before:
            path.write_text(after, encoding="utf-8")
            changed.append(path)
    return changed


# ---------------------------------------------------------------- the two views


def config_dir(view: str) -> Path:
    """The Jupyter configuration folder of ``view`` (package data: clientcare/jupyter/<view>)."""
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}: choose one of {', '.join(VIEWS)}")
    return Path(str(resources.files("clientcare") / "jupyter" / view))


def learner_workspace(course_dir: Path) -> Path:
    """Create (or repair) ``learner/`` in the course folder: ``lessons`` linking to the lessons, and
    ``assignments/`` for fetched assignments and feedback. Returns the workspace folder."""
    course_dir = Path(course_dir).resolve()
    workspace = course_dir / LEARNER_FOLDER
    (workspace / ASSIGNMENTS_FOLDER).mkdir(parents=True, exist_ok=True)
    lessons = workspace / "lessons"
    target = os.path.relpath(course_dir / "course" / "lessons", workspace)
    if lessons.is_symlink() and os.readlink(lessons) != target:
        lessons.unlink()
    if not lessons.is_symlink():
        if lessons.exists():
            raise FileExistsError(f"{lessons} exists and is not the link to the lessons; move it away")
        lessons.symlink_to(target, target_is_directory=True)
    return workspace


def lab_environment(view: str, course_dir: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for ``jupyter lab`` in ``view``: the view's configuration comes first on
    JUPYTER_CONFIG_PATH, and the course folder is named for the configuration files."""
    env = dict(os.environ if env is None else env)
    paths = [str(config_dir(view))] + [p for p in env.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if p]
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(paths)
    env[COURSE_DIR_VARIABLE] = str(Path(course_dir).resolve())
    return env


def lab_command(view: str, course_dir: Path, extra: list[str] | None = None) -> tuple[list[str], Path]:
    """The ``jupyter lab`` command line for ``view`` and the folder to run it in (its root)."""
    course_dir = Path(course_dir).resolve()
    root = learner_workspace(course_dir) if view == "learner" else course_dir
    command = [str(Path(sys.executable).with_name("jupyter")), "lab", f"--ServerApp.root_dir={root}"]
    if hasattr(os, "getuid") and os.getuid() == 0:
        command.append("--allow-root")
    return command + list(extra or []), root


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["tidy"]:
        folder = Path(argv[1]) if len(argv) > 1 else lessons_dir()
        for path in tidy_lessons(folder):
            print(f"tidied {path}")
        return 0
    if not argv or argv[0] not in VIEWS:
        print(f"usage: python -m clientcare.lab {{{'|'.join(VIEWS)}}} [jupyter lab arguments]\n"
              "       python -m clientcare.lab tidy [lessons folder]", file=sys.stderr)
        return 2
    view, extra = argv[0], argv[1:]
    course_dir = course_root()
    if not (course_dir / "nbgrader_config.py").exists():
        print(f"{course_dir} is not the course folder (no nbgrader_config.py); run from it", file=sys.stderr)
        return 2
    command, root = lab_command(view, course_dir, extra)
    if view == "learner" and not any(not arg.startswith("-") for arg in extra):
        command.append(f"lessons/{FIRST_LESSON}")
    os.chdir(root)  # nbgrader's Assignment List reads its configuration relative to the server's folder
    os.execve(command[0], command, lab_environment(view, course_dir))
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
