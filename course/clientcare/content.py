"""Loading course content (YAML data files) with errors that point at the mistake.

Every error names the file, the item and the field, e.g.
``scenarios/late-supplier.yaml: node 'call', choice 2: field 'feedback' is missing``.
The formats are documented in ``content/README.md``.
"""
from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import mistune
import yaml

# Package data, read through importlib.resources (so it is found wherever the package is installed).
CONTENT_DIR = Path(str(resources.files(__package__).joinpath("content")))
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")

T = TypeVar("T")
# libyaml's parser when PyYAML has it (its wheels do): the same safe loading, about ten times faster,
# which matters because the progress page and the CPD record read every content file.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_MARKDOWN = mistune.create_markdown(escape=True)


def markdown_html(text: str) -> str:
    """Content text (Markdown: paragraphs, bold, lists) as HTML; raw HTML in it is shown, not run."""
    return _MARKDOWN(text)


class ContentError(ValueError):
    """A content file is missing, unreadable or breaks a rule of its format."""


def where(path: Path, *parts: str) -> str:
    """Location text for messages: the file relative to the content folder, then the item."""
    try:
        name = path.relative_to(CONTENT_DIR).as_posix()
    except ValueError:
        name = str(path)
    return ": ".join([name, *parts]) if parts else name


def read_yaml(path: Path) -> dict[str, Any]:
    """Parse one YAML file that must hold a mapping."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except FileNotFoundError:
        raise ContentError(f"{where(path)}: file not found") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ContentError(f"{where(path)}: not valid YAML{at}: {getattr(error, 'problem', error)}") from None
    if not isinstance(data, dict):
        raise ContentError(f"{where(path)}: expected a mapping of fields at the top level")
    return data


def require_mapping(raw: Any, at: str) -> dict[str, Any]:
    """``raw`` itself, if it is a mapping of fields; otherwise a ContentError at ``at``."""
    if not isinstance(raw, dict):
        raise ContentError(f"{at}: expected a mapping of fields, got {raw!r}")
    return raw


_TYPE_NAMES = {str: "text", int: "a whole number", bool: "true or false", list: "a list", dict: "a mapping"}


def field(item: dict[str, Any], name: str, kind: type, at: str, *, required: bool = True, default: Any = None) -> Any:
    """Fetch ``item[name]`` checking its type; ``at`` says where the item is."""
    require_mapping(item, at)
    if name not in item or item[name] is None:
        if required:
            raise ContentError(f"{at}: field '{name}' is missing")
        return default
    value = item[name]
    wrong_bool = kind is int and isinstance(value, bool)
    if not isinstance(value, kind) or wrong_bool:
        raise ContentError(f"{at}: field '{name}' must be {_TYPE_NAMES.get(kind, kind.__name__)}, got {value!r}")
    if (kind is str and not value.strip()) or (kind is list and not value):
        raise ContentError(f"{at}: field '{name}' is empty")
    return value.strip() if kind is str else value


def identifier(item: dict[str, Any], name: str, at: str) -> str:
    value = field(item, name, str, at)
    if not ID_PATTERN.match(value):
        raise ContentError(f"{at}: field '{name}' must be lower-case words joined by hyphens, got {value!r}")
    return value


def unique(ids: list[str], what: str, at: str) -> None:
    seen: set[str] = set()
    for item_id in ids:
        if item_id in seen:
            raise ContentError(f"{at}: {what} '{item_id}' is used twice")
        seen.add(item_id)


def check_known_fields(item: dict[str, Any], allowed: set[str], at: str) -> None:
    """Catch typos such as 'feedbak' that would otherwise be ignored silently."""
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise ContentError(f"{at}: unknown field '{unknown[0]}' (expected one of: {', '.join(sorted(allowed))})")


def _noun(folder: str) -> str:
    """What one file of ``content/<folder>/`` is called in messages (from the registry of kinds)."""
    from .registry import by_folder

    try:
        return by_folder(folder).noun or folder
    except KeyError:
        return folder


def file_ids(kind: str) -> list[str]:
    """The ids of every file of one kind, e.g. ``file_ids('scenarios')``."""
    return sorted(path.stem for path in (CONTENT_DIR / kind).glob("*.yaml"))


def load_item(kind: str, item_id: str, parse: Callable[[dict[str, Any], Path], T]) -> T:
    """Read ``content/<kind>/<item_id>.yaml`` and validate it with ``parse``."""
    path = CONTENT_DIR / kind / f"{item_id}.yaml"
    if not path.exists():
        known = ", ".join(file_ids(kind)) or "none"
        raise ContentError(f"{where(path)}: no such {_noun(kind)} '{item_id}' (available: {known})")
    data = read_yaml(path)
    declared = data.get("id")
    if declared != item_id:
        raise ContentError(f"{where(path)}: field 'id' is {declared!r} but must equal the file name {item_id!r}")
    return parse(data, path)


def loaded_items(kind: str, load: Callable[[str], T], problems: list[str]) -> Iterator[tuple[str, T]]:
    """Every file of ``content/<kind>/`` that ``load`` accepts, by id; the errors of the others go to ``problems``."""
    for item_id in file_ids(kind):
        try:
            yield item_id, load(item_id)
        except ContentError as error:
            problems.append(str(error))
