"""GetServiceInfo (no authentication needed; state counts of the caller's runs if given)."""

from __future__ import annotations

from flask import Blueprint, g, jsonify
from reana_db.database import db_session

from reana_server.wes.run_views import state_counts
from reana_server.wes.service_info import service_info

blueprint = Blueprint("service_info", __name__)


@blueprint.get("/service-info")
def get_service_info():
    user = g.get("reana_user")
    counts = state_counts(db_session(), user.id_) if user is not None else {}
    from reana_server.api.wes import links

    return jsonify(service_info(links().root, counts))
