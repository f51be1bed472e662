"""The instructor's cohort report: tables and plots from the gradebook.

Used by the report notebook shipped in this package (``cohort-report.ipynb``);
``clientcare report`` runs that notebook with the course's gradebook URL as its
``db_url`` parameter and saves it as HTML and as an executed notebook.
"""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import matplotlib

matplotlib.use(os.environ.get("MPLBACKEND", "Agg"))
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from .results import assignment_grades, question_scores  # noqa: E402

REPORT_NOTEBOOK = "cohort-report.ipynb"  # package data of clientcare.instructor


def load_cohort(db_url: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one row per learner and assignment, one row per learner and question)."""
    return assignment_grades(db_url), question_scores(db_url)


def overview(grades: pd.DataFrame) -> pd.DataFrame:
    """Per assignment: learners, submissions, late, awaiting manual grading, mean and median score %."""
    submitted = grades[grades["submitted"]].assign(percent=lambda t: 100 * t["score"] / t["max_score"])
    table = grades.groupby("assignment").agg(learners=("student", "count"), submitted=("submitted", "sum"))
    table["late"] = submitted.groupby("assignment")["late"].sum()
    table["awaiting_manual_grading"] = submitted.groupby("assignment")["needs_manual_grade"].sum()
    table["mean_percent"] = submitted.groupby("assignment")["percent"].mean().round(1)
    table["median_percent"] = submitted.groupby("assignment")["percent"].median().round(1)
    return table.fillna(0).astype({"late": int, "awaiting_manual_grading": int})


def question_difficulty(questions: pd.DataFrame) -> pd.DataFrame:
    """Per question, the share of available marks the cohort earned (hardest first)."""
    autograded = questions[questions["kind"] == "autograded test"]
    table = (autograded.groupby(["assignment", "question"])
             .agg(learners=("student", "count"), score=("score", "sum"), max_score=("max_score", "sum"))
             .assign(percent_earned=lambda t: (100 * t["score"] / t["max_score"]).round(1))
             .sort_values("percent_earned"))
    return table[["learners", "percent_earned"]]


def not_submitted(grades: pd.DataFrame) -> pd.DataFrame:
    return grades.loc[~grades["submitted"], ["assignment", "student"]].reset_index(drop=True)


def late_submissions(grades: pd.DataFrame) -> pd.DataFrame:
    late = grades[grades["submitted"] & grades["late"].fillna(False).astype(bool)]
    table = late[["assignment", "student", "timestamp", "duedate", "seconds_late"]].copy()
    table["hours_late"] = (table.pop("seconds_late") / 3600).round(1)
    return table.reset_index(drop=True)


def score_distribution_figure(grades: pd.DataFrame):
    """A histogram of score % for each assignment."""
    submitted = grades[grades["submitted"]].assign(percent=lambda t: 100 * t["score"] / t["max_score"])
    names = sorted(submitted["assignment"].unique())
    figure, axes = plt.subplots(1, max(1, len(names)), figsize=(4 * max(1, len(names)), 3), sharey=True,
                                squeeze=False)
    for axis, name in zip(axes[0], names):
        axis.hist(submitted.loc[submitted["assignment"] == name, "percent"], bins=range(0, 101, 10),
                  color="#1f6f8b", edgecolor="white")
        axis.set_title(name)
        axis.set_xlabel("score (%)")
    axes[0][0].set_ylabel("learners")
    figure.suptitle("Score distribution per assignment")
    figure.tight_layout()
    return figure


def difficulty_figure(difficulty: pd.DataFrame, limit: int = 15):
    """A bar chart of the hardest questions by share of marks earned."""
    hardest = difficulty.head(limit).iloc[::-1]
    labels = [f"{a}: {q}" for a, q in hardest.index]
    figure, axis = plt.subplots(figsize=(8, 0.35 * len(labels) + 1.2))
    axis.barh(labels, hardest["percent_earned"], color="#c0504d")
    axis.set_xlim(0, 100)
    axis.set_xlabel("marks earned by the cohort (%)")
    axis.set_title(f"The {len(labels)} hardest questions")
    figure.tight_layout()
    return figure


def report_notebook():
    """The report notebook as shipped in the package (not yet run)."""
    import nbformat

    text = resources.files(__package__).joinpath(REPORT_NOTEBOOK).read_text(encoding="utf-8")
    return nbformat.reads(text, as_version=4)


def with_parameters(notebook, **parameters):
    """``notebook`` with a cell setting ``parameters`` after its ``parameters`` cell (as papermill does)."""
    import nbformat

    index = next((n for n, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", [])), None)
    if index is None:
        raise ValueError("the report notebook has no cell tagged 'parameters'")
    source = "# Injected by clientcare report\n" + "".join(f"{name} = {value!r}\n" for name, value in parameters.items())
    cell = nbformat.v4.new_code_cell(source.rstrip("\n"), metadata={"tags": ["injected-parameters"]})
    notebook.cells.insert(index + 1, cell)
    return notebook


def render_html(db_url: str, output: Path, timeout: int = 300) -> Path:
    """Run the report notebook on gradebook ``db_url``; save ``output`` (HTML, code hidden) and the notebook beside it."""
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    report = with_parameters(report_notebook(), db_url=db_url)
    NotebookClient(report, timeout=timeout, resources={"metadata": {"path": str(output.parent)}}).execute()
    nbformat.write(report, output.with_suffix(".ipynb"))
    html, _ = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True).from_notebook_node(report)
    output.write_text(html, encoding="utf-8")
    return output
