"""The course's nbgrader preprocessors, one per module (configured in ``nbgrader_config.py``).

Sanitise: ``NormaliseSubmission``, ``CheckCellMetadata`` (nbgrader's, its schema checked once;
autograde runs it too). Autograde: ``JudgedExecute`` (in place of nbgrader's
Execute: learner code in the learner's kernel, tests in the grader), ``InertOutput``,
``LimitRichOutput``. Feedback: ``HideHiddenTests``, ``InertOutput``, ``FeedbackNotes``.
"""
from .check_cell_metadata import CheckCellMetadata
from .feedback_notes import FeedbackNotes
from .hide_hidden_tests import HideHiddenTests
from .inert_output import InertOutput
from .judged_execute import JudgedExecute
from .limit_rich_output import LimitRichOutput
from .normalise_submission import NormaliseSubmission

__all__ = ["CheckCellMetadata", "FeedbackNotes", "HideHiddenTests", "InertOutput", "JudgedExecute", "LimitRichOutput",
           "NormaliseSubmission"]
