"""Blueprints of the internal REST API (all under ``/api``, except ``/healthz``)."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    """Attach every blueprint of the internal API to ``app``."""
    from reana_workflow_controller.api.engines import blueprint as engines
    from reana_workflow_controller.api.health import blueprint as health
    from reana_workflow_controller.api.provenance import blueprint as provenance
    from reana_workflow_controller.api.sessions import blueprint as sessions
    from reana_workflow_controller.api.workflows import blueprint as workflows
    from reana_workflow_controller.api.workspace import blueprint as workspace

    for blueprint in (health, engines, workflows, workspace, sessions, provenance):
        app.register_blueprint(blueprint)
