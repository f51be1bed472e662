"""nbgrader configuration for the Client Care course (course id ``clientcare``).

nbgrader reads this file last, after the Jupyter config path (``jupyter --paths``:
``~/.jupyter``, the environment's ``etc/jupyter``, ``/etc/jupyter``; ``clientcare``'s
commands read the same files in the same order). The course folder is the folder this
file is in. Defaults suit one instructor on a laptop: a SQLite gradebook (``gradebook.db``
here, never committed) and a local exchange (``exchange/`` here).

For a cohort, put the shared settings in ``/etc/jupyter/nbgrader_config.py`` (or
``~/.jupyter/nbgrader_config.py``): this file keeps ``CourseDirectory.db_url``,
``Exchange.root`` and ``ClientCare.gradebook`` set there, and sets them only when they
are not. ``CLIENTCARE_DB_URL`` and ``CLIENTCARE_EXCHANGE`` in the environment take
precedence over both (one shell, one run). With ``c.ClientCare.gradebook = "postgresql"``
(there or below) and no PostgreSQL URL, grading and reports stop with a clear message
instead of starting an empty ``gradebook.db``.
"""
import os

from clientcare.instructor.config import MISSING_POSTGRESQL_URL, config_before_course

c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads this file)

HERE = os.path.dirname(os.path.abspath(__file__))
EARLIER = config_before_course()  # what the Jupyter config path set before this file
# None while that very reading loads this file (a config on the path may load_subconfig it):
# then this file sets only its fixed settings, none of the defaults below.
OWN_DEFAULTS = EARLIER is not None
EARLIER = EARLIER or type(c)()

c.CourseDirectory.course_id = "clientcare"
c.CourseDirectory.root = HERE

# The kind of gradebook: "sqlite" (one machine) or "postgresql" (a cohort; the URL comes from
# the environment or a system config). A system config's setting is kept; for a cohort course
# without one, change the default here to "postgresql".
GRADEBOOK = EARLIER.ClientCare.get("gradebook", "sqlite")
if OWN_DEFAULTS:
    c.ClientCare.gradebook = GRADEBOOK

# Gradebook URL: $CLIENTCARE_DB_URL, else a system config's db_url, else nbgrader's default
# (sqlite:///<course>/gradebook.db), except that a PostgreSQL course never falls back to SQLite.
if os.environ.get("CLIENTCARE_DB_URL"):
    c.CourseDirectory.db_url = os.environ["CLIENTCARE_DB_URL"]
elif OWN_DEFAULTS and "db_url" not in EARLIER.CourseDirectory and GRADEBOOK == "postgresql":
    c.CourseDirectory.db_url = MISSING_POSTGRESQL_URL  # fails; `clientcare` commands explain why

# Exchange: $CLIENTCARE_EXCHANGE, else a system config's Exchange.root, else a local folder
# so release/fetch/submit/collect work on a single machine.
if os.environ.get("CLIENTCARE_EXCHANGE"):
    c.Exchange.root = os.environ["CLIENTCARE_EXCHANGE"]
elif OWN_DEFAULTS and "root" not in EARLIER.Exchange:
    c.Exchange.root = os.path.join(HERE, "exchange")
EXCHANGE_ROOT = (c.Exchange.root if "root" in c.Exchange
                 else EARLIER.Exchange.root if "root" in EARLIER.Exchange else os.path.join(HERE, "exchange"))
c.Exchange.path_includes_course = True

# Only notebooks are graded; data files next to them are released too.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

# Learners' code runs in the learner's kernel (sandboxed, see course/clientcare/instructor/sandbox.py),
# in a scratch copy of the submission; the autograded TEST cells run in the grader, outside that kernel,
# and call the learner's functions with plain data only (course/clientcare/instructor/preprocessors/
# judged_execute.py and codec.py), so nothing learner code does can change a verdict.
P = "clientcare.instructor.preprocessors."
# The learner's kernel runs behind the OS boundary (bubblewrap; see sandbox.py's docstring): a read-only
# system, its own copy of the submission's files on a size-capped tmpfs, no network, an unprivileged slot
# user with a process cap, its whole process tree killed afterwards. Without bubblewrap nothing is run
# (grading stops naming it). `clientcare grade` and stock `nbgrader autograde` both read this.
c.JudgedExecute.kernel_manager_class = "clientcare.instructor.sandbox.SandboxKernelManager"
# Warm kernels (graded as root): each grading slot's sandbox is started once and forks a fresh kernel for each
# submission from a process that has imported ipykernel, pandas and numpy and never holds a learner's code or
# data; afterwards the slot's processes are killed and its files removed (see course/clientcare/instructor/
# warm.py). Run as another user, kernels are cold (a new sandbox each), with one warning.
c.SandboxKernelManager.warm = True
c.JudgedExecute.kernel_name = "clientcare-grader"  # installed by `make` (its spec names the kernel; the
                                                   # sandbox starts isolated Python with the same module)
c.JudgedExecute.timeout = 30                       # seconds per cell (a test cell's calls together)
c.JudgedExecute.startup_timeout = 60               # seconds for a kernel to start
c.JudgedExecute.notebook_budget = 120.0            # seconds of learner code per notebook, a hard cap
c.JudgedExecute.trusted_directory = os.path.join(HERE, "source")
# What the sandboxed kernel may not read or write: the course's tests, learners' work, grades, the grader's
# own configuration and code (appending to them would change later runs) and the exchange.
c.JudgedExecute.protected_paths = [
    os.path.join(HERE, name)
    for name in ("source", "release", "submitted", "autograded", "feedback", "export", "gradebook.db",
                 "nbgrader_config.py", ".git")
] + [EXCHANGE_ROOT, os.path.dirname(os.path.abspath(__import__("clientcare").__file__))]
# nbgrader's own Execute settings, kept equal for anything that reads them (and stock `nbgrader autograde`
# if JudgedExecute is taken out of the list below)
c.ExecutePreprocessor.timeout = c.JudgedExecute.timeout
c.ExecutePreprocessor.startup_timeout = c.JudgedExecute.startup_timeout

# Learner files are data, for stock `nbgrader autograde` too: links, special files and files the
# release does not have are set aside (to set-aside/), unsafe student ids are refused
# (course/clientcare/instructor/submission_files.py; `clientcare grade` runs the same first).
from clientcare.instructor.submission_files import autograde_pre_convert_hook  # noqa: E402

c.Autograde.pre_convert_hook = autograde_pre_convert_hook(c.CourseDirectory.root)

# Restore graded cells a learner deleted, so they score 0 for them instead of crashing.
c.OverwriteCells.add_missing_cells = True

# Integrity: grade the learner's answers on the release's own cells (edited, deleted,
# duplicated or reordered test cells cannot change a grade).
c.NormaliseSubmission.release_directory = os.path.join(HERE, "release")
c.Autograde.sanitize_preprocessors = [
    P + "NormaliseSubmission",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    P + "CheckCellMetadata",             # nbgrader's, its schema checked once, not per cell
]
c.Autograde.autograde_preprocessors = [
    P + "JudgedExecute",                 # in place of nbgrader's Execute
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    P + "InertOutput",                   # learner HTML/JS/SVG shown as text (feedback and formgrader)
    P + "LimitRichOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    P + "CheckCellMetadata",             # nbgrader's, its schema checked once, not per cell
]
# The course's late-work policy (content/due-dates.yaml; clientcare/instructor/late_policy.py).
c.AssignLatePenalties.plugin_class = "clientcare.instructor.late_policy.CourseLatePolicy"

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

# The feedback page (learner-ux; presentation only): nbgrader's page without MathJax or anything
# else from the network, so it opens offline from the file, with every graded part named by its
# "# Checks:" line (see course/clientcare/templates/clientcare-feedback/page.html.j2).
import clientcare as _clientcare  # noqa: E402
import nbgrader as _nbgrader  # noqa: E402

# Set on the feedback page's own exporter, not on HTMLExporter, which formgrader's pages use too.
c.GenerateFeedback.exporter_class = "clientcare.instructor.feedback_exporter.FeedbackExporter"
c.FeedbackExporter.template_name = "clientcare-feedback"
c.FeedbackExporter.template_file = "page.html.j2"
c.FeedbackExporter.extra_template_basedirs = [
    os.path.join(os.path.dirname(_clientcare.__file__), "templates"),
    os.path.join(os.path.dirname(_nbgrader.__file__), "server_extensions", "formgrader", "templates"),
]

# A notebook submitted under another name is graded under the release's; its feedback is released under
# both names, so the learner's `nbgrader fetch_feedback` finds it (course/clientcare/instructor/feedback_delivery.py).
c.ExchangeFactory.release_feedback = "clientcare.instructor.feedback_delivery.ReleaseFeedback"
