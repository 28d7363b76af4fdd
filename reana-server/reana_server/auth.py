"""Authentication by access token (REANA's ``?access_token=`` or ``Authorization: Bearer``;
on the WES API also HTTP Basic with the token as password)."""

from __future__ import annotations

import base64
import binascii

from reana_db.crypto import token_digest
from reana_db.enums import UserTokenStatus
from reana_db.models import User, UserResource, UserToken
from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session

from reana_server.errors import Forbidden, NotSignedIn


def token_from(query_token: str | None, authorization: str | None,
               basic: bool = False) -> str | None:
    """The presented token: the query parameter wins, then a Bearer header, then (``basic``)
    the password of an HTTP Basic header (the stock ``wes-client`` sends only that)."""
    if query_token:
        return query_token
    if authorization:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        if basic and scheme.lower() == "basic" and value.strip():
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None
            password = decoded.partition(":")[2]
            return password or None
    return None


_QUOTA_USED_UP = (
    exists()
    .where(
        UserResource.user_id == UserToken.user_id,
        UserResource.quota_limit > 0,
        UserResource.quota_used >= UserResource.quota_limit,
    )
    .label("quota_used_up")
)

_TOKEN_AND_USER = (
    select(UserToken.status, User, _QUOTA_USED_UP)
    .join(User, User.id_ == UserToken.user_id)
    .where(UserToken.token_digest == bindparam("digest"))
)
"""Built once: every request runs it, and SQLAlchemy memoizes a statement's cache key.

Whether the user has used up a limited resource comes along: creating and
starting a run must check it, and one query fewer per request is worth an
EXISTS on the user's few quota rows.
"""


def authenticate(session: Session, token: str | None) -> tuple[User, bool]:
    """The user owning an active ``token`` and whether their quota is used up.

    Raises with REANA's 401/403 messages.
    """
    if not token:
        raise NotSignedIn("User not signed in")
    return authenticate_digest(session, token_digest(token))


def authenticate_digest(session: Session, digest: str) -> tuple[User, bool]:
    """:func:`authenticate` for a token known by its digest (a web UI session's)."""
    # Every request pays for this: the token's status and its user in one query.
    row = session.execute(_TOKEN_AND_USER, {"digest": digest}).first()
    if row is None:
        raise Forbidden("Token not valid.")
    status, user, quota_used_up = row
    if status == UserTokenStatus.revoked:
        raise Forbidden("User access token revoked.")
    if status != UserTokenStatus.active:
        raise Forbidden("Token not valid.")
    return user, bool(quota_used_up)
