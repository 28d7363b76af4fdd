"""Authentication by access token (REANA's ``?access_token=`` or ``Authorization: Bearer``)."""

from __future__ import annotations

from reana_db.enums import UserTokenStatus
from reana_db.models import User
from reana_db.users import find_token
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


def authenticate(session: Session, token: str | None) -> User:
    """The user owning an active ``token``; raises with REANA's 401/403 messages."""
    if not token:
        raise NotSignedIn("User not signed in")
    row = find_token(session, token)
    if row is None:
        raise Forbidden("Token not valid.")
    if row.status == UserTokenStatus.revoked:
        raise Forbidden("User access token revoked.")
    if row.status != UserTokenStatus.active:
        raise Forbidden("Token not valid.")
    return row.user
