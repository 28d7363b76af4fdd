"""The workflow engines the deployment can run, as its workflow controller reports them.

Asked over the controller's internal API (``GET /api/engines``) and kept for
:data:`CACHE_SECONDS`, so creating a run costs no extra request in the common case.
"""

from __future__ import annotations

import logging
import threading
import time

from reana_commons.api_clients import WorkflowControllerClient, WorkflowControllerUnavailable
from reana_db.creation import InvalidRunRequest

log = logging.getLogger(__name__)

CACHE_SECONDS = 30.0
_cache: dict[str, tuple[float, dict[str, str]]] = {}
_lock = threading.Lock()


def installed(client: WorkflowControllerClient) -> dict[str, str] | None:
    """Workflow type -> engine version; None when the controller cannot say right now."""
    with _lock:
        cached = _cache.get(client.base_url)
        if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
    try:
        response = client.get_engines()
        engines = response.json()["engines"] if response.status_code == 200 else None
    except (WorkflowControllerUnavailable, ValueError, KeyError, TypeError) as error:
        log.warning("could not ask the workflow controller for its engines: %s", error)
        return None
    if not isinstance(engines, dict):
        return None
    with _lock:
        _cache[client.base_url] = (time.monotonic(), engines)
    return engines


def describe(engines: dict[str, str]) -> list[str]:
    """``["serial (reana-workflow-engine-serial 0.9.6)", ...]``."""
    return [f"{name} ({version})" for name, version in engines.items()]


def check_engine(type_: str, engines: dict[str, str] | None) -> None:
    """Refuse a run of a type whose engine is not installed (unknown: let it through)."""
    if engines is None or type_ in engines:
        return
    listed = ", ".join(describe(engines)) or "none"
    raise InvalidRunRequest(
        f"No {type_} workflow engine is installed in this deployment. "
        f"Installed workflow engines: {listed}.")
