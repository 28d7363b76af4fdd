"""What the platform tells about itself: capabilities, health and the web UI settings."""

from __future__ import annotations

from reana_commons.config import Config
from reana_db.enums import RunStatus
from reana_db.models import InteractiveSession, Workflow
from reana_db.workspace_roots import available_roots
from sqlalchemy import func, select
from sqlalchemy.orm import Session


def _item(title: str, value):
    return {"title": title, "value": value}


def cluster_info(config: Config, engines: dict[str, str] | None = None) -> dict:
    """``/api/info``: configured compute backends, workspaces and limits, and the workflow
    engines (type -> version) the workflow controller reported (None: it could not say)."""
    extra = config.extra or {}
    retention = config.workspace_retention_period
    available = [str(root) for root in available_roots(config)]
    return {
        "workspaces_available": _item("List of available workspaces", available),
        "default_workspace": _item("Default workspace", available[0]),
        "compute_backends": _item(
            "List of supported compute backends", list(config.compute_backends)
        ),
        "default_kubernetes_cpu_request": _item(
            "Default CPU request for Kubernetes jobs", extra.get("kubernetes_cpu_request")
        ),
        "default_kubernetes_cpu_limit": _item(
            "Default CPU limit for Kubernetes jobs", config.kubernetes_cpu_limit
        ),
        "default_kubernetes_memory_request": _item(
            "Default memory request for Kubernetes jobs", extra.get("kubernetes_memory_request")
        ),
        "default_kubernetes_memory_limit": _item(
            "Default memory limit for Kubernetes jobs", config.kubernetes_memory_limit
        ),
        "kubernetes_max_cpu_request": _item(
            "Maximum allowed CPU request for Kubernetes jobs",
            extra.get("kubernetes_max_cpu_request"),
        ),
        "kubernetes_max_cpu_limit": _item(
            "Maximum allowed CPU limit for Kubernetes jobs", extra.get("kubernetes_max_cpu_limit")
        ),
        "kubernetes_max_memory_request": _item(
            "Maximum allowed memory request for Kubernetes jobs",
            extra.get("kubernetes_max_memory_request"),
        ),
        "kubernetes_max_memory_limit": _item(
            "Maximum allowed memory limit for Kubernetes jobs",
            extra.get("kubernetes_max_memory_limit"),
        ),
        "maximum_workspace_retention_period": _item(
            "Maximum retention period in days for workspace files",
            None if retention == "forever" else str(retention),
        ),
        "default_kubernetes_jobs_timeout": _item(
            "Default timeout for Kubernetes jobs", str(config.kubernetes_jobs_timeout_limit)
        ),
        "maximum_kubernetes_jobs_timeout": _item(
            "Maximum timeout for Kubernetes jobs",
            str(config.kubernetes_jobs_max_user_timeout_limit),
        ),
        "maximum_interactive_session_inactivity_period": _item(
            "Maximum inactivity period in days before automatic closure of interactive sessions",
            extra.get("interactive_session_max_inactivity_period"),
        ),
        "supported_workflow_engines": _item(
            "List of supported workflow engines",
            [f"{name} ({version})" for name, version in (engines or {}).items()]
            if engines is not None else ["unknown: the workflow controller did not answer"],
        ),
    }


def _health(percentage: float) -> str:
    if percentage >= 100:
        return "critical"
    if percentage >= 80:
        return "warning"
    return "healthy"


def cluster_status(session: Session, config: Config) -> dict:
    """``/api/status``: how busy the platform is (workflow slots, sessions)."""
    counts = dict(
        session.execute(select(Workflow.status, func.count()).group_by(Workflow.status)).all()
    )
    running = counts.get(RunStatus.running, 0)
    pending = counts.get(RunStatus.pending, 0)
    queued = counts.get(RunStatus.queued, 0)
    limit = max(config.max_concurrent_batch_workflows, 1)
    busy = running + pending
    percentage = round(busy * 100 / limit)
    sessions = session.scalar(select(func.count()).select_from(InteractiveSession)) or 0
    return {
        "node": {
            "total": 1,
            "available": 1,
            "unschedulable": 0,
            "percentage": 100,
            "health": "healthy",
            "sort": 0,
        },
        "job": {
            "total": busy,
            "available": max(limit - busy, 0),
            "running": running,
            "pending": pending,
            "percentage": percentage,
            "health": _health(percentage),
            "sort": 1,
        },
        "workflow": {
            "total": limit,
            "available": max(limit - busy, 0),
            "running": running,
            "pending": pending,
            "queued": queued,
            "percentage": percentage,
            "health": _health(percentage),
            "sort": 2,
        },
        "session": {"active": sessions, "sort": 3},
    }


def ui_config(config: Config) -> dict:
    """``/api/config``: what the web UI needs to know."""
    extra = config.extra or {}
    return {
        "admin_email": extra.get("admin_email", ""),
        "announcement": extra.get("announcement"),
        "docs_url": extra.get("docs_url", "https://docs.reana.io/"),
        "forum_url": extra.get("forum_url", "https://forum.reana.io/"),
        "chat_url": extra.get("chat_url", "https://mattermost.web.cern.ch/it-dep/channels/reana"),
        "polling_secs": int(extra.get("polling_secs", 15)),
        "local_users": config.local_users,
        "hide_signup": config.hide_signup or not config.local_users,
        "sso": False,
    }
