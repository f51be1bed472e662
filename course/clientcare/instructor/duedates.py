"""The due dates file put to work: in each assignment's introduction and in the gradebook.

``clientcare release`` calls :func:`stamp_introductions` (the "**Due:**" line of each
source notebook's first cell, then generated into ``release/``) and :func:`sync_gradebook`
(nbgrader's own due dates, from which it works out lateness); ``clientcare grade`` syncs
the gradebook before grading.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from ..schedule import Schedule

DUE_LINE = re.compile(r"^\*\*Due:\*\* .*$", re.MULTILINE)


def due_line(schedule: Schedule, assignment: str) -> str:
    return f"**Due:** {schedule.due_text(assignment)}. {schedule.policy.describe()}"


def introduction_with_due_date(text: str, line: str) -> str:
    """``text`` (the introduction's Markdown) with its Due line replaced, or added after its title."""
    if DUE_LINE.search(text):
        return DUE_LINE.sub(lambda _match: line, text, count=1)
    title, _, rest = text.partition("\n")
    return f"{title}\n\n{line}\n" + (f"\n{rest.lstrip(chr(10))}" if rest.strip() else "")


def stamp_introductions(root: Path, schedule: Schedule, assignments: list[str]) -> list[Path]:
    """Write each assignment's due date into its source notebook's introduction; returns the notebooks changed."""
    changed = []
    for name in assignments:
        if name not in schedule.due:
            continue
        path = Path(root) / "source" / name / f"{name}.ipynb"
        notebook = json.loads(path.read_text(encoding="utf-8"))  # as JSON: only the introduction changes
        intro = notebook["cells"][0]
        text = "".join(intro["source"]) if isinstance(intro["source"], list) else intro["source"]
        updated = introduction_with_due_date(text, due_line(schedule, name))
        if updated != text:
            intro["source"] = updated.splitlines(keepends=True)
            path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            changed.append(path)
    return changed


def sync_gradebook(db_url: str, schedule: Schedule, assignments: list[str]) -> None:
    """Set nbgrader's due date of every assignment in the course to the one in the due dates file."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gradebook:
        for name in assignments:
            if name in schedule.due:
                gradebook.update_or_create_assignment(name, duedate=schedule.due_utc(name))
