"""User secrets, stored encrypted with ``REANA_SECRET_KEY`` (REANA keeps them in Kubernetes)."""

from __future__ import annotations

import base64
import binascii
import re

from reana_commons.config import get_config
from reana_db.crypto import encrypt
from reana_db.enums import SecretType
from reana_db.models import User, UserSecret
from sqlalchemy import select
from sqlalchemy.orm import Session

from reana_server.errors import ArrayError, BadRequest, Conflict, Forbidden

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FILE_NAME = re.compile(r"^[A-Za-z0-9._-]+$")


def list_secrets(session: Session, user: User) -> list[dict]:
    """``[{"name", "type"}]`` of the user's secrets, by name."""
    rows = session.scalars(
        select(UserSecret).where(UserSecret.user_id == user.id_).order_by(UserSecret.name)
    )
    return [{"name": s.name, "type": SecretType(s.type_).value} for s in rows]


def _check(name: str, secret: dict) -> None:
    pattern = _ENV_NAME if secret["type"] == "env" else _FILE_NAME
    if not pattern.match(name) or name in (".", ".."):
        raise BadRequest(f"Secret name {name} is not valid for a secret of type {secret['type']}.")
    try:
        base64.b64decode(secret["value"], validate=True)
    except (binascii.Error, ValueError) as error:
        raise BadRequest(f"Secret {name} value is not valid base64.") from error


def add_secrets(session: Session, user: User, secrets: dict, overwrite: bool) -> None:
    """Add (or, with ``overwrite``, replace) secrets; 409 when one exists and nothing is added."""
    for name, secret in secrets.items():
        _check(name, secret)
    existing = {
        s.name: s for s in session.scalars(select(UserSecret).where(UserSecret.user_id == user.id_))
    }
    clashes = sorted(name for name in secrets if name in existing)
    if clashes and not overwrite:
        raise Conflict(f"Operation cancelled. Secret {', '.join(clashes)} already exists.")
    limit = get_config().max_secrets_per_user
    added = sum(1 for name in secrets if name not in existing)
    if len(existing) + added > limit:
        raise Forbidden(
            f"A user can hold at most {limit} secrets (REANA_MAX_SECRETS_PER_USER): you have "
            f"{len(existing)} and are adding {added}."
        )
    for name, secret in secrets.items():
        value = encrypt(base64.b64decode(secret["value"]))
        row = existing.get(name)
        if row is None:
            session.add(
                UserSecret(
                    user_id=user.id_,
                    name=name,
                    type_=SecretType(secret["type"]),
                    value_encrypted=value,
                )
            )
        else:
            row.type_ = SecretType(secret["type"])
            row.value_encrypted = value
    session.flush()


def delete_secrets(session: Session, user: User, names: list[str]) -> list[str]:
    """Delete the named secrets; all must exist (404 with the missing names as an array)."""
    rows = {
        s.name: s for s in session.scalars(select(UserSecret).where(UserSecret.user_id == user.id_))
    }
    missing = [name for name in names if name not in rows]
    if missing:
        raise ArrayError(404, missing)
    for name in names:
        session.delete(rows[name])
    session.flush()
    return list(names)
