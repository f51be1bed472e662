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


PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def image_notebook():
    notebook = nbformat.v4.new_notebook()
    chart = nbformat.v4.new_code_cell("plot()")
    chart.outputs = [nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})]
    notebook.cells = [
        nbformat.v4.new_markdown_cell('A logo: <img src="logo.png"> and a described one: '
                                      '<img src="chart.png" alt="Fees by month" /> and ![a chart](chart.png)'),
        chart,
        graded("assert True", "test_total_fee", 1, 1),
    ]
    return notebook


def test_the_page_is_what_nbconverts_html_exporter_makes_with_alternative_text_on_every_image():
    """The course's exporter finishes the page without HTMLExporter's BeautifulSoup pass (two-thirds of its
    time): the page must read the same, and every image must still have alternative text, as nbconvert gives."""
    from bs4 import BeautifulSoup

    from clientcare.instructor.feedback_exporter import FeedbackExporter

    resources = {"nbgrader": {"notebook": "fee-proposals", "score": 1, "max_score": 1, "late_penalty": 0}}
    ours, _ = course_exporter().from_notebook_node(image_notebook(), resources=dict(resources))
    exporter = course_exporter()
    stock, _ = HTMLExporter.from_notebook_node(exporter, image_notebook(), resources=dict(resources))  # with the pass
    assert type(exporter) is FeedbackExporter
    ours_soup, stock_soup = BeautifulSoup(ours, "html.parser"), BeautifulSoup(stock, "html.parser")
    assert [img.get("alt") for img in ours_soup.find_all("img")] == [img.get("alt") for img in stock_soup.find_all("img")]
    assert [img.get("alt") for img in ours_soup.find_all("img")] == [
        "No description has been provided for this image", "Fees by month", "a chart",
        "No description has been provided for this image"]
    assert ours_soup.get_text() == stock_soup.get_text()
    assert [t.name for t in ours_soup.find_all(True)] == [t.name for t in stock_soup.find_all(True)]


def test_alternative_text_is_added_in_linear_time():
    """A raw cell of 40,000 unfinished "<img" tags (a learner's) must not make the page take minutes."""
    import time

    from clientcare.instructor.feedback_exporter import add_missing_alt

    text = "<img " * 40_000 + '<img src="x">' + "x" * 200_000
    started = time.process_time()
    page, added = add_missing_alt(text)
    assert time.process_time() - started < 1.0
    assert added == 1 and page.endswith('<img src="x" alt="No description has been provided for this image">' + "x" * 200_000)


def notebook_with(cells, lexer="ipython3"):
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["language_info"] = {"name": "python", "pygments_lexer": lexer}
    notebook.cells = [*cells, graded("assert True", "test_total_fee", 1, 1)]
    return notebook


def test_cells_shared_by_learners_give_each_page_exactly_what_a_fresh_exporter_gives():
    """Code and Markdown are rendered once per distinct cell in a run (every learner's page repeats the release's
    cells). A cell that reads the same but renders differently (another magics language, another kernel's
    lexer, attachments) must not get the remembered HTML: each page equals the page of an exporter that has
    rendered nothing before it."""
    other_png = PNG.replace("AAAADUlEQVR42mNk", "AAAADUlEQVR42mNg")  # another learner's picture of the same name

    def pictured(png):
        return nbformat.v4.new_markdown_cell("The chart: ![chart](attachment:chart.png)",
                                             attachments={"chart.png": {"image/png": png}})

    bash = nbformat.v4.new_code_cell("%%bash\necho $FEE | grep -c 'VAT'", metadata={"magics_language": "bash"})
    pages = [
        notebook_with([nbformat.v4.new_markdown_cell("## Fees\nA *fee* of £100."), bash, pictured(PNG)]),
        notebook_with([nbformat.v4.new_markdown_cell("## Fees\nA *fee* of £100."),
                       nbformat.v4.new_code_cell("%%bash\necho $FEE | grep -c 'VAT'"), pictured(other_png)]),
        notebook_with([nbformat.v4.new_code_cell("%%bash\necho $FEE | grep -c 'VAT'"),
                       nbformat.v4.new_code_cell("fee = 100  # " + "x" * 20_001)], lexer="python"),
    ]
    resources = {"nbgrader": {"notebook": "fee-proposals", "score": 1, "max_score": 1, "late_penalty": 0}}
    shared = course_exporter()
    in_one_run = [shared.from_notebook_node(nb, resources=dict(resources))[0] for nb in pages]
    alone = [course_exporter().from_notebook_node(nb, resources=dict(resources))[0] for nb in pages]
    for number, (ours, fresh) in enumerate(zip(in_one_run, alone), 1):
        assert ours == fresh, f"page {number} differs from the page of a fresh exporter"
    assert PNG in in_one_run[0] and other_png in in_one_run[1] and PNG not in in_one_run[1]  # each its own
    assert in_one_run[0].count('class="nb"') > in_one_run[1].count('class="nb"')  # bash's builtins told apart
    assert "hl-python" in in_one_run[2] and "hl-ipython3" not in in_one_run[2]  # the third kernel's own lexer
    assert shared._highlighted.cache_info().hits >= 1 and shared._markdown.cache_info().hits >= 1
