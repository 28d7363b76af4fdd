"""Pieces every manifest of the platform shares (plain dicts in the API's JSON shape)."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from reana_commons.config import get_config

SHARED_VOLUME_NAME = "reana-shared-volume"
SECRETS_VOLUME_NAME = "reana-secretsstore"
VALIDATION_VERSION = "1.30"
"""Kubernetes version whose OpenAPI schemas the tests validate every manifest against."""
_SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


class ManifestError(ValueError):
    """A manifest cannot be built from the request (the message says why)."""


def shared_volume() -> dict:
    """The shared workspace volume: the shared PVC (``network``) or a hostPath."""
    config = get_config()
    if config.storage_backend == "network":
        return {"name": SHARED_VOLUME_NAME,
                "persistentVolumeClaim": {"claimName": config.shared_pvc_name}}
    return {"name": SHARED_VOLUME_NAME,
            "hostPath": {"path": str(config.shared_volume_path), "type": "Directory"}}


def workspace_mount(workspace: str | Path) -> dict:
    """Mount of one workspace at its own absolute path (subPath of the shared volume)."""
    root = get_config().shared_volume_path
    path = Path(workspace)
    try:
        relative = path.relative_to(root)
    except ValueError:
        raise ManifestError(f"Workspace {path} is not inside {root}.") from None
    if ".." in relative.parts or not relative.parts:
        raise ManifestError(f"Workspace {path} is not a folder of {root}.")
    return {"name": SHARED_VOLUME_NAME, "mountPath": str(path), "subPath": str(relative)}


def node_selector(label: str) -> dict | None:
    """``"k=v,k2=v2"`` (REANA's node label setting) as a nodeSelector, or None."""
    selector = {}
    for pair in (label or "").split(","):
        if pair.strip():
            key, sep, value = pair.partition("=")
            if not sep:
                raise ManifestError(f"Node label {pair!r} is not key=value.")
            selector[key.strip()] = value.strip()
    return selector or None


def image_pull_secrets() -> list[dict] | None:
    """``IMAGE_PULL_SECRETS`` as the pod's imagePullSecrets, or None."""
    names = get_config().image_pull_secrets
    return [{"name": name} for name in names] or None


def env_list(values: dict) -> list[dict]:
    """``{"A": "1"}`` as a container's env list (values as strings)."""
    return [{"name": str(k), "value": str(v)} for k, v in values.items()]


def user_secret_name(user_id) -> str:
    """REANA's per-user Secret: ``reana-secretsstore-<user uuid>``."""
    return f"{get_config().component_prefix}-secretsstore-{user_id}"


def user_secret(user_id, secrets: list[tuple[str, str, bytes]], labels: dict) -> dict:
    """The user's Secret from ``(name, type, value)`` rows (env and file secrets)."""
    data = {}
    for name, _type, value in secrets:
        if not _SECRET_KEY.match(name):
            raise ManifestError(f"Secret name {name!r} is not a valid Kubernetes key.")
        data[name] = base64.b64encode(value).decode()
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": user_secret_name(user_id), "labels": labels},
        "type": "Opaque",
        "data": data,
    }


def user_secret_env(user_id, secrets: list[tuple[str, str, bytes]]) -> list[dict]:
    """Env entries (``secretKeyRef``) for the user's env secrets."""
    name = user_secret_name(user_id)
    return [
        {"name": key, "valueFrom": {"secretKeyRef": {"name": name, "key": key}}}
        for key, type_, _ in secrets if type_ != "file"
    ]


def user_secret_volume(user_id, secrets: list[tuple[str, str, bytes]]) -> tuple[dict, dict] | None:
    """``(volume, mount)`` of the user's file secrets (read-only), or None when there are none."""
    files = [key for key, type_, _ in secrets if type_ == "file"]
    if not files:
        return None
    volume = {
        "name": SECRETS_VOLUME_NAME,
        "secret": {"secretName": user_secret_name(user_id), "defaultMode": 0o400,
                   "items": [{"key": key, "path": key} for key in files]},
    }
    mount = {"name": SECRETS_VOLUME_NAME, "mountPath": get_config().user_secret_mount_path,
             "readOnly": True}
    return volume, mount


def prune(value):
    """Drop ``None`` values and empty dicts/lists (the API's omitempty)."""
    if isinstance(value, dict):
        pruned = {k: prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v is not None and v != {} and v != []}
    if isinstance(value, list):
        return [prune(v) for v in value]
    return value
