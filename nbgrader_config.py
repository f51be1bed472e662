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

# Learners' code runs in the learner's kernel (sandboxed, see course/clientcare/instructor/sandbox.py),
# in a scratch copy of the submission; the autograded TEST cells run in the grader, outside that kernel,
# and call the learner's functions with plain data only (course/clientcare/instructor/preprocessors/
# judged_execute.py and codec.py), so nothing learner code does can change a verdict.
P = "clientcare.instructor.preprocessors."
c.JudgedExecute.kernel_name = "clientcare-grader"  # installed by `make`
c.JudgedExecute.timeout = 30                       # seconds per cell (a test cell's calls together)
c.JudgedExecute.startup_timeout = 60               # seconds for a kernel to start
c.JudgedExecute.notebook_budget = 120.0            # seconds of learner code per notebook, a hard cap
c.JudgedExecute.trusted_directory = os.path.join(c.CourseDirectory.root, "source")
# What the sandboxed kernel may not read or write: the course's tests, learners' work, grades, the grader's
# own configuration and code (appending to them would change later runs) and the exchange.
c.JudgedExecute.protected_paths = [
    os.path.join(c.CourseDirectory.root, name)
    for name in ("source", "release", "submitted", "autograded", "feedback", "export", "gradebook.db",
                 "nbgrader_config.py", ".git")
] + [c.Exchange.root, os.path.dirname(os.path.abspath(__import__("clientcare").__file__))]
c.ExecutePreprocessor.timeout = c.JudgedExecute.timeout  # read by the cohort runner

# Restore graded cells a learner deleted, so they score 0 for them instead of crashing.
c.OverwriteCells.add_missing_cells = True

# Integrity: grade the learner's answers on the release's own cells (edited, deleted,
# duplicated or reordered test cells cannot change a grade).
c.NormaliseSubmission.release_directory = os.path.join(c.CourseDirectory.root, "release")
c.Autograde.sanitize_preprocessors = [
    P + "NormaliseSubmission",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.Autograde.autograde_preprocessors = [
    P + "JudgedExecute",                 # in place of nbgrader's Execute
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    P + "InertOutput",                   # learner HTML/JS/SVG shown as text (feedback and formgrader)
    P + "LimitRichOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# The code stub learners see in solution cells.
c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE\nraise NotImplementedError()",
}

# Feedback shows which tests passed or failed, with the failed hidden checks' `# Checks:` line,
# never hidden test code, inputs or expected values (nbgrader would show the code by default),
# nothing live, and the grader's notes in a cell at the top.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    P + "HideHiddenTests",
    P + "InertOutput",
    P + "FeedbackNotes",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

