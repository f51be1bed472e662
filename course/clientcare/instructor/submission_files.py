"""Learner files are data: make a submitted folder gradable before nbgrader sees it.

``preflight`` (run by ``clientcare grade``, and by stock ``nbgrader autograde``
through ``autograde_pre_convert_hook``) leaves in ``submitted/<student>/<assignment>``
only what the release defines, as plain regular files, and names everything it
changed in notes (for the learner's feedback and the instructor's log):

* Every entry is looked at with ``lstat`` and opened with ``O_NOFOLLOW``, never
  through a link: symbolic links (to the course's source, a classmate's folder,
  ``/etc``), hard links (a file with more than one name may be someone else's),
  fifos, devices and sockets are not data. They are set aside, unread.
* Only the release's own files are kept: a shipped ``pandas.py``, a package
  named like one the tests import, or a stray file never reaches the grading
  kernel. A release file that is missing, changed, too large or of the wrong
  kind (a folder where a file is expected) is replaced by the release's copy.
* A notebook that is missing, renamed, empty, too large, too deeply nested, not
  valid JSON or not a notebook is repaired or replaced by the blank release.
* Set-aside originals go to a grader-owned folder outside ``submitted/``
  (``set_aside_folder``: ``<course>/set-aside/<student>/<assignment>``), moved
  by ``rename`` (links move as links), never lost and never graded.
* A file where the grader expects the submission's folder is set aside too and
  the blank release is graded in its place, with a note.

``unsafe_student_id`` says why a student id (a folder name in ``submitted/``)
cannot be graded safely: nbgrader puts ids into glob patterns and paths, so an
id with ``*`` would grade classmates, one with a newline is never found.
Such ids are refused by name, never globbed.
"""
from __future__ import annotations

import codecs
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import stat
import time
from pathlib import Path

import nbformat

SET_ASIDE = "set-aside"
NBGRADER_TIMESTAMP = "timestamp.txt"  # written by nbgrader submit/collect
# nbgrader's own small files in a submission: when it was submitted (late penalties) and the secret
# release_feedback names the learner's feedback by (without it no feedback reaches the learner).
NBGRADER_FILES = (NBGRADER_TIMESTAMP, "submission_secret.txt")
MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_METADATA_DEPTH = 32  # nesting kept in a notebook's or a cell's metadata (nbformat and nbgrader recurse)
# Notes preflight writes into a notebook are signed with a key that lives only in this grading process and
# the processes it starts (the environment passed to learner kernels is an allowlist without it), so notes
# a learner writes into their notebook are never shown as the grader's (``signed_notes``).
_NOTES_KEY = os.environ.setdefault("CLIENTCARE_NOTES_KEY", secrets.token_hex(32)).encode()


def sign_notes(notes: list[str]) -> dict:
    """``notes`` as preflight stores them in a notebook's metadata, with this process's signature."""
    text = json.dumps([str(n) for n in notes], ensure_ascii=True)
    return {"notes": json.loads(text), "signature": hmac.new(_NOTES_KEY, text.encode(), hashlib.sha256).hexdigest()}


def signed_notes(stored) -> list[str]:
    """The notes in ``stored`` (metadata ``clientcare.preflight``) if this process signed them, else []."""
    if not isinstance(stored, dict) or not isinstance(stored.get("notes"), list):
        return []
    notes = stored["notes"]
    if not all(type(n) is str for n in notes) or type(stored.get("signature")) is not str:
        return []
    text = json.dumps(notes, ensure_ascii=True)
    expected = hmac.new(_NOTES_KEY, text.encode(), hashlib.sha256).hexdigest()
    return list(notes) if hmac.compare_digest(expected, stored["signature"]) else []


# ---------------------------------------------------------------- student ids


def unsafe_student_id(student: str) -> str:
    """Why ``student`` cannot be graded safely ("" when it can): shown to the instructor by name.

    Real names are fine (``zoë o'brien-smith``); what nbgrader would misread is not:
    glob wildcards, path separators and ``..``, control characters, a leading
    dot or dash, spaces at either end.
    """
    if not student:
        return "it is empty"
    if not student.isprintable():
        return "it contains a control character such as a newline"
    if set(student) & set("*?[]"):
        return "it contains a wildcard character (* ? [ ]), which nbgrader would expand to other learners"
    if "/" in student or "\\" in student or ".." in student:
        return "it contains a path separator or '..'"
    if student.startswith((".", "-")):
        return "it starts with a dot or a dash"
    if student != student.strip():
        return "it starts or ends with a space"
    if len(student) > 100:
        return "it is longer than 100 characters"
    return ""


# ---------------------------------------------------------------- reading files without following links


def set_aside_folder(root: Path, student: str, assignment: str) -> Path:
    """Where originals the grader did not grade are kept: outside submitted/, owned by the grader."""
    return Path(root) / SET_ASIDE / student / assignment


def _kind(info: os.stat_result) -> str:
    """What a file is, for notes: '' for a plain regular file."""
    mode = info.st_mode
    if stat.S_ISLNK(mode):
        return "a link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if not stat.S_ISREG(mode):
        return "not a regular file"
    if info.st_nlink > 1:
        return "a hard link (a file with more than one name)"
    return ""


def _read_regular(path: Path, limit: int) -> bytes:
    """The bytes of ``path`` if it is a plain regular file of at most ``limit`` bytes (never through a link)."""
    kind = _kind(os.lstat(path))
    if kind:
        raise OSError(f"it is {kind}")
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        kind = _kind(info)
        if kind:
            raise OSError(f"it is {kind}")
        if info.st_size > limit:
            raise OSError(f"it is larger than the {limit // (1024 * 1024)} MB limit")
        with os.fdopen(fd, "rb", closefd=False) as stream:
            return stream.read(limit + 1)[:limit]
    finally:
        os.close(fd)


def _unreadable_reason(path: Path) -> str:
    """Why ``path`` is not a usable notebook, or "" if it is one."""
    try:
        data = _read_regular(path, MAX_NOTEBOOK_BYTES)
    except OSError as error:
        return str(error) if str(error).startswith("it is") else f"it could not be read ({error.strerror or error})"
    try:
        text, _ = notebook_text(data)
    except UnicodeDecodeError as error:
        return f"it could not be read ({error})"
    if not text.strip():
        return "it is empty"
    try:
        json.loads(text)
    except RecursionError:
        return "it is nested too deeply to read"
    except json.JSONDecodeError as error:
        return f"it is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
    try:
        notebook = nbformat.reads(text, as_version=4)
    except RecursionError:
        return "it is nested too deeply to read"
    except Exception as error:  # nbformat raises several kinds for non-notebooks
        return f"it is not a Jupyter notebook ({str(error)[:200]})"
    if not isinstance(notebook.get("cells"), list):
        return "it has no list of cells"
    return ""


def _release_files(release: Path) -> dict[str, Path]:
    """The release's own files (relative path -> file), notebooks included."""
    files = {}
    for folder, _, names in os.walk(release):
        for name in names:
            path = Path(folder) / name
            relative = path.relative_to(release).as_posix()
            if ".ipynb_checkpoints" not in relative and "__pycache__" not in relative:
                files[relative] = path
    return files


class _SetAside:
    """Moves entries out of the submission into the grader's set-aside folder, keeping their relative names."""

    def __init__(self, submission: Path, folder: Path):
        self.submission, self.folder, self.moved = submission, folder, []

    def __call__(self, path: Path) -> str:
        relative = path.relative_to(self.submission) if path != self.submission else Path(path.name)
        target = self.folder / relative
        if os.path.lexists(target):  # an earlier run set aside something of that name: keep both
            target = target.with_name(f"{target.name}.{time.strftime('%Y%m%d-%H%M%S')}-{len(self.moved)}")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(path, target)  # moves a link as a link, a fifo as a fifo
        except OSError:  # another file system: copy the entry itself, never what a link points to
            if path.is_symlink() or not path.is_dir():
                if stat.S_ISREG(os.lstat(path).st_mode):
                    shutil.copy2(path, target, follow_symlinks=False)
                else:
                    os.symlink(os.readlink(path), target) if path.is_symlink() else None
                os.unlink(path)
            else:
                shutil.copytree(path, target, symlinks=True)
                shutil.rmtree(path)
        self.moved.append(target)
        return f"{SET_ASIDE}/{target.relative_to(self.folder.parent.parent).as_posix()}"


# ---------------------------------------------------------------- preflight


def preflight(submission: Path, release: Path, set_aside: Path | None = None) -> list[str]:
    """Make ``submission`` (submitted/<student>/<assignment>) gradable; returns notes on what was done.

    ``set_aside`` is where originals go (default: ``set_aside_folder`` of the
    course the submission is in). Each note about a notebook is also written
    into that notebook's metadata, so that the learner's feedback shows it.
    """
    submission, release = Path(submission), Path(release)
    if set_aside is None:
        student_folder = submission.parent          # <course>/submitted/<student>/<assignment>
        course = student_folder.parent.parent
        set_aside = set_aside_folder(course, student_folder.name, submission.name)
    keep_aside = _SetAside(submission, set_aside)
    notes: list[str] = []

    if os.path.lexists(submission) and not stat.S_ISDIR(os.lstat(submission).st_mode):
        kind = _kind(os.lstat(submission)) or "a file"
        where = keep_aside(submission)
        notes.append(f"The submission was {kind} instead of a folder; it was graded as the blank release "
                     f"(0 points) and kept as {where} for the instructor.")
    submission.mkdir(parents=True, exist_ok=True)

    expected = _release_files(release)
    notebooks = sorted(name for name in expected if name.endswith(".ipynb"))

    # 1. everything that is not a plain regular file of the release, or sits where a release file should be
    strays: list[str] = []  # learner notebooks under other names: perhaps a renamed notebook
    handled: set[str] = set()  # notebooks already replaced because of what they were
    for folder, folders, names in os.walk(submission, topdown=True):
        for name in sorted(folders + names):
            path = Path(folder) / name
            relative = path.relative_to(submission).as_posix()
            info = os.lstat(path)
            kind = _kind(info)
            is_folder = stat.S_ISDIR(info.st_mode)
            wanted_folder = any(f.startswith(relative + "/") for f in expected)
            if is_folder and wanted_folder:
                continue  # walked into next
            if name in folders:
                folders.remove(name)  # never walk into a link or a folder we set aside
            if relative in expected and not kind:
                continue
            if relative in NBGRADER_FILES and not kind and info.st_size <= 1024:
                continue  # nbgrader's own records (see NBGRADER_FILES)
            if relative in notebooks:
                where = keep_aside(path)
                shutil.copyfile(expected[relative], path)
                handled.add(relative)
                notes.append(f"The submitted '{relative}' could not be graded because it is {kind or 'a file'}. It "
                             f"was graded as the blank release (0 points); it is kept as {where} for the instructor.")
            elif relative in expected or wanted_folder:
                where = keep_aside(path)
                notes.append(f"'{relative}' was {kind or 'a file'} where the release has "
                             f"{'a file' if relative in expected else 'a folder'}; it was set aside "
                             f"(kept as {where}) and the release's copy was used.")
            elif name.endswith(".ipynb") and not kind and folder == str(submission):
                strays.append(name)
            else:
                where = keep_aside(path)
                what = f"{kind}, not a file of this assignment" if kind else "not a file of this assignment"
                notes.append(f"'{relative}' is {what}; it was not graded (kept as {where} for the instructor).")

    # 2. notebooks: missing, renamed or unreadable (after repairing what can be repaired)
    for name in [n for n in notebooks if n not in handled] + strays:
        notes += [f"In '{name}': {repair}" for repair in _repair_file(submission / name)
                  if (submission / name).exists()]
    for name in [n for n in notebooks if n not in handled]:
        target = submission / name
        candidates = [n for n in strays if not _unreadable_reason(submission / n)]
        if len(candidates) > 1:  # a copy beside a scratch notebook: the one holding this assignment's answers
            candidates = [n for n in candidates if _answer_ids(submission / n) & _answer_ids(expected[name])]
        if not target.exists() and len(candidates) == 1:
            stray = candidates[0]
            strays.remove(stray)
            shutil.copyfile(submission / stray, target)
            keep_aside(submission / stray)
            notes.append(f"The notebook was submitted as '{stray}' instead of '{name}'; it was graded as '{name}'.")
            continue
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(expected[name], target)
            notes.append(f"No notebook '{name}' was submitted, so it was graded as the blank release (0 points).")
            continue
        reason = _unreadable_reason(target)
        if reason:
            where = keep_aside(target)
            shutil.copyfile(expected[name], target)
            notes.append(f"The submitted '{name}' could not be graded because {reason}. It was graded as the blank "
                         f"release (0 points); the file submitted is kept as {where} for the instructor.")
    for stray in strays:
        where = keep_aside(submission / stray)
        notes.append(f"'{stray}' is not a notebook of this assignment; it was not graded (kept as {where}).")

    # 3. the release's other files (data): the release's copy unless the learner's is the same
    for relative, original in sorted(expected.items()):
        if relative.endswith(".ipynb"):
            continue
        target = submission / relative
        if target.exists():
            try:
                same = _read_regular(target, MAX_FILE_BYTES) == original.read_bytes()
            except OSError:
                same = False
            if same:
                continue
            where = keep_aside(target)
            notes.append(f"'{relative}' differed from the release's file; the release's copy was used "
                         f"(yours is kept as {where}).")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(original, target)

    notes = _summarised(notes)
    for name in notebooks:
        mine = [note for note in notes if f"'{name}'" in note or note.startswith("The submission was")]
        notebook = nbformat.read(submission / name, as_version=4)
        if mine or "clientcare" in notebook.metadata:
            stored = notebook.metadata.pop("clientcare", None)  # nothing the learner wrote there is the grader's
            # notes of an earlier preflight of this grading run (clientcare grade, then nbgrader's hook) stay
            earlier = signed_notes(stored.get("preflight")) if isinstance(stored, dict) else []
            mine = list(dict.fromkeys(earlier + mine))
            if mine:
                notebook.metadata["clientcare"] = {"preflight": sign_notes(mine)}
            nbformat.write(notebook, submission / name)
    return notes


_BOMS = ((codecs.BOM_UTF32_LE, "utf-32", "UTF-32"), (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
         (codecs.BOM_UTF8, "utf-8-sig", "UTF-8 with a byte order mark"),
         (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"), (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"))
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _as_latin1(error: UnicodeDecodeError):
    """Decoding error handler: bytes that are not UTF-8 read as Latin-1 (what an older editor wrote)."""
    return error.object[error.start:error.end].decode("latin-1"), error.end


codecs.register_error("clientcare-latin-1", _as_latin1)


def notebook_text(data: bytes) -> tuple[str, str]:
    """The text of a notebook file and how it had to be read ("" when it is plain UTF-8, as Jupyter writes).

    A byte order mark (UTF-8, UTF-16, UTF-32: Windows editors, PowerShell's ``>``) or UTF-16 without one
    is read as what it says; bytes that are not UTF-8 in an otherwise UTF-8 file (a comment typed in an
    older editor) are read as Latin-1, so ``Zo\xeb`` stays ``Zoë``. Raises ``UnicodeDecodeError`` only for
    a file that says it is UTF-16 or UTF-32 and is not.
    """
    for bom, encoding, name in _BOMS:
        if data.startswith(bom):
            how = ("it was saved with a byte order mark (as some Windows editors save)" if bom == codecs.BOM_UTF8
                   else f"it was saved as {name} text, not UTF-8 as Jupyter saves notebooks")
            return data.decode(encoding), how
    if len(data) >= 2 and (data[0] == 0) != (data[1] == 0):  # "{" then NUL, or NUL then "{": UTF-16 without a mark
        return data.decode("utf-16-le" if data[1] == 0 else "utf-16-be"), \
            "it was saved as UTF-16 text, not UTF-8 as Jupyter saves notebooks"
    try:
        return data.decode("utf-8"), ""
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="clientcare-latin-1")
        odd = sorted({c for c in text if 0x80 <= ord(c) <= 0xff and c.encode("latin-1") in data
                      and c.encode("utf-8") not in data})
        return text, (f"some of its bytes were not UTF-8 (typed in another encoding?); they were read as Latin-1 "
                      f"({''.join(odd)[:20]})" if odd else "some of its bytes were not UTF-8; they were read as Latin-1")


def _without_lone_surrogates(data) -> int:
    """Replace, in place, every half of a character (a lone surrogate, from a JSON escape such as \\udc80) in
    the notebook's strings by U+FFFD; returns how many strings had one. Never recurses."""
    fixed, stack = 0, [data]
    while stack:
        item = stack.pop()
        pairs = list(item.items()) if isinstance(item, dict) else list(enumerate(item)) if isinstance(item, list) else []
        for key, value in pairs:
            if isinstance(value, str) and _LONE_SURROGATE.search(value):
                item[key] = _LONE_SURROGATE.sub("\ufffd", value)
                fixed += 1
            elif isinstance(value, (dict, list)):
                stack.append(value)
            if isinstance(key, str) and _LONE_SURROGATE.search(key):
                item[_LONE_SURROGATE.sub("\ufffd", key)] = item.pop(key)
                fixed += 1
    return fixed


def _answer_ids(path: Path) -> set[str]:
    """The grade ids of a notebook's answer cells (empty if it cannot be read)."""
    try:
        data = json.loads(notebook_text(_read_regular(path, MAX_NOTEBOOK_BYTES))[0])
        return {c["metadata"]["nbgrader"]["grade_id"] for c in data.get("cells", [])
                if isinstance(c, dict) and isinstance(c.get("metadata"), dict)
                and isinstance(c["metadata"].get("nbgrader"), dict) and c["metadata"]["nbgrader"].get("solution")
                and isinstance(c["metadata"]["nbgrader"].get("grade_id"), str)}
    except (OSError, ValueError, RecursionError, AttributeError, KeyError, TypeError):
        return set()


def _repair_file(path: Path) -> list[str]:
    """``repair_notebook`` on the notebook file at ``path`` (rewritten as UTF-8 if repaired); returns the repairs."""
    try:
        text, how = notebook_text(_read_regular(path, MAX_NOTEBOOK_BYTES))
        data = json.loads(text)
    except (OSError, ValueError, RecursionError):
        return []  # not readable as it is: _unreadable_reason says why
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return [how] if how else []
    repairs = ([how + "; it was graded as it reads"] if how else []) + repair_notebook(data)
    halves = _without_lone_surrogates(data)
    if halves:
        repairs.append(f"{halves} of its texts held half of a character (a lone surrogate, which cannot be saved "
                       "as text); each was replaced by \ufffd")
    if repairs:
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return repairs


def _depth(value, most: int) -> int:
    """How deeply ``value`` nests (lists and dicts), counting at most to ``most + 1``; never recurses."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > most:
            return deepest
        if isinstance(item, dict):
            stack += [(v, depth + 1) for v in item.values()]
        elif isinstance(item, list):
            stack += [(v, depth + 1) for v in item]
    return deepest


def repair_notebook(notebook) -> list[str]:
    """Make a notebook's cells text and its metadata shallow enough to grade; returns what was repaired.

    A cell whose source is not text (a number, an object) is graded as empty; a list of lines is joined
    (as nbformat does). Metadata nested more than ``MAX_METADATA_DEPTH`` deep (nbgrader and nbformat
    recurse into it and would stop the whole notebook) is removed, key by key.
    """
    repairs = []
    for number, cell in enumerate(notebook.get("cells", []), start=1):
        if not isinstance(cell, dict):
            continue  # not a cell at all: nbformat's reading says so
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            cell["source"] = "".join(source)
        elif not isinstance(source, str):
            cell["source"] = ""
            repairs.append(f"cell {number}'s content was not text ({type(source).__name__}); it was graded as "
                           "empty.")
    cells = [c for c in notebook.get("cells", []) if isinstance(c, dict)]
    for owner, where in [(notebook, "the notebook")] + [(c, f"cell {n}") for n, c in enumerate(cells, start=1)]:
        meta = owner.get("metadata")
        if not isinstance(meta, dict):
            owner["metadata"] = {}
            continue
        for key in [k for k, v in meta.items() if _depth(v, MAX_METADATA_DEPTH) > MAX_METADATA_DEPTH]:
            del meta[key]
            repairs.append(f"{where}'s metadata '{str(key)[:40]}' was nested too deeply to grade; it was "
                           "removed (your code was graded as it was).")
    return repairs


def _summarised(notes: list[str], shown: int = 5) -> list[str]:
    """The notes, with more than ``shown`` about files outside the assignment folded into one."""
    strays = [n for n in notes if "not a file of this assignment" in n]
    if len(strays) <= shown:
        return notes
    rest = [n for n in notes if n not in strays[shown:]]
    return rest + [f"... and {len(strays) - shown} more files that are not part of this assignment were not "
                   "graded (kept for the instructor)."]


def autograde_pre_convert_hook(root: str | Path, release_directory: str = "release",
                               submitted_directory: str = "submitted"):
    """A ``c.Autograde.pre_convert_hook`` applying ``preflight`` when stock ``nbgrader autograde`` runs.

    nbgrader calls the hook with the ids it was given (``*`` for every learner)
    and the notebooks it found; the submission folders are taken from those
    notebook paths. The list is updated in place, so a renamed notebook is
    graded under the release's name. An unsafe student id is refused: its
    notebooks are removed from the list and nothing of it is run.
    """
    root = Path(root)

    def hook(assignment: str, student: str, notebooks: list[str]) -> None:
        import logging

        log = logging.getLogger("clientcare")
        folders = sorted({Path(n).parent for n in notebooks})
        kept = []
        for folder in folders:
            student_id, assignment_id = folder.parent.name, folder.name
            reason = unsafe_student_id(student_id)
            if reason or folder.parent.parent != root / submitted_directory:
                log.error("[clientcare] student id %r not graded: %s", student_id, reason or "unexpected folder")
                continue
            for note in preflight(folder, root / release_directory / assignment_id,
                                  set_aside_folder(root, student_id, assignment_id)):
                log.warning("[clientcare] %s", note)
            kept += sorted(str(p) for p in folder.glob("*.ipynb"))
        notebooks[:] = kept

    return hook
