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
"""
import re

from nbconvert.exporters import HTMLExporter
from nbconvert.filters.strings import files_url_pattern
from traitlets import default

# a caption without brackets: each "[" is looked at once (nbconvert's caption is ".*?", any characters)
MARKDOWN_FILES_URL = re.compile(r"(!?)\[(?P<caption>[^\[\]\n]*)\]\(/?files/(?P<location>[^)\n]*)\)")


def strip_files_prefix(text: str) -> str:
    """``nbconvert.filters.strip_files_prefix`` in linear time (captions holding brackets are left as they are)."""
    cleaned = files_url_pattern.sub(r"\1=\2", text)
    if "files/" not in cleaned:
        return cleaned
    return MARKDOWN_FILES_URL.sub(r"\1[\2](\3)", cleaned)


class FeedbackExporter(HTMLExporter):
    """``HTMLExporter`` for the feedback page only (its own configuration section: ``FeedbackExporter``)."""

    @default("filters")
    def _linear_filters(self):
        return {"strip_files_prefix": strip_files_prefix}
