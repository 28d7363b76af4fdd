"""Which workflow engines a deployment can start, and their versions.

Asked by the workflow controller (it starts the engines) for ``GET /engines`` of its
internal API; reana-server shows the answer in ``/api/info`` and refuses to create a run
of a type without an engine, naming the installed ones.
"""

from __future__ import annotations

import functools
import os
from importlib import metadata
from importlib.metadata import entry_points
from pathlib import Path

from reana_commons.config import Config, get_config
from reana_commons.workflow_types import (
    WORKFLOW_TYPE_TABLE,
    WorkflowType,
    engine_executable,
    engines_bin_dir,
)


def installed_engines(config: Config | None = None) -> dict[str, str]:
    """Workflow type -> its engine's version, for the types this deployment can run.

    On the ``kubernetes`` runtime an engine runs in its image (every type has one): the
    version is the image's name. On the ``local`` runtime a type is there when its engine's
    console script is (the services' venv, the engines' venv, ``PATH``).
    """
    config = config or get_config()
    if config.runtime == "kubernetes":
        return {t.name: f"image {getattr(config, t.image_setting, '?')}"
                for t in WORKFLOW_TYPE_TABLE}
    return dict(_local_engines(str(engines_bin_dir()), os.environ.get("PATH", "")))


@functools.cache
def _local_engines(_bin_dir: str, _path: str) -> tuple[tuple[str, str], ...]:
    """Looked up once per engines folder and PATH (the arguments are the cache's key)."""
    found = []
    for type_ in WORKFLOW_TYPE_TABLE:
        if entry_points(group="console_scripts", name=type_.engine_command):
            found.append((type_.name, _version(type_, None)))
            continue
        script = engine_executable(type_.engine_command)
        if script:
            found.append((type_.name, _version(type_, Path(script))))
    return tuple(found)


def _version(type_: WorkflowType, script: Path | None) -> str:
    """``<tool> <version>`` from this environment, or from the venv holding ``script``."""
    tool = type_.engine_tool
    if not tool:
        return "unknown version"
    try:
        if script is None:
            return f"{tool} {metadata.version(tool)}"
        venv = script.resolve().parent.parent
        paths = [str(p) for p in venv.glob("lib/python3*/site-packages")]
        for distribution in metadata.distributions(path=paths):
            if distribution.metadata["Name"].lower() == tool.lower():
                return f"{tool} {distribution.version}"
    except metadata.PackageNotFoundError:
        pass
    return f"{tool} (version unknown)"


def forget() -> None:
    """Look again next time (after engines were installed or removed)."""
    _local_engines.cache_clear()
