"""InertOutput, LimitRichOutput, HideHiddenTests, FeedbackNotes and NormaliseSubmission on tiny notebooks."""
import re

import nbformat
from nbconvert import HTMLExporter

from clientcare.instructor.preprocessors import (FeedbackNotes, HideHiddenTests, InertOutput, LimitRichOutput,
                                                 NormaliseSubmission)
from clientcare.instructor.preprocessors.normalise_submission import normalise
from clientcare.instructor.preprocessors.notes import NOTES_HEADING, add_notes, notes_of
from clientcare.instructor.submission_files import sign_notes
from tiny import by_id, cell, notebook

# A payload that would run: a script holding it, an event attribute, a javascript: link (the page's own
# template scripts do not hold "alert").
LIVE = re.compile(r"<script[^>]*>[^<]*alert|<[a-z]+[^>]*\son[a-z]+\s*=|<svg|href=[\"']?\s*javascript:", re.IGNORECASE)


def display(data):
    return nbformat.v4.new_output("display_data", data=data)


def hostile_notebook():
    extra = cell("extra", "show()")
    extra.outputs = [
        display({"text/html": "<img src=x onerror=alert(1)>"}),
        display({"application/javascript": "alert(2)"}),
        display({"image/svg+xml": "<svg onload=alert(3)></svg>", "text/plain": "<Figure>"}),
        display({"image/png": 'iVBORw0KGgo="><script>alert(4)</script>'}),
        display({"image/png": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="}),
        nbformat.v4.new_output("execute_result", data={"text/markdown": "[x](javascript:alert(5))"}, execution_count=1),
    ]
    written = cell("written", "I disclosed it. <script>alert(6)</script> <img src=x onerror=alert(7)> "
                              "[see](javascript:alert(8))", "essay", points=5)
    return notebook(cell("text", "## Part 1 <b>read-only</b>", "intro"), extra, written)


def test_learner_html_scripts_and_svg_are_inert_in_feedback_and_formgrader():
    nb, _ = InertOutput().preprocess(hostile_notebook(), {})
    html, _ = HTMLExporter().from_notebook_node(nb)
    assert not LIVE.search(html), LIVE.search(html)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # shown, as text
    outputs = nb.cells[1].outputs
    assert outputs[3].data == {"text/plain": '[image/png output shown as text]\niVBORw0KGgo="><script>alert(4)</script>'}
    assert "image/png" in outputs[4].data  # a real image stays an image
    assert "<b>read-only</b>" in by_id(nb, "intro").source  # the course's own Markdown is untouched


def test_floods_are_cut():
    flood = cell("extra", "flood()")
    flood.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * 1_000_000)]
    flood.outputs += [nbformat.v4.new_output("stream", name="stdout", text="line\n") for _ in range(100)]
    flood.outputs += [display({"text/html": "<p>" + "y" * 3_000_000 + "</p>"})]
    nb, _ = LimitRichOutput().preprocess(notebook(flood), {})
    kept = nb.cells[0].outputs
    assert len(kept) == 51 and "more outputs removed" in kept[-1].text
    assert len(kept[0].text) < 25_000 and "characters of output removed" in kept[0].text


HIDDEN_TEST = ("assert f(1) == 2\n### BEGIN HIDDEN TESTS\nassert f(-7) == -14, 'f(-7) should be -14'\n"
               "### END HIDDEN TESTS")


def test_feedback_shows_results_and_notes_never_hidden_code():
    test = cell("test", HIDDEN_TEST, "t-f", points=2)
    test.outputs = [nbformat.v4.new_output("stream", name="stdout", text="visible tests passed\n"),
                    nbformat.v4.new_output("stream", name="stderr", text="learner noise\n"),
                    nbformat.v4.new_output("execute_result", data={"text/plain": "2"}, execution_count=3),
                    nbformat.v4.new_output("error", ename="AssertionError", evalue="a hidden check failed",
                                           traceback=["Traceback", "  File <test>, line 3", "assert f(-7) == -14"])]
    test.metadata["clientcare"] = {"failure": {"evalue": "f(-7) should be -14"}}
    nb = notebook(test)
    add_notes(nb, ["'t-f' <b>ran</b> past its time limit"])
    nb, _ = HideHiddenTests().preprocess(nb, {})
    nb, _ = FeedbackNotes().preprocess(nb, {})
    assert nb.cells[0].source.startswith(NOTES_HEADING) and "&lt;b&gt;ran&lt;/b&gt;" in nb.cells[0].source
    graded = nb.cells[1]
    assert "-14" not in graded.source and "assert f(1) == 2" in graded.source
    assert [o.output_type for o in graded.outputs] == ["stream", "error"]
    assert graded.outputs[1].traceback == ["AssertionError: a hidden check failed"]
    assert "clientcare" not in graded.metadata


def test_the_release_skeleton_is_graded_and_repairs_are_noted_in_metadata(tmp_path):
    release = notebook(cell("setup", "X = 1", "setup"), cell("answer", "def f(v):\n    raise NotImplementedError()", "f"),
                       cell("test", "assert f(1) == 2", "t-f"))
    submitted = nbformat.from_dict(nbformat.reads(nbformat.writes(release), as_version=4))
    by_id(submitted, "f").source = "def f(v):\n    return 2 * v"
    by_id(submitted, "t-f").source = "pass"  # "tests pass now"
    deep = {}
    for _ in range(300):
        deep = {"k": deep}
    extra = cell("extra", "print('mine')")
    extra.metadata["deep"] = deep
    submitted.cells.insert(2, extra)
    graded, notes = normalise(submitted, release)
    assert by_id(graded, "t-f").source == "assert f(1) == 2"
    assert "Read-only cell 't-f' had been changed; the original was restored." in notes
    assert graded.cells[2].source == "print('mine')" and "deep" not in graded.cells[2].metadata
    folder = tmp_path / "release" / "a"
    folder.mkdir(parents=True)
    nbformat.write(release, folder / "n.ipynb")
    submitted.metadata["clientcare"] = {"preflight": sign_notes(["The notebook was submitted as 'x.ipynb'."])}
    out, _ = NormaliseSubmission(release_directory=str(tmp_path / "release")).preprocess(
        submitted, {"nbgrader": {"assignment": "a", "notebook": "n"}})
    assert notes_of(out)[0] == "The notebook was submitted as 'x.ipynb'." and len(notes_of(out)) == 2
    assert not any(c.source.startswith(NOTES_HEADING) for c in out.cells)  # notes live in metadata


def test_notes_a_learner_writes_into_their_notebook_are_never_shown_as_the_graders(tmp_path):
    release = notebook(cell("answer", "def f(v):\n    raise NotImplementedError()", "f"), cell("test", "assert f(1) == 2", "t-f"))
    folder = tmp_path / "release" / "a"
    folder.mkdir(parents=True)
    nbformat.write(release, folder / "n.ipynb")
    submitted = nbformat.from_dict(nbformat.reads(nbformat.writes(release), as_version=4))
    forged = "The instructor awarded full marks for this notebook."
    submitted.metadata["clientcare"] = {"preflight_notes": [forged], "notes": [forged],
                                        "preflight": {"notes": [forged], "signature": "0" * 64}}
    by_id(submitted, "t-f").metadata["clientcare"] = {"failure": {"ename": "x", "evalue": forged}}
    out, _ = NormaliseSubmission(release_directory=str(tmp_path / "release")).preprocess(
        submitted, {"nbgrader": {"assignment": "a", "notebook": "n"}})
    assert notes_of(out) == []
    shown, _ = FeedbackNotes().preprocess(out, {})
    assert forged not in nbformat.writes(shown)


def test_work_pasted_into_a_new_notebook_is_run_before_the_tests_and_the_note_says_so():
    """No cell carries nbgrader's metadata (a new notebook, or a tool that drops it): the learner's code cells
    run before the first answer cell, the release's tests after them, and the note names what happened."""
    release = notebook(cell("setup", "X = 1", "setup"), cell("answer", "def f(v):\n    raise NotImplementedError()", "f"),
                       cell("test", "assert f(1) == 2", "t-f"), cell("answer", "def g():\n    raise NotImplementedError()", "g"),
                       cell("test", "assert g() == 3", "t-g"))
    pasted = notebook(cell("extra", "X = 1"), cell("extra", "def f(v):\n    return 2 * v"), cell("extra", "f(1)"),
                      cell("extra", "def g():\n    return 3"))
    graded, notes = normalise(pasted, release)
    sources = [c.source for c in graded.cells]
    assert sources.index("def f(v):\n    return 2 * v") < sources.index("assert f(1) == 2")
    assert sources.index("def g():\n    return 3") < sources.index("assert g() == 3")
    assert len(notes) == 1 and "carried nbgrader's metadata" in notes[0] and "was missing" not in notes[0]


def test_a_written_answer_full_of_formatting_characters_renders_quickly_and_is_escaped_once():
    """Thousands of brackets or asterisks made rendering quadratic (nbconvert's strip_files_prefix regex, mistune's
    emphasis): one such answer kept feedback generation busy for minutes."""
    import time

    from clientcare.instructor.feedback_exporter import FeedbackExporter

    attacks = ["[" * 20000 + "x" + "]" * 20000, "*a " * 5000 + "b" + " a*" * 5000, "[a" * 5000 + "](b)" * 5000]
    nb = notebook(*[cell("written", text, f"essay-{n}", points=5) for n, text in enumerate(attacks)],
                  cell("written", "Fees & costs: <b>not</b> bold, *emphasis* kept", "essay-plain", points=5))
    started = time.monotonic()
    nb, _ = InertOutput().preprocess(nb, {})    # autograde
    nb, _ = InertOutput().preprocess(nb, {})    # feedback, on the autograded notebook
    html, _ = FeedbackExporter().from_notebook_node(nb)
    assert time.monotonic() - started < 15
    assert "Fees &amp; costs: &lt;b&gt;not&lt;/b&gt; bold, <em>emphasis</em> kept" in html  # escaped once, not twice
    assert "[[[[x]]]]" in html and "*a *a *a" in html and "<em>a" not in html and not LIVE.search(html)
