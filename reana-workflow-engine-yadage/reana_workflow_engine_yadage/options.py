"""REANA's operational options for yadage, resolved against the run's workspace.

REANA accepts ``toplevel``, ``initdir``, ``initfiles`` and ``accept_metadir``
for yadage runs and makes the paths absolute in the workspace
(``reana_commons.workflow_engine.load_yadage_operational_options``):
``toplevel`` is where yadage resolves the workflow file and its ``$ref``s
(default: the workspace; ``github:...`` is left as it is), ``initdir`` is where
relative ``init`` paths point (default: the workspace), ``initfiles`` are YAML
files whose mappings are ``init`` data (the run's parameters override them),
``accept_metadir`` lets a run reuse an existing ``_yadage`` directory (a
restart: restarts share the workspace). Here every path must stay inside the
workspace, and a bad value fails the run with a message saying which.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import yaml

REMOTE_TOPLEVEL_PREFIXES = ("github:", "gitlab-cern:", "http://", "https://")


class OptionError(ValueError):
    """An operational option that cannot be used (the message says why)."""


@dataclass
class YadageOptions:
    toplevel: str
    initdir: str
    initfiles: list[str] = field(default_factory=list)
    accept_metadir: bool = False


def inside(workspace: str, relative, option: str) -> str:
    """``workspace/relative`` as an absolute path, refused when it leaves the workspace."""
    if not isinstance(relative, str):
        raise OptionError(f'Operational option "{option}" must be a path, not {relative!r}.')
    root = os.path.realpath(workspace)
    path = os.path.realpath(os.path.join(root, relative))
    if path != root and not path.startswith(root + os.sep):
        raise OptionError(
            f'Operational option "{option}" must name a path inside the workspace: {relative!r}.')
    return path


def truthy(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "no", "off")
    return bool(value)


def resolve_options(workspace: str, options: dict | None) -> YadageOptions:
    """The yadage options of a run (``options`` as the engine received them)."""
    options = {str(k).lower(): v for k, v in (options or {}).items()}
    toplevel = options.get("toplevel") or ""
    if isinstance(toplevel, str) and toplevel.startswith(REMOTE_TOPLEVEL_PREFIXES):
        resolved_toplevel = toplevel
    else:
        resolved_toplevel = inside(workspace, toplevel, "toplevel")
    initfiles = options.get("initfiles") or []
    if isinstance(initfiles, str):
        initfiles = [initfiles]
    if not isinstance(initfiles, list):
        raise OptionError('Operational option "initfiles" must be a list of files.')
    return YadageOptions(
        toplevel=resolved_toplevel,
        initdir=inside(workspace, options.get("initdir") or "", "initdir"),
        initfiles=[inside(workspace, name, "initfiles") for name in initfiles],
        accept_metadir=truthy(options.get("accept_metadir", False)),
    )


def init_data(options: YadageOptions, parameters: dict | None, workspace: str) -> dict:
    """The workflow's ``init`` data: the init files' mappings, then the run's parameters."""
    data: dict = {}
    for path in options.initfiles:
        shown = os.path.relpath(path, workspace)
        try:
            with open(path) as stream:
                content = yaml.safe_load(stream)
        except FileNotFoundError as error:
            raise OptionError(f"Init file {shown} does not exist.") from error
        except yaml.YAMLError as error:
            raise OptionError(f"Init file {shown} is not valid YAML: {error}") from error
        if content is None:
            continue
        if not isinstance(content, dict):
            raise OptionError(f"Init file {shown} must hold a mapping of parameters.")
        data.update(content)
    data.update(parameters or {})
    return data
