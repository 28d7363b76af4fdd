"""Quota accounting (CPU = run wall time in ms, disk = workspace bytes).

Placeholder interface; the full implementation lands with issue 2.
"""

from __future__ import annotations


def update_on_termination(session, workflow, status) -> None:
    """Account the ended run's CPU time and disk usage."""
