"""User secrets, stored encrypted with ``REANA_SECRET_KEY`` (REANA keeps them in k8s).

Values are bytes (the API decodes REANA's base64); ``type_`` says whether jobs
get the secret as an environment variable (``env``) or a file (``file``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from reana_db.crypto import decrypt, encrypt
from reana_db.enums import SecretType
from reana_db.models import User, UserSecret


class SecretsAlreadyExist(ValueError):
    """Some secrets exist already and overwriting was not asked for."""

    def __init__(self, names: list[str]):
        self.names = names
        super().__init__(
            "Operation cancelled. Secret {} already exists. "
            "If you want to change it use overwrite.".format(", ".join(names))
        )


def list_secrets(session: Session, user: User) -> list[UserSecret]:
    """The user's secrets (values stay encrypted), sorted by name."""
    return list(
        session.scalars(
            select(UserSecret).where(UserSecret.user_id == user.id_).order_by(UserSecret.name)
        )
    )


def add_secrets(
    session: Session,
    user: User,
    secrets: Mapping[str, tuple[bytes | str, SecretType | str]],
    overwrite: bool = False,
) -> list[UserSecret]:
    """Store ``{name: (value, type)}``; raises :class:`SecretsAlreadyExist` unless ``overwrite``."""
    existing = {s.name: s for s in list_secrets(session, user)}
    clashes = sorted(name for name in secrets if name in existing)
    if clashes and not overwrite:
        raise SecretsAlreadyExist(clashes)
    stored = []
    for name, (value, type_) in secrets.items():
        row = existing.get(name) or UserSecret(user_id=user.id_, name=name)
        row.type_ = SecretType(type_)
        row.value_encrypted = encrypt(value)
        session.add(row)
        stored.append(row)
    session.flush()
    return stored


def delete_secrets(
    session: Session, user: User, names: Iterable[str]
) -> tuple[list[str], list[str]]:
    """Delete the named secrets; returns ``(deleted, missing)`` (REANA answers 404 with missing)."""
    existing = {s.name: s for s in list_secrets(session, user)}
    deleted, missing = [], []
    for name in names:
        if name in existing:
            session.delete(existing.pop(name))
            deleted.append(name)
        else:
            missing.append(name)
    session.flush()
    return deleted, missing


def secret_value(secret: UserSecret) -> bytes:
    """The plain value of a stored secret."""
    return decrypt(secret.value_encrypted)


def secret_values(session: Session, user: User) -> dict[str, tuple[SecretType, bytes]]:
    """Every secret of the user in plain form, for the run manager that injects them."""
    return {s.name: (SecretType(s.type_), secret_value(s)) for s in list_secrets(session, user)}
