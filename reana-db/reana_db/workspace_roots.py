"""Where a new run's workspace may live: ``workspace.root_path``, checked once for every creator.

A run's workspace is ``<root>/users/<user>/workflows/<run>``; ``<root>`` is the
shared volume unless the reana.yaml asks for another ``workspace.root_path``.
Whoever creates runs (reana-server's ``POST /api/workflows`` and
``/api/launch``, the workflow controller's internal API) goes through
:func:`workspace_root` and :func:`make_workspace`, so the rules hold everywhere:

- the root is resolved to its real path (symbolic links followed, ``..``
  removed), and only then compared with the allowed roots (the shared volume
  and the operator's ``workspaces_available``): a symlink a job made inside its
  workspace cannot point a new run at ``/`` or at another user's files;
- it never lies in a ``users`` tree below an allowed root (where every
  workspace lives), in the platform's ``.reana`` folder of the shared volume
  (the live job logs, ADR 0026), nor inside any stored run's workspace;
- the directories are created by walking down from the allowed root with
  ``O_NOFOLLOW``, so a component replaced by a symlink after the check makes
  the creation fail instead of landing elsewhere.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from reana_commons.config import Config, get_config
from reana_commons.errors import WorkspacePathError
from reana_commons.live_logs import LIVE_LOGS_FOLDER
from reana_commons.workspace.paths import open_real_dir
from sqlalchemy import select
from sqlalchemy.orm import Session

from reana_db.models import Workflow

USERS_DIRECTORY = "users"


class InvalidWorkspaceRoot(ValueError):
    """The requested ``workspace.root_path`` is refused (the message says why)."""


def available_roots(config: Config | None = None) -> list[Path]:
    """Real paths of the roots a workspace may live under: the shared volume first."""
    config = config or get_config()
    extra = (config.extra or {}).get("workspaces_available") or []
    roots: list[Path] = []
    for root in [config.shared_volume_path, *extra]:
        real = Path(os.path.realpath(os.fspath(root)))
        if real not in roots:
            roots.append(real)
    return roots


def requested_root(specification) -> str | None:
    """``workspace.root_path`` of a reana.yaml (as a dict), ``None`` when not set.

    Raises :class:`InvalidWorkspaceRoot` when ``workspace`` is not a mapping or
    the root is not a string.
    """
    if not isinstance(specification, dict):
        return None
    workspace = specification.get("workspace")
    if workspace is None:
        return None
    if not isinstance(workspace, dict):
        raise InvalidWorkspaceRoot("The specification's 'workspace' must be a mapping.")
    root = workspace.get("root_path")
    if root is None or root == "":
        return None
    if not isinstance(root, str):
        raise InvalidWorkspaceRoot("workspace.root_path must be a string (an absolute path).")
    return root


def _refusal(requested: str, available: list[Path], why: str) -> InvalidWorkspaceRoot:
    return InvalidWorkspaceRoot(
        f"Desired workspace {requested} is not valid: {why}. "
        f"Please use one of: {', '.join(map(str, available))}."
    )


def _inside_a_workspace(session: Session, paths: list[Path]) -> bool:
    """Whether one of ``paths`` or one of their ancestors is a stored run's workspace."""
    candidates = {str(p) for path in paths for p in (path, *path.parents)}
    found = session.scalar(
        select(Workflow.id_).where(Workflow.workspace_path.in_(sorted(candidates))).limit(1)
    )
    return found is not None


def workspace_root(
    session: Session, requested: str | None, config: Config | None = None
) -> tuple[Path, Path]:
    """``(allowed root, real root)`` under which a new run's workspace is made.

    ``requested`` is ``workspace.root_path`` (or the internal API's
    ``workspace_root_path``); ``None`` means the shared volume. Raises
    :class:`InvalidWorkspaceRoot` with the reason when it is refused.
    """
    available = available_roots(config)
    if not requested:
        return available[0], available[0]
    if not isinstance(requested, str) or "\x00" in requested:
        raise _refusal(repr(requested), available, "it must be an absolute path")
    if not os.path.isabs(requested):
        raise _refusal(requested, available, "it must be an absolute path")
    real = Path(os.path.realpath(requested))
    allowed = next((a for a in available if real == a or a in real.parents), None)
    if allowed is None:
        raise _refusal(requested, available, "it is not below an available workspace")
    if USERS_DIRECTORY in real.relative_to(allowed).parts:
        raise _refusal(
            requested, available, f"it lies in the '{USERS_DIRECTORY}' tree of the workspaces"
        )
    platform = available[0] / LIVE_LOGS_FOLDER[0]
    if real == platform or platform in real.parents:
        raise _refusal(requested, available, "it lies in the platform's own folder")
    if _inside_a_workspace(session, [real, Path(os.path.normpath(requested))]):
        raise _refusal(requested, available, "it lies inside the workspace of another run")
    return allowed, real


def workspace_path(root: Path, user_id: uuid.UUID, workflow_id: uuid.UUID) -> Path:
    """``<root>/users/<user uuid>/workflows/<workflow uuid>`` (REANA's layout)."""
    return Path(root) / USERS_DIRECTORY / str(user_id) / "workflows" / str(workflow_id)


def make_workspace(allowed: Path, workspace: Path) -> None:
    """Create ``workspace`` (and missing parents) walking down from ``allowed`` without links.

    Raises :class:`InvalidWorkspaceRoot` when a component is (or became) a
    symbolic link or a file.
    """
    allowed.mkdir(parents=True, exist_ok=True)  # the operator's root, made on first use
    try:
        with open_real_dir(str(allowed), str(workspace), create=True):
            pass
    except WorkspacePathError as error:
        raise InvalidWorkspaceRoot(
            f"The workspace {workspace} cannot be created: {error.message}"
        ) from error
