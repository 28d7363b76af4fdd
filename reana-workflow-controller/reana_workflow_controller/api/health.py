"""``GET /healthz``: the API answers and reaches its database."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from reana_workflow_controller.api.common import session

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz():
    """``{"status": "ok"}`` when the database answers, else 503."""
    try:
        session().execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any database failure means unhealthy
        return jsonify({"status": "error", "message": f"Database unreachable: {error}"}), 503
    return jsonify({"status": "ok"})
