"""``CheckCellMetadata`` (its schema checked once) against nbgrader's own, on tiny notebooks.

Every case is run through both, and both must agree: the same error type and message from
the validator, the same error from the preprocessor, or both pass. The cases are what a
careless or hostile learner (or a broken tool) does to a cell's ``nbgrader`` metadata.
"""
from __future__ import annotations

import copy
import logging

import pytest
from nbgrader.nbgraderformat import MetadataValidator as StockValidator
from nbgrader.preprocessors import CheckCellMetadata as StockCheck

from clientcare.instructor.preprocessors.check_cell_metadata import CheckCellMetadata, MetadataValidator

from tiny import cell, notebook


def _sample():
    return notebook(cell("setup", "rate = 120", "setup"), cell("answer", "def fee(h):\n    return h * rate", "answer"),
                    cell("test", "assert fee(2) == 240", "test-fee", points=2), cell("written", "Because...", "why"),
                    cell("text", "Read this first.", "intro"))


def _meta(nb, grade_id):
    return next(c for c in nb.cells if c.metadata["nbgrader"].get("grade_id") == grade_id).metadata["nbgrader"]


def _set(grade_id, key, value):
    def change(nb):
        _meta(nb, grade_id)[key] = value
    return change


def _drop(grade_id, key):
    def change(nb):
        del _meta(nb, grade_id)[key]
    return change


def _duplicate_ids(nb):
    _meta(nb, "setup")["grade_id"] = "answer"


def _task_on_code(nb):
    _meta(nb, "answer")["task"] = True


def _not_an_object(nb):
    nb.cells[1].metadata["nbgrader"] = ["grade", True]


def _many_errors(nb):
    _meta(nb, "test-fee").update(points="two", grade="yes", grade_id="has space", checksum="short", spare=1)


CASES = {
    "untouched": lambda nb: None,
    "negative points": _set("test-fee", "points", -1),
    "points as text": _set("test-fee", "points", "ten"),
    "points missing": _drop("test-fee", "points"),
    "grade as text": _set("test-fee", "grade", "yes"),
    "locked missing": _drop("setup", "locked"),
    "older schema": _set("test-fee", "schema_version", 2),
    "newer schema": _set("test-fee", "schema_version", 4),
    "schema version as text": _set("test-fee", "schema_version", "3"),
    "grade id missing": _drop("answer", "grade_id"),
    "empty grade id": _set("answer", "grade_id", ""),
    "grade id with a space": _set("answer", "grade_id", "my answer"),
    "short checksum": _set("test-fee", "checksum", "abc"),
    "unknown cell type": _set("test-fee", "cell_type", "python"),
    "extra key": _set("test-fee", "secret_points", 100),
    "duplicate grade ids": _duplicate_ids,
    "task on a code cell": _task_on_code,
    "markdown grade without solution": _set("why", "solution", False),
    "many errors at once": _many_errors,
    "metadata not an object": _not_an_object,
}


def _outcome(call):
    try:
        call()
    except Exception as error:  # what a user sees: the error's type and message
        return type(error).__name__, str(error)
    return "passes", ""


@pytest.mark.parametrize("case", CASES)
def test_the_validator_agrees_with_nbgraders(case):
    nb = _sample()
    CASES[case](nb)
    stock = _outcome(lambda: StockValidator().validate_nb(copy.deepcopy(nb)))
    ours = _outcome(lambda: MetadataValidator().validate_nb(copy.deepcopy(nb)))
    assert ours == stock
    assert (stock[0] == "passes") == (case == "untouched")  # every corruption is caught, by both


@pytest.mark.parametrize("case", CASES)
def test_the_preprocessor_agrees_with_nbgraders(case, caplog):
    nb = _sample()
    CASES[case](nb)
    outcomes = []
    for kind in (StockCheck, CheckCellMetadata):
        caplog.clear()
        with caplog.at_level(logging.ERROR):
            check = kind()
            check.log = logging.getLogger("check")
            outcome = _outcome(lambda: check.preprocess(copy.deepcopy(nb), {}))
        outcomes.append((outcome, [r.getMessage().splitlines()[-1] for r in caplog.records]))
    assert outcomes[1] == outcomes[0]


def test_the_same_answer_when_checked_again():
    """The validator is built once: a second notebook is judged afresh, not by what the first one left."""
    broken = _sample()
    _set("test-fee", "points", -1)(broken)
    assert _outcome(lambda: MetadataValidator().validate_nb(_sample())) == ("passes", "")
    assert _outcome(lambda: MetadataValidator().validate_nb(broken))[0] == "ValidationError"
    assert _outcome(lambda: MetadataValidator().validate_nb(_sample())) == ("passes", "")


def test_the_course_configures_it_in_both_places():
    from notebooks import REPO

    from clientcare.instructor.config import course_config

    config = course_config(REPO)
    name = "clientcare.instructor.preprocessors.CheckCellMetadata"
    assert name in config.Autograde.sanitize_preprocessors
    assert name in config.Autograde.autograde_preprocessors
    assert not any(p == "nbgrader.preprocessors.CheckCellMetadata"
                   for p in config.Autograde.sanitize_preprocessors + config.Autograde.autograde_preprocessors)
