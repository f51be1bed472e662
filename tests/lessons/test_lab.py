"""The learner's and instructor's JupyterLab (clientcare/lab.py): lessons saved as shipped, the
learner's workspace, and the Jupyter configuration shipped with the package.
(tests/browser checks the same in a real JupyterLab.)"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from clientcare import lab

LESSONS = Path(lab.__file__).resolve().parents[1] / "lessons"
LESSON_FILES = sorted(LESSONS.glob("*.ipynb"))


def run_lesson(notebook: dict) -> dict:
    """The lesson as JupyterLab would save it after Run All: outputs, counts, widget state, view state."""
    ran = copy.deepcopy(notebook)
    ran["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {"abc": {}}}}
    ran["metadata"]["language_info"] = {"name": "python", "version": "3.11.2", "mimetype": "text/x-python"}
    ran["metadata"]["kernelspec"]["display_name"] = "Python 3 (ipykernel)"
    for number, cell in enumerate(ran["cells"], start=1):
        if cell["cell_type"] == "code":
            cell["execution_count"] = number
            cell["outputs"] = [{"output_type": "display_data", "metadata": {},
                                "data": {"application/vnd.jupyter.widget-view+json": {"model_id": "abc"}}}]
            cell["metadata"]["execution"] = {"iopub.status.idle": "2026-12-01T09:00:00Z"}
            cell["metadata"]["jupyter"] = {"source_hidden": False}  # the learner expanded it
    return ran


def test_a_run_lesson_is_saved_exactly_as_shipped():
    shipped = json.loads(LESSON_FILES[1].read_text(encoding="utf-8"))
    assert lab.clean_lesson(run_lesson(shipped), shipped) == shipped


def test_cells_a_learner_adds_keep_their_text_but_no_outputs_or_view_state():
    shipped = json.loads(LESSON_FILES[1].read_text(encoding="utf-8"))
    ran = run_lesson(shipped)
    ran["cells"].append({"cell_type": "code", "id": "my-notes", "execution_count": 9, "source": "1 + 1",
                         "metadata": {"scrolled": True, "tags": ["mine"]},
                         "outputs": [{"output_type": "execute_result", "data": {"text/plain": "2"},
                                      "metadata": {}, "execution_count": 9}]})
    saved = lab.clean_lesson(ran, shipped)
    mine = saved["cells"][-1]
    assert mine["source"] == "1 + 1" and mine["outputs"] == [] and mine["execution_count"] is None
    assert mine["metadata"] == {"tags": ["mine"]}


def test_the_pre_save_hook_cleans_lessons_reached_through_the_learner_workspace(tmp_path, monkeypatch):
    course = tmp_path / "course-copy"
    (course / "course" / "lessons").mkdir(parents=True)
    shipped = json.loads(LESSON_FILES[1].read_text(encoding="utf-8"))
    (course / "course" / "lessons" / "01.ipynb").write_text(json.dumps(shipped))
    (course / "course" / "lessons" / "mine.txt").write_text("not a notebook")
    monkeypatch.setenv(lab.COURSE_DIR_VARIABLE, str(course))
    workspace = lab.learner_workspace(course)
    manager = SimpleNamespace(root_dir=str(workspace))

    model = {"type": "notebook", "content": run_lesson(shipped)}
    lab.pre_save_hook(model, "lessons/01.ipynb", manager)
    assert model["content"] == shipped

    assignment = {"type": "notebook", "content": run_lesson(shipped)}
    (workspace / "assignments" / "fee-proposals").mkdir()
    lab.pre_save_hook(assignment, "assignments/fee-proposals/fee-proposals.ipynb", manager)
    assert assignment["content"]["cells"][2]["outputs"], "an assignment's outputs are the learner's own work"

    text = {"type": "file", "content": "x", "format": "text"}
    lab.pre_save_hook(text, "lessons/mine.txt", manager)
    assert text["content"] == "x"


def test_the_learner_workspace_holds_only_lessons_and_assignments(tmp_path):
    (tmp_path / "course" / "lessons").mkdir(parents=True)
    (tmp_path / "source").mkdir()
    workspace = lab.learner_workspace(tmp_path)
    assert workspace == tmp_path / "learner"
    assert sorted(p.name for p in workspace.iterdir()) == ["assignments", "lessons"]
    assert (workspace / "lessons").resolve() == (tmp_path / "course" / "lessons").resolve()
    assert lab.learner_workspace(tmp_path) == workspace  # again: unchanged
    (workspace / "lessons").unlink()
    (workspace / "lessons").mkdir()
    with pytest.raises(FileExistsError):
        lab.learner_workspace(tmp_path)


def test_the_learner_view_turns_off_the_instructor_tools_and_keeps_the_assignment_list(tmp_path):
    folder = lab.config_dir("learner")
    disabled = json.loads((folder / "labconfig" / "page_config.json").read_text())["disabledExtensions"]
    assert {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
            "@jupyter/nbgrader:course-list", "@jupyter/nbgrader:validate-assignment"} <= set(disabled)
    assert "@jupyter/nbgrader:assignment-list" not in disabled
    config = (folder / "jupyter_server_config.py").read_text()
    assert '"nbgrader.server_extensions.formgrader": False' in config
    assert "clientcare.lab.pre_save_hook" in config
    assert "clientcare.lab.pre_save_hook" in (lab.config_dir("instructor") / "jupyter_server_config.py").read_text()
    env = lab.lab_environment("learner", tmp_path, {"JUPYTER_CONFIG_PATH": "/elsewhere"})
    assert env["JUPYTER_CONFIG_PATH"].split(":") == [str(folder), "/elsewhere"]
    command, root = lab.lab_command("learner", tmp_path)
    assert root == tmp_path.resolve() / "learner" and f"--ServerApp.root_dir={root}" in command
    with pytest.raises(ValueError):
        lab.config_dir("student")
