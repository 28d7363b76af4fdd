"""Users and their access tokens."""

from __future__ import annotations

from reana_commons.config import get_config
from sqlalchemy import select
from sqlalchemy.orm import Session

from reana_db.crypto import decrypt, encrypt, new_access_token, token_digest
from reana_db.enums import (
    AuditLogAction,
    ResourceType,
    ResourceUnit,
    UserTokenStatus,
)
from reana_db.models import AuditLog, Resource, User, UserResource, UserToken

DEFAULT_RESOURCES = (
    ("processing time", ResourceType.cpu, ResourceUnit.milliseconds, "CPU"),
    ("shared storage", ResourceType.disk, ResourceUnit.bytes_, "Shared storage"),
)


def ensure_default_resources(session: Session) -> dict[ResourceType, Resource]:
    """Create the CPU and disk resources if missing; returns them by type."""
    found = {r.type_: r for r in session.scalars(select(Resource))}
    for name, type_, unit, title in DEFAULT_RESOURCES:
        if type_ not in found:
            resource = Resource(name=name, type_=type_, unit=unit, title=title)
            session.add(resource)
            found[type_] = resource
    session.flush()
    return found


def create_user(
    session: Session,
    email: str,
    full_name: str | None = None,
    username: str | None = None,
    with_token: bool = True,
) -> tuple[User, str | None]:
    """Create a user with default quotas and, optionally, an active token.

    Returns ``(user, token)``; the token's plain value exists only here and in
    its encrypted copy. Raises ``ValueError`` if the email is taken.
    """
    if session.scalar(select(User).where(User.email == email)) is not None:
        raise ValueError(f"User {email} already exists.")
    user = User(email=email, full_name=full_name or email, username=username or email)
    session.add(user)
    session.flush()
    config = get_config()
    limits = {
        ResourceType.cpu: config.default_quota_cpu_limit,
        ResourceType.disk: config.default_quota_disk_limit,
    }
    for type_, resource in ensure_default_resources(session).items():
        session.add(
            UserResource(user_id=user.id_, resource_id=resource.id_, quota_limit=limits[type_])
        )
    token = grant_token(session, user) if with_token else None
    return user, token


def grant_token(session: Session, user: User, token: str | None = None) -> str:
    """Give ``user`` a new active token (revoking none); returns its value."""
    token = token or new_access_token()
    session.add(
        UserToken(
            user_id=user.id_,
            token_digest=token_digest(token),
            token_encrypted=encrypt(token),
            status=UserTokenStatus.active,
        )
    )
    session.add(
        AuditLog(user_id=user.id_, action=AuditLogAction.grant_token, details={})
    )
    session.flush()
    return token


def revoke_tokens(session: Session, user: User) -> int:
    """Revoke every active token of ``user``; returns how many."""
    count = 0
    for token in user.tokens:
        if token.status == UserTokenStatus.active:
            token.status = UserTokenStatus.revoked
            count += 1
    session.add(AuditLog(user_id=user.id_, action=AuditLogAction.revoke_token, details={}))
    session.flush()
    return count


def find_token(session: Session, token: str) -> UserToken | None:
    """The token row for a presented token value, whatever its status."""
    return session.scalar(select(UserToken).where(UserToken.token_digest == token_digest(token)))


def token_value(token: UserToken) -> str:
    """The plain value of a stored token."""
    return decrypt(token.token_encrypted).decode()
