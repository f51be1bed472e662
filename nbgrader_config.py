"""nbgrader configuration for the Client Care course.

Defaults suit one instructor on a laptop: the course directory is the folder this
file lives in, the gradebook is SQLite (gradebook.db, never committed) and the
exchange is a local folder. For a cohort on JupyterHub, override db_url with a
PostgreSQL URL and Exchange.root with the shared exchange, e.g. in
/etc/jupyter/nbgrader_config.py or with environment variables below.
"""
import os

c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads this file)

HERE = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "clientcare"
c.CourseDirectory.root = os.environ.get("CLIENTCARE_COURSE_ROOT", HERE)

# Gradebook: SQLite by default; set CLIENTCARE_DB_URL=postgresql://... for a cohort.
c.CourseDirectory.db_url = os.environ.get(
    "CLIENTCARE_DB_URL",
    "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db"),
)

# A local exchange so release/fetch/submit/collect work on a single machine.
c.Exchange.root = os.environ.get(
    "CLIENTCARE_EXCHANGE", os.path.join(c.CourseDirectory.root, "exchange")
)
c.Exchange.path_includes_course = True

# Only notebooks are graded; data files next to them are released too.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

# Learners' code runs under these limits when autograded, in a scratch folder, in a
# sandboxed kernel that cannot read the course's source, submissions or gradebook.
c.ExecutePreprocessor.timeout = 30          # seconds per cell
c.ExecutePreprocessor.startup_timeout = 60  # seconds for a kernel to start
c.ExecutePreprocessor.interrupt_on_timeout = True
c.Execute.kernel_name = "clientcare-grader"  # course/clientcare/instructor/sandbox.py, installed by `make`
c.IsolatedExecute.protected_paths = [
    os.path.join(c.CourseDirectory.root, name)
    for name in ("source", "submitted", "autograded", "feedback", "gradebook.db", ".git")
] + [c.Exchange.root]

# Learner files are data, for stock `nbgrader autograde` too: links, special files and files the
# release does not have are set aside (to set-aside/), unsafe student ids are refused
# (course/clientcare/instructor/submission_files.py; `clientcare grade` runs the same first).
from clientcare.instructor.submission_files import autograde_pre_convert_hook  # noqa: E402

c.Autograde.pre_convert_hook = autograde_pre_convert_hook(c.CourseDirectory.root)

# Restore graded cells a learner deleted, so they score 0 for them instead of crashing.
c.OverwriteCells.add_missing_cells = True

# Integrity: grade the learner's answers on the release's own cells (edited, deleted,
# duplicated or reordered test cells cannot change a grade), and cut output floods.
# See course/clientcare/instructor/integrity.py.
c.NormaliseSubmission.release_directory = os.path.join(c.CourseDirectory.root, "release")
c.Autograde.sanitize_preprocessors = [
    "clientcare.instructor.integrity.NormaliseSubmission",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
    "clientcare.instructor.integrity.MarkGradedCells",
]
c.Autograde.autograde_preprocessors = [
    "clientcare.instructor.integrity.IsolatedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "clientcare.instructor.integrity.LimitRichOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# The code stub learners see in solution cells.
c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE\nraise NotImplementedError()",
}

# Feedback shows which tests passed or failed and their messages, never the
# hidden test code (nbgrader would show it by default).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "clientcare.instructor.feedback.HideHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
