"""Instructor tools: release assignments, make synthetic learners, autograde, report."""
