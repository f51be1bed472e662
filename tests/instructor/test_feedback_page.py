"""The feedback page a learner opens: it needs no network, and names every graded part.
(The real `nbgrader generate_feedback` run is in test_grading_pipeline.py.)"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

REPO = Path(__file__).resolve().parents[2]


def course_config() -> Config:
    return PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()


def course_exporter() -> HTMLExporter:
    """The feedback page's exporter as nbgrader_config.py, then nbgrader's GenerateFeedback, set it up."""
    from nbgrader.converters.generate_feedback import GenerateFeedback

    config = course_config()
    generate = GenerateFeedback(config=Config({name: config[name] for name in ("GenerateFeedback", "FeedbackExporter")}))
    return generate.exporter_class(config=generate.config)


def test_formgrader_keeps_its_own_templates():
    """formgrader renders manual grading with HTMLExporter and its 'formgrade' template: the course's
    feedback template must not be set there (formgrader's grading page failed to render when it was)."""
    config = course_config()
    assert not {"template_name", "template_file", "extra_template_basedirs"} & set(config.HTMLExporter)
    assert config.GenerateFeedback.exporter_class.endswith("FeedbackExporter")


def graded(source: str, grade_id: str, points: float, score: float, *, solution=False, error=None):
    cell = nbformat.v4.new_code_cell(source, metadata={"nbgrader": {
        "solution": solution, "grade": not solution, "grade_id": grade_id, "locked": not solution,
        "points": points, "score": score, "schema_version": 3}})
    if error:
        cell.outputs = [nbformat.v4.new_output("error", ename=error[0], evalue=error[1],
                                               traceback=[f"{error[0]}: {error[1]}"])]
    return cell


def feedback_page() -> str:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("Work out the fee with VAT: $fee \\times 1.2$."),
        graded("def with_vat(fee):\n    raise NotImplementedError()", "with-vat", 0, 0, solution=True),
        graded("# Checks: the fee includes VAT at 20%\nassert with_vat(100) == 120", "test-with-vat", 2, 0,
               error=("NotImplementedError", "")),
        graded("assert True", "test_total_fee", 1, 1),
    ]
    resources = {"nbgrader": {"notebook": "fee-proposals", "score": 1, "max_score": 3, "late_penalty": 0}}
    body, _ = course_exporter().from_notebook_node(notebook, resources=resources)
    return body


def test_the_feedback_page_loads_nothing_from_the_network():
    page = feedback_page()
    remote = re.findall(r'<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)="((?:https?:)?//[^"]+)"', page)
    assert remote == [], f"the feedback page loads {remote}: it would not open offline"
    assert "mathjax" not in page.lower()


def test_every_graded_part_is_named_and_lost_points_stand_out():
    page = feedback_page()
    summary = page[page.index('id="toc"'):page.index("</nav>")]
    assert "Test cell" not in summary
    assert re.search(r'class="cc-lost"><a href="#test-with-vat">Checks: the fee includes VAT at 20%</a>\s*'
                     r"\(0\.0 of 2\.0 points, points lost\)", summary)
    assert re.search(r'class="cc-full"><a href="#test_total_fee">Checks: Test total fee</a>', summary)
    assert 'id="test-with-vat"' in page  # the summary's links have somewhere to go
    assert re.search(r"Feedback on fee-proposals:\s+1\.0 of 3\.0 points", page)
    assert page.count("<body") == 1 and "Test cell" not in page
