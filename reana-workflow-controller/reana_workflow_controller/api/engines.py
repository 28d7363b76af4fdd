"""``GET /api/engines``: the workflow engines this controller can start, with their versions."""

from __future__ import annotations

from flask import Blueprint, jsonify
from reana_commons.engine_inventory import installed_engines

blueprint = Blueprint("engines", __name__, url_prefix="/api")


@blueprint.get("/engines")
def engines():
    """``{"engines": {"serial": "reana-workflow-engine-serial 0.9.6", ...}}``."""
    return jsonify({"engines": installed_engines()})
