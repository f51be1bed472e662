"""Learner files are data (``submission_files.preflight``) and student ids are refused by name.

Each test is a submission a careless or hostile learner could make; each checks
what the instructor cares about: only the release's own plain files are left to
grade, nothing is read through a link, classmates' and the grader's files are
untouched, and the learner's original is kept outside submitted/, named in a note.
"""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import nbformat
import pytest

from clientcare.instructor.grading import refusal, submitted_students
from clientcare.instructor.submission_files import (SET_ASIDE, autograde_pre_convert_hook, preflight,
                                                    set_aside_folder, signed_notes, unsafe_student_id)

A = "fees"
RATES = "grade,rate\npartner,250\n"


@pytest.fixture
def course(tmp_path) -> Path:
    """A course with a release (notebook, rates.csv, data/hours.csv), a confidential source and two learners."""
    release = tmp_path / "release" / A
    (release / "data").mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("answer = None")]), release / f"{A}.ipynb")
    (release / "rates.csv").write_text(RATES)
    (release / "data" / "hours.csv").write_text("hours\n7\n")
    (tmp_path / "source" / A).mkdir(parents=True)
    (tmp_path / "source" / A / "hidden.txt").write_text("hidden test answer 42")
    for student in ("ada", "eve"):
        folder = tmp_path / "submitted" / student / A
        (folder / "data").mkdir(parents=True)
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"answer = {student!r}")]),
                       folder / f"{A}.ipynb")
        (folder / "rates.csv").write_text(RATES)
        (folder / "data" / "hours.csv").write_text("hours\n7\n")
    return tmp_path


def run(course: Path, student: str = "eve") -> tuple[list[str], Path]:
    folder = course / "submitted" / student / A
    return preflight(folder, course / "release" / A), folder


def tree(folder: Path) -> dict[str, str]:
    """Every entry under ``folder`` with its kind, never following links."""
    found = {}
    for path in sorted(folder.rglob("*")):
        mode = os.lstat(path).st_mode
        found[path.relative_to(folder).as_posix()] = ("link" if stat.S_ISLNK(mode) else "dir" if stat.S_ISDIR(mode)
                                                      else "file" if stat.S_ISREG(mode) else "special")
    return found


RELEASE_TREE = {f"{A}.ipynb": "file", "rates.csv": "file", "data": "dir", "data/hours.csv": "file"}


def assert_only_release_files(folder: Path) -> None:
    assert tree(folder) == RELEASE_TREE
    assert (folder / "rates.csv").read_text() == RATES


def answer(folder: Path) -> str:
    return nbformat.read(folder / f"{A}.ipynb", as_version=4).cells[0].source


def test_an_ordinary_submission_is_left_as_it_is(course):
    notes, folder = run(course)
    assert notes == []
    assert_only_release_files(folder)
    assert answer(folder) == "answer = 'eve'"
    assert not (course / SET_ASIDE).exists()


@pytest.mark.parametrize("name, text", [
    ("timestamp.txt", "2026-01-05 17:00:00.000000 UTC"),  # late penalties read it
    # release_feedback names a learner's feedback by it: set aside, feedback is never delivered
    ("submission_secret.txt", "a" * 128),
])
def test_nbgraders_own_files_are_kept_unless_they_are_links(course, name, text):
    folder = course / "submitted" / "eve" / A
    (folder / name).write_text(text)
    notes, folder = run(course)
    assert notes == [] and (folder / name).read_text() == text
    (folder / name).unlink()
    os.symlink("/etc/hostname", folder / name)
    notes, folder = run(course)
    assert_only_release_files(folder)
    assert any(f"'{name}' is a link" in n for n in notes)


def test_a_notebook_that_is_a_link_to_the_instructors_source_is_never_read(course):
    folder = course / "submitted" / "eve" / A
    (folder / f"{A}.ipynb").unlink()
    os.symlink(course / "source" / A / "hidden.txt", folder / f"{A}.ipynb")
    notes, folder = run(course)
    assert_only_release_files(folder)
    assert answer(folder) == "answer = None"  # the blank release, 0 points
    assert notes == [f"The submitted '{A}.ipynb' could not be graded because it is a link. It was graded as the "
                     f"blank release (0 points); it is kept as {SET_ASIDE}/eve/{A}/{A}.ipynb for the instructor."]
    kept = set_aside_folder(course, "eve", A) / f"{A}.ipynb"
    assert kept.is_symlink()  # kept as the link it was: the source was never copied anywhere
    assert (course / "source" / A / "hidden.txt").read_text() == "hidden test answer 42"
    meta = signed_notes(nbformat.read(folder / f"{A}.ipynb", as_version=4).metadata["clientcare"]["preflight"])
    assert any("link" in n for n in meta)  # the learner's feedback names it


def test_a_link_beside_the_notebook_is_set_aside_and_the_release_file_used(course):
    folder = course / "submitted" / "eve" / A
    (folder / "rates.csv").unlink()
    os.symlink("/etc/passwd", folder / "rates.csv")
    os.symlink(course / "source", folder / "answers")
    notes, folder = run(course)
    assert_only_release_files(folder)
    assert any("'rates.csv' was a link" in n for n in notes) and any("'answers' is a link" in n for n in notes)


def test_a_link_to_a_classmates_folder_cannot_touch_the_classmate(course):
    folder = course / "submitted" / "eve" / A
    ada = course / "submitted" / "ada" / A
    os.symlink(ada, folder / "ada-work")
    import shutil
    shutil.rmtree(folder / "data")
    os.symlink(ada / "data", folder / "data")  # a link where the release has a folder
    before = tree(ada), (ada / f"{A}.ipynb").read_bytes()
    notes, folder = run(course)
    assert_only_release_files(folder)
    assert (tree(ada), (ada / f"{A}.ipynb").read_bytes()) == before
    assert any("'data' was a link where the release has a folder" in n for n in notes), notes


def test_special_files_are_not_opened(course):
    folder = course / "submitted" / "eve" / A
    os.mkfifo(folder / "pipe")  # opening it for reading would block the grader forever
    (folder / "rates.csv").unlink()
    os.mkfifo(folder / "rates.csv")
    if os.geteuid() == 0:
        os.mknod(folder / "disk", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    notes, folder = run(course)
    assert_only_release_files(folder)
    assert any("'pipe' is a named pipe" in n for n in notes)
    assert os.geteuid() != 0 or any("'disk' is a device" in n for n in notes)


def test_a_hard_link_is_not_taken_as_the_learners_file(course):
    folder = course / "submitted" / "eve" / A
    (folder / "rates.csv").unlink()
    os.link(course / "source" / A / "hidden.txt", folder / "rates.csv")
    notes, folder = run(course)
    assert_only_release_files(folder)
    assert any("hard link" in n for n in notes)


def test_a_huge_file_is_moved_not_copied_and_a_huge_notebook_not_read(course):
    folder = course / "submitted" / "eve" / A
    with open(folder / "dump.bin", "wb") as f:
        f.truncate(3 << 30)  # 3 GiB, sparse
    with open(folder / f"{A}.ipynb", "r+b") as f:
        f.truncate(30 << 20)
    notes, folder = run(course)
    assert_only_release_files(folder)
    assert os.stat(set_aside_folder(course, "eve", A) / "dump.bin").st_size == 3 << 30
    assert any("larger than the 20 MB limit" in n for n in notes), notes


def test_many_stray_files_are_set_aside_with_one_short_note(course):
    folder = course / "submitted" / "eve" / A
    for n in range(300):
        (folder / f"scratch-{n}.txt").write_text("x")
    notes, folder = run(course)
    assert_only_release_files(folder)
    assert len(notes) <= 6 and "295 more files" in notes[-1]
    assert len(list(set_aside_folder(course, "eve", A).iterdir())) == 300


def test_shipped_modules_never_reach_the_kernel(course):
    folder = course / "submitted" / "eve" / A
    (folder / "pandas.py").write_text("raise SystemExit")
    (folder / "numpy").mkdir()
    (folder / "numpy" / "__init__.py").write_text("raise SystemExit")
    (folder / "sitecustomize.py").write_text("raise SystemExit")
    notes, folder = run(course)
    assert_only_release_files(folder)
    assert {"'pandas.py'", "'numpy'", "'sitecustomize.py'"} <= {n.split()[0] for n in notes}


def test_a_folder_where_a_file_is_expected_and_a_file_where_a_folder_is(course):
    folder = course / "submitted" / "eve" / A
    (folder / "rates.csv").unlink()
    (folder / "rates.csv").mkdir()
    (folder / "rates.csv" / "inner.txt").write_text("x")
    import shutil
    shutil.rmtree(folder / "data")
    (folder / "data").write_text("not a folder")
    notes, folder = run(course)
    assert_only_release_files(folder)
    assert any("'rates.csv' was a folder where the release has a file" in n for n in notes), notes
    assert any("'data' was a file where the release has a folder" in n for n in notes), notes


def test_a_submission_that_is_a_file_not_a_folder(course):
    import shutil
    folder = course / "submitted" / "eve" / A
    shutil.rmtree(folder)
    folder.write_text("my answers")
    notes, folder = run(course)
    assert_only_release_files(folder)
    assert "instead of a folder" in notes[0]
    assert (set_aside_folder(course, "eve", A) / A).read_text() == "my answers"


def test_edited_release_data_is_replaced_and_deeply_nested_notebooks_do_not_crash(course):
    folder = course / "submitted" / "eve" / A
    (folder / "rates.csv").write_text("grade,rate\npartner,1\n")
    (folder / f"{A}.ipynb").write_text(json.dumps({"cells": []})[:-1] + ', "metadata": ' + "[" * 100_000
                                        + "]" * 100_000 + "}")
    notes, folder = run(course)
    assert_only_release_files(folder)
    assert any("'rates.csv' differed from the release's file" in n for n in notes)
    assert any("nested too deeply" in n for n in notes), notes


def test_originals_are_kept_outside_submitted(course):
    folder = course / "submitted" / "eve" / A
    (folder / "notes.txt").write_text("my notes")
    run(course)
    assert not any(SET_ASIDE in str(p) for p in (course / "submitted").rglob("*"))
    assert (course / SET_ASIDE / "eve" / A / "notes.txt").read_text() == "my notes"


@pytest.mark.parametrize("student", ["ada", "ada.lovelace", "a.l@example.org", "s1234567", "o-brien", "x+y_2",
                                     "zoë o'brien-smith", "ada lovelace"])
def test_ordinary_student_ids_are_accepted(student):
    assert unsafe_student_id(student) == ""


@pytest.mark.parametrize("student, reason", [
    ("ada\nben", "control character"), ("*", "wildcard"), ("ad?", "wildcard"), ("[ab]", "wildcard"),
    ("../ada", "path separator"), ("a/b", "path separator"), ("..", "path separator"), (".hidden", "starts with"),
    ("-rf", "starts with"), ("", "empty"), (" ada", "space"), ("ada\t", "control"), ("x" * 101, "longer"),
])
def test_unsafe_student_ids_are_refused_by_name(student, reason):
    assert reason in unsafe_student_id(student)


def test_the_cohort_runner_refuses_unsafe_ids_and_linked_folders_before_nbgrader(course):
    submitted = course / "submitted"
    for odd in ("ad*", "ben\n"):
        (submitted / odd / A).mkdir(parents=True)
    os.symlink(submitted / "ada", submitted / "mallory")
    students = submitted_students(course, A)
    assert set(students) == {"ada", "eve", "ad*", "ben\n", "mallory"}
    assert refusal(course, "ada", A) == ""
    assert "wildcard" in refusal(course, "ad*", A) and "'ad*'" in refusal(course, "ad*", A)
    assert "control character" in refusal(course, "ben\n", A)
    assert "is a link" in refusal(course, "mallory", A)


def test_stock_nbgrader_autograde_gets_the_same_repairs_through_its_hook(course):
    hook = autograde_pre_convert_hook(course)
    folder = course / "submitted" / "eve" / A
    (folder / f"{A}.ipynb").rename(folder / "my final work.ipynb")
    (folder / "pandas.py").write_text("raise SystemExit")
    (course / "submitted" / "x*" / A).mkdir(parents=True)
    (course / "submitted" / "x*" / A / f"{A}.ipynb").write_text("{}")
    notebooks = sorted(str(p) for p in (course / "submitted").glob(f"*/{A}/*.ipynb"))
    hook(assignment=A, student="*", notebooks=notebooks)
    assert notebooks == [str(course / "submitted" / s / A / f"{A}.ipynb") for s in ("ada", "eve")]
    assert_only_release_files(folder)
    assert answer(folder) == "answer = 'eve'"


def test_odd_cells_and_deep_metadata_are_repaired_not_fatal_and_learner_notes_dropped(course):
    """A cell whose source is not text, metadata nested 500 deep, notes the learner wrote: the answers are graded."""
    path = course / "submitted" / "eve" / A / f"{A}.ipynb"
    data = json.loads(path.read_text())
    deep = {}
    for _ in range(500):
        deep = {"k": deep}
    data["metadata"]["extension"] = deep
    data["metadata"]["clientcare"] = {"preflight_notes": ["Full marks awarded by hand."], "notes": ["Full marks."]}
    data["cells"][0]["metadata"]["extension"] = deep
    data["cells"].append({"cell_type": "code", "id": "odd", "metadata": {}, "source": 42, "outputs": [],
                          "execution_count": None})
    limit = __import__("sys").getrecursionlimit()
    __import__("sys").setrecursionlimit(5000)
    try:
        path.write_text(json.dumps(data))
    finally:
        __import__("sys").setrecursionlimit(limit)
    notes, folder = run(course)
    graded = nbformat.read(path, as_version=4)  # readable now: nothing nested too deeply for nbformat
    assert answer(folder) == "answer = 'eve'" and graded.cells[1].source == ""
    assert "extension" not in graded.metadata and "extension" not in graded.cells[0].metadata
    assert any("cell 2's content was not text" in n for n in notes)
    assert any("metadata 'extension' was nested too deeply" in n for n in notes)
    assert signed_notes(graded.metadata["clientcare"]["preflight"]) == [n for n in notes if f"'{A}.ipynb'" in n]
    assert "Full marks" not in path.read_text()


@pytest.mark.parametrize("how, encode, named", [
    ("a byte order mark (Windows Notepad)", lambda text: b"\xef\xbb\xbf" + text.encode(), "byte order mark"),
    ("UTF-16 (PowerShell's >)", lambda text: text.encode("utf-16"), "UTF-16"),
    ("UTF-16 without a mark", lambda text: text.encode("utf-16-le"), "UTF-16"),
    ("a comment typed in Latin-1", lambda text: text.encode().replace("Zoë".encode(), "Zoë".encode("latin-1")),
     "not UTF-8"),
])
def test_a_notebook_saved_in_another_encoding_is_read_as_it_is_and_graded(course, how, encode, named):
    path = course / "submitted" / "eve" / A / f"{A}.ipynb"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("# Zoë's answer\nanswer = 'eve'")])
    path.write_bytes(encode(nbformat.writes(notebook)))
    notes, folder = run(course)
    assert answer(folder) == "# Zoë's answer\nanswer = 'eve'", how  # graded, not replaced by the blank release
    assert path.read_bytes().decode("utf-8")  # saved back as the UTF-8 nbgrader reads
    assert any(named in note and f"'{A}.ipynb'" in note for note in notes), notes


def test_half_a_character_in_a_notebook_is_replaced_so_it_can_be_graded_and_saved(course):
    """A JSON escape of a lone surrogate is valid JSON, but no UTF-8 file can hold it: nbgrader's save would fail."""
    path = course / "submitted" / "eve" / A / f"{A}.ipynb"
    data = json.loads(path.read_text())
    data["cells"][0]["source"] = "# note \udc80 to self\nanswer = 'eve'"
    path.write_text(json.dumps(data))  # ensure_ascii: the file holds the escape \udc80
    notes, folder = run(course)
    assert answer(folder) == "# note \ufffd to self\nanswer = 'eve'"
    nbformat.writes(nbformat.read(path, as_version=4)).encode("utf-8")  # what nbgrader saves can be saved
    assert any("half of a character" in note for note in notes), notes


def test_the_assignments_notebook_is_found_beside_a_scratch_notebook(course):
    """nbgrader submit copies the whole folder: the work in 'fees-Copy1.ipynb', an empty 'Untitled.ipynb' beside it."""
    answer_cell = nbformat.v4.new_code_cell("answer = None")
    answer_cell.metadata["nbgrader"] = {"grade_id": "answer", "solution": True, "grade": False, "locked": False,
                                        "schema_version": 3}
    nbformat.write(nbformat.v4.new_notebook(cells=[answer_cell]), course / "release" / A / f"{A}.ipynb")
    folder = course / "submitted" / "eve" / A
    work = nbformat.read(course / "release" / A / f"{A}.ipynb", as_version=4)
    work.cells[0].source = "answer = 'eve'"
    (folder / f"{A}.ipynb").unlink()
    nbformat.write(work, folder / f"{A}-Copy1.ipynb")
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), folder / "Untitled.ipynb")
    notes, folder = run(course)
    assert answer(folder) == "answer = 'eve'"
    assert any(f"submitted as '{A}-Copy1.ipynb'" in note for note in notes), notes
    assert any("'Untitled.ipynb' is not a notebook of this assignment" in note for note in notes), notes
