"""Web UI accounts: email + password sign-in, registration, and who a session cookie names.

A browser session (a signed cookie, see :mod:`reana_server.api.accounts`) remembers
how its user signed in: with an access token (``via="token"``, ``key`` = the token's
digest) or with a password (``via="password"``, ``key`` = a stamp of the password
hash). Each request checks that again, so revoking the token or changing the
password ends the session at once. Nothing here imports Flask.
"""

from __future__ import annotations

import hashlib
import uuid

from reana_db.crypto import token_digest
from reana_db.enums import UserTokenStatus
from reana_db.models import User
from reana_db.quota import has_exceeded_quota
from reana_db.users import create_user
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from reana_server.auth import authenticate, authenticate_digest
from reana_server.errors import BadRequest, Forbidden, NotSignedIn

MIN_PASSWORD_LENGTH = 8
_DUMMY_HASH = generate_password_hash("not a password of anyone")
"""Checked when the email is unknown, so an answer's timing does not tell which emails exist."""

NO_ACTIVE_TOKEN = ("You have no active access token yet: request one on your profile page; "
                   "an administrator grants it.")
SESSION_ENDED = "Your session has ended. Please sign in again."


def password_stamp(user: User) -> str:
    """A short digest of the stored password hash: a new password ends older sessions."""
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:32]


def sign_in_with_token(session: Session, token: str) -> dict:
    """What a session stores after a token sign-in (403 with REANA's messages otherwise)."""
    user, _ = authenticate(session, token)
    return {"uid": str(user.id_), "via": "token", "key": token_digest(token)}


def sign_in_with_password(session: Session, email: str, password: str) -> dict:
    """What a session stores after an email + password sign-in (401 when they do not match)."""
    user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    stored = user.password_hash if user is not None and user.password_hash else None
    if not check_password_hash(stored or _DUMMY_HASH, password) or stored is None:
        raise NotSignedIn("Invalid email or password.")
    return {"uid": str(user.id_), "via": "password", "key": password_stamp(user)}


def register(session: Session, email: str, password: str, full_name: str | None) -> User:
    """A new local account without an access token (flushed, not committed)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadRequest(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    email = email.strip()
    taken = session.scalar(select(User.id_).where(func.lower(User.email) == email.lower()))
    if taken is not None:
        raise BadRequest(f"A user with the email {email} already exists.")
    user, _ = create_user(session, email, full_name=full_name or email, with_token=False)
    user.password_hash = generate_password_hash(password)
    session.flush()
    return user


def session_user(session: Session, stored: dict, needs_token: bool) -> tuple[User, bool]:
    """The user a browser session names and whether their quota is used up.

    ``stored`` is what :func:`sign_in_with_token` / :func:`sign_in_with_password`
    returned. A token session ends (401) when its token is no longer the user's,
    and says so (403) when it was revoked, as a token request would. A password
    session may read the profile without a token (``needs_token=False``); every
    other request needs the user's active token, as in REANA.
    """
    try:
        user_id = uuid.UUID(str(stored.get("uid")))
    except ValueError:
        raise NotSignedIn(SESSION_ENDED) from None
    user = session.get(User, user_id)
    if user is None:
        raise NotSignedIn(SESSION_ENDED)
    if stored.get("via") == "token":
        token_user, used_up = _token_by_digest(session, stored.get("key"))
        if token_user.id_ != user.id_:
            raise NotSignedIn(SESSION_ENDED)
        return user, used_up
    if stored.get("via") != "password" or stored.get("key") != password_stamp(user) \
            or not user.password_hash:
        raise NotSignedIn(SESSION_ENDED)
    if needs_token:
        statuses = {token.status for token in user.tokens}
        if UserTokenStatus.active not in statuses:
            if UserTokenStatus.revoked in statuses:
                raise Forbidden("User access token revoked.")
            raise Forbidden(NO_ACTIVE_TOKEN)
    return user, has_exceeded_quota(session, user)[0]


def _token_by_digest(session: Session, digest) -> tuple[User, bool]:
    if not isinstance(digest, str):
        raise NotSignedIn(SESSION_ENDED)
    return authenticate_digest(session, digest)
