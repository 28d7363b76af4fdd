"""Registry of run managers, loaded lazily by name (``REANA_RUNTIME`` selects one)."""

from __future__ import annotations

import importlib

from reana_workflow_controller.run_managers.base import RunManager, RunManagerError

RUN_MANAGERS = {
    "local": "reana_workflow_controller.run_managers.local:LocalRunManager",
    "kubernetes": "reana_workflow_controller.run_managers.kubernetes:KubernetesRunManager",
}
"""Name → ``module:class``; a new runtime registers itself here."""

_instances: dict[str, RunManager] = {}


def get_run_manager(name: str | None = None) -> RunManager:
    """The run manager called ``name`` (default: the configured runtime)."""
    if name is None:
        from reana_commons.config import get_config

        name = get_config().runtime
    if name not in _instances:
        if name not in RUN_MANAGERS:
            raise RunManagerError(f"Unknown runtime {name!r}.")
        module, _, cls = RUN_MANAGERS[name].partition(":")
        _instances[name] = getattr(importlib.import_module(module), cls)()
    return _instances[name]


def reset_run_managers() -> None:
    """Forget the instances (tests change the configuration between runs)."""
    _instances.clear()


__all__ = ["RUN_MANAGERS", "RunManager", "RunManagerError", "get_run_manager", "reset_run_managers"]
