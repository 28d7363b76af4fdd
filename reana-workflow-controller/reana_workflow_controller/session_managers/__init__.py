"""Registry of interactive-session managers, loaded lazily by name (``REANA_RUNTIME``)."""

from __future__ import annotations

import importlib

from reana_workflow_controller.session_managers.base import (
    SessionManager,
    SessionManagerError,
    SessionRequest,
)

SESSION_MANAGERS = {
    "local": "reana_workflow_controller.session_managers.local:LocalSessionManager",
    "kubernetes": "reana_workflow_controller.session_managers.kubernetes:"
                  "KubernetesSessionManager",
}
"""Name → ``module:class``; each runtime of :mod:`..run_managers` has its session manager."""

_instances: dict[str, SessionManager] = {}


def get_session_manager(name: str | None = None) -> SessionManager:
    """The session manager called ``name`` (default: the configured runtime's)."""
    if name is None:
        from reana_commons.config import get_config

        name = get_config().runtime
    if name not in _instances:
        if name not in SESSION_MANAGERS:
            raise SessionManagerError(f"Interactive sessions are not available on runtime "
                                      f"{name!r}.")
        module, _, cls = SESSION_MANAGERS[name].partition(":")
        _instances[name] = getattr(importlib.import_module(module), cls)()
    return _instances[name]


def reset_session_managers() -> None:
    """Forget the instances (tests change the configuration)."""
    _instances.clear()


__all__ = ["SESSION_MANAGERS", "SessionManager", "SessionManagerError", "SessionRequest",
           "get_session_manager", "reset_session_managers"]
