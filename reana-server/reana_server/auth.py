"""Authentication by access token (REANA's ``?access_token=`` or ``Authorization: Bearer``)."""

from __future__ import annotations

from reana_db.crypto import token_digest
from reana_db.enums import UserTokenStatus
from reana_db.models import User, UserToken
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from reana_server.errors import Forbidden, NotSignedIn


def token_from(query_token: str | None, authorization: str | None) -> str | None:
    """The presented token: the query parameter wins, then a Bearer header."""
    if query_token:
        return query_token
    if authorization:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return None


_TOKEN_AND_USER = (
    select(UserToken.status, User)
    .join(User, User.id_ == UserToken.user_id)
    .where(UserToken.token_digest == bindparam("digest"))
)
"""Built once: every request runs it, and SQLAlchemy memoizes a statement's cache key."""


def authenticate(session: Session, token: str | None) -> User:
    """The user owning an active ``token``; raises with REANA's 401/403 messages."""
    if not token:
        raise NotSignedIn("User not signed in")
    # Every request pays for this: the token's status and its user in one query.
    row = session.execute(_TOKEN_AND_USER, {"digest": token_digest(token)}).first()
    if row is None:
        raise Forbidden("Token not valid.")
    status, user = row
    if status == UserTokenStatus.revoked:
        raise Forbidden("User access token revoked.")
    if status != UserTokenStatus.active:
        raise Forbidden("Token not valid.")
    return user
