"""The exporter of learners' feedback pages (``nbgrader generate_feedback``).

nbgrader's formgrader renders its own pages (manual grading, previews) with ``HTMLExporter`` and
its ``formgrade`` template; configuring ``HTMLExporter`` for the feedback page would change those
too (formgrader's manual grading page then fails to render). So the feedback page has an exporter
class of its own, configured alone: ``c.GenerateFeedback.exporter_class`` names it in
``nbgrader_config.py`` and ``c.FeedbackExporter`` sets its template.
"""
from nbconvert.exporters import HTMLExporter


class FeedbackExporter(HTMLExporter):
    """``HTMLExporter`` for the feedback page only (its own configuration section: ``FeedbackExporter``)."""
