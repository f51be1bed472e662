"""The exporter of learners' feedback pages (``nbgrader generate_feedback``).

nbgrader's formgrader renders its own pages (manual grading, previews) with ``HTMLExporter`` and
its ``formgrade`` template; configuring ``HTMLExporter`` for the feedback page would change those
too (formgrader's manual grading page then fails to render). So the feedback page has an exporter
class of its own, configured alone: ``c.GenerateFeedback.exporter_class`` names it in
``nbgrader_config.py`` and ``c.FeedbackExporter`` sets its template.

Its ``strip_files_prefix`` filter gives nbconvert's results in linear time: nbconvert's lazy
``\\[(.*?)\\]\\(/?files/...`` regex runs from every ``[`` to the end of its line, so a written answer of
40,000 brackets kept ``generate_feedback`` (for the whole cohort, one learner after another) busy for
minutes.

Its page is finished without ``HTMLExporter``'s BeautifulSoup pass, which parses and writes out the
whole page again (about two-thirds of the time of each learner's page) to add what nbconvert 7.17
adds there: alternative text on images that have none, and ``tabindex`` on the JupyterLab template's
input and output areas (the feedback template, built on nbconvert's classic template, has none of
those areas). Images are given the same alternative text here, in one linear pass.

Code is highlighted (Pygments) and Markdown rendered once per distinct cell in a run, not once per learner:
every learner's page shows the release's own instructions and checks, and those took half the time of a
page. What is remembered is the HTML nbconvert makes of that same text with the same language, magics
language and settings, so each page is exactly the page nbconvert would make; a cell with attachments, or
when images are embedded, is rendered afresh, and so is a cell longer than ``REMEMBERED_CHARS``.
"""
import re
from functools import lru_cache

from jinja2 import pass_context
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.strings import files_url_pattern
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from traitlets import default

# a caption without brackets: each "[" is looked at once (nbconvert's caption is ".*?", any characters)
MARKDOWN_FILES_URL = re.compile(r"(!?)\[(?P<caption>[^\[\]\n]*)\]\(/?files/(?P<location>[^)\n]*)\)")


def strip_files_prefix(text: str) -> str:
    """``nbconvert.filters.strip_files_prefix`` in linear time (captions holding brackets are left as they are)."""
    cleaned = files_url_pattern.sub(r"\1=\2", text)
    if "files/" not in cleaned:
        return cleaned
    return MARKDOWN_FILES_URL.sub(r"\1[\2](\3)", cleaned)


# an <img> tag (no "<" inside it, so each "<img" is looked at up to the next "<": linear) and whether it has alt
IMG_TAG = re.compile(r"<img\b(?P<attributes>[^<>]*)>", re.IGNORECASE)
HAS_ALT = re.compile(r"\salt\s*=", re.IGNORECASE)
MISSING_ALT = "No description has been provided for this image"  # nbconvert's words

REMEMBERED_CHARS = 20_000  # a longer cell is a learner's own, seen once: it is rendered and not kept
REMEMBERED_CELLS = 2_048   # distinct cells kept per run (per kind), the least recently used dropped first


def add_missing_alt(html: str) -> tuple[str, int]:
    """``html`` with ``alt`` on every ``<img>`` tag that has none, as ``HTMLExporter`` adds it; and how many."""
    added = 0

    def with_alt(match):
        nonlocal added
        if HAS_ALT.search(match["attributes"]):
            return match[0]
        added += 1
        attributes = match["attributes"].rstrip()
        closing = "/" if attributes.endswith("/") else ""
        return f'<img{attributes.rstrip("/")} alt="{MISSING_ALT}"{closing}>'

    return IMG_TAG.sub(with_alt, html), added


class FeedbackExporter(HTMLExporter):
    """``HTMLExporter`` for the feedback page only (its own configuration section: ``FeedbackExporter``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._highlighted = lru_cache(maxsize=REMEMBERED_CELLS)(self._highlight)
        self._markdown = lru_cache(maxsize=REMEMBERED_CELLS)(lambda source: HTMLExporter.markdown2html(self, {}, source))

    @default("filters")
    def _linear_filters(self):
        return {"strip_files_prefix": strip_files_prefix}

    def _highlight(self, lexer, source, language, magics_language):
        """nbconvert's ``highlight_code`` of a notebook whose kernel's lexer is ``lexer``."""
        metadata = {"magics_language": magics_language} if magics_language is not None else None
        return Highlight2HTML(pygments_lexer=lexer, parent=self)(source, language, metadata)

    def _highlight_filter(self, lexer):
        """The ``highlight_code`` filter for one notebook: each distinct cell highlighted once per run."""
        def highlight_code(source, language=None, metadata=None):
            magics_language = (metadata or {}).get("magics_language")
            key = (lexer, source, language, magics_language)
            if not isinstance(source, str) or len(source) > REMEMBERED_CHARS \
                    or not all(isinstance(k, (str, type(None))) for k in key):
                return self._highlight(*key)
            return self._highlighted(*key)
        return highlight_code

    @pass_context
    def markdown2html(self, context, source):
        """nbconvert's ``markdown2html``; a cell without attachments rendered once per run (its path is
        used only to embed images, and then nothing is remembered)."""
        cell = context.get("cell", {})
        if not isinstance(source, str) or len(source) > REMEMBERED_CHARS or cell.get("attachments") \
                or self.embed_images:
            return super().markdown2html(context, source)
        return self._markdown(source)

    def from_notebook_node(self, nb, resources=None, **kw):
        """``HTMLExporter.from_notebook_node`` (nbconvert 7.17), its BeautifulSoup pass replaced by ``add_missing_alt``."""
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        self.register_filter("highlight_code", self.filters.get("highlight_code", self._highlight_filter(lexer)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        html, missing = add_missing_alt(html)
        if missing:
            self.log.warning("Alternative text is missing on %s image(s).", missing)
        return html, resources
