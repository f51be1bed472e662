"""The course's late-work policy as nbgrader's late submission plugin.

``nbgrader_config.py`` sets ``c.AssignLatePenalties.plugin_class`` to :class:`CourseLatePolicy`,
so ``nbgrader autograde`` and ``clientcare grade`` take the penalty the policy in
``content/due-dates.yaml`` gives (see :class:`clientcare.schedule.LatePolicy`): nbgrader
keeps it per notebook as ``late_submission_penalty``, shows it in feedback ("Late
submission penalty") and subtracts it in exports. How late a submission is comes from
the gradebook's due date (written by ``clientcare release``) and the submission's
``timestamp.txt``.
"""
from __future__ import annotations

from typing import Optional

from nbgrader.plugins import LateSubmissionPlugin

from ..schedule import load_schedule


class CourseLatePolicy(LateSubmissionPlugin):
    """Marks off per day (or part of a day) late, after a grace period; zero after the last day."""

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> Optional[float]:
        policy = load_schedule().policy
        penalty = policy.penalty(score, total_seconds_late)
        self.log.info("Late policy: %s is %.0f s late (%d day(s) after the grace period): %g of %g points off",
                      student_id, total_seconds_late, policy.days_late(total_seconds_late), penalty, score)
        return penalty
