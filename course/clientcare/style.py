"""The look and accessibility of every course widget, in one place.

``static/clientcare.css`` is the one stylesheet (JupyterLab theme variables, so light and
dark themes both work) and ``static/accessibility.js`` adds what ipywidgets' markup cannot
carry (radio groups named by their question, named sliders, ``aria-pressed`` on toggles).
Both are package data, read with :mod:`importlib.resources`. Every view calls
:func:`themed` on its outermost box: it marks the box as a course widget and puts the
stylesheet and the script in it, so a view works wherever and however often it is shown.
"""
from __future__ import annotations

import html
import secrets
from functools import lru_cache
from importlib import resources

import ipywidgets as widgets

ROOT_CLASS = "clientcare"


@lru_cache(maxsize=None)
def asset(name: str) -> str:
    """The text of ``clientcare/static/<name>``."""
    return resources.files("clientcare").joinpath("static", name).read_text(encoding="utf-8")


def stylesheet() -> str:
    return asset("clientcare.css")


def new_id(prefix: str) -> str:
    """A page-unique element id (a view may be shown twice on one page)."""
    return f"cc-{prefix}-{secrets.token_hex(4)}"


def _assets() -> widgets.Widget:
    from IPython.display import Javascript

    style = widgets.HTML(f"<style>{stylesheet()}</style>")
    script = widgets.Output()
    script.append_display_data(Javascript(asset("accessibility.js")))
    box = widgets.Box([style, script], layout=widgets.Layout(display="none"))
    box.add_class("cc-assets")
    return box


def themed(box: widgets.Box, kind: str, *, panel: bool = True) -> widgets.Box:
    """Make ``box`` a course widget of ``kind`` (e.g. "scenario"): classes, stylesheet, script."""
    box.assets = _assets()  # a view that later replaces its children keeps box.assets first
    box.children = (box.assets, *box.children)
    box.add_class(ROOT_CLASS)
    box.add_class(f"clientcare-{kind}")
    if panel:
        box.add_class("cc-panel")
    box.layout.width = "100%"
    box.layout.max_width = "100%"
    return box


def name_group(control: widgets.Widget, label_id: str) -> widgets.Widget:
    """Name ``control`` (radio buttons, a box of tick boxes, a slider) by the element with id ``label_id``."""
    control.add_class(f"cc-name-{label_id}")
    if isinstance(control, (widgets.RadioButtons, widgets.Box)):
        control.add_class("cc-group")
    return control


def heading(text: str, level: int = 3, *, element_id: str | None = None, css: str = "cc-title") -> str:
    """A heading for a widget. Lessons use ``##`` for sections, so a widget's own title is an
    ``<h3>`` and anything under it an ``<h4>``: heading levels never skip."""
    id_attr = f' id="{element_id}"' if element_id else ""
    return f'<h{level} class="{css}"{id_attr}>{html.escape(text)}</h{level}>'
