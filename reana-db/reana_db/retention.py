"""Workspace retention rules: activation when a run ends."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from reana_db.enums import WorkspaceRetentionRuleStatus
from reana_db.models import utcnow


def activate_rules(session, workflow, now: datetime | None = None) -> None:
    """Activate the run's created rules: ``apply_on`` = today 23:59:59 + retention days."""
    today_end = datetime.combine((now or utcnow()).date(), time(23, 59, 59))
    for rule in workflow.retention_rules:
        if rule.status == WorkspaceRetentionRuleStatus.created:
            rule.status = WorkspaceRetentionRuleStatus.active
            rule.apply_on = today_end + timedelta(days=rule.retention_days)
