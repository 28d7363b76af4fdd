"""Registry of run managers, loaded lazily by name (``REANA_RUNTIME`` selects one)."""

from __future__ import annotations

import importlib
import logging

from reana_workflow_controller.run_managers.base import RunManager, RunManagerError

RUN_MANAGERS = {
    "local": "reana_workflow_controller.run_managers.local:LocalRunManager",
    "kubernetes": "reana_workflow_controller.run_managers.kubernetes:KubernetesRunManager",
}
"""Name → ``module:class``; a new runtime registers itself here."""

_instances: dict[str, RunManager] = {}
log = logging.getLogger(__name__)


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


def end_cause_of(runtime: str | None, handle: dict | None) -> str | None:
    """:meth:`RunManager.end_cause` of a run, None when its runtime cannot answer.

    The status writer asks inside its transaction: a runtime that is
    unreachable must not hold back the statuses of other runs, so any error
    means "no cause known" (the engine's own words stay the run's only reason).
    """
    if not runtime or not handle:
        return None
    try:
        return get_run_manager(runtime).end_cause(handle)
    except Exception as error:  # noqa: BLE001 - the cause is a bonus, the status is not
        log.warning("could not ask runtime %s why a run ended: %s", runtime, error)
        return None


def reset_run_managers() -> None:
    """Forget the instances (tests change the configuration between runs)."""
    _instances.clear()


__all__ = ["RUN_MANAGERS", "RunManager", "RunManagerError", "end_cause_of", "get_run_manager",
           "reset_run_managers"]
