"""Who may reach an interactive session at ``/<workflow uuid>/``: its owner, nobody else.

The URL reana-client prints is ``<server>/<workflow uuid>?token=<the user's access token>``
(REANA's). A request is let through when it presents

* the owner's active access token (``?token=``, ``?access_token=``, or an
  ``Authorization: token|Bearer`` header), or the session's own secret (what Jupyter's
  pages send back), or
* the session cookie the proxy set on an earlier such request: an HMAC of the session's id
  and owner under ``REANA_SECRET_KEY``, valid for that session only (a reopened session
  has a new id), scoped to the session's path, ``HttpOnly`` and ``SameSite=Strict`` (a
  page of another site cannot make the browser use it, which stands in for Jupyter's own
  XSRF check, bypassed since the proxy authenticates to Jupyter with the secret).

Any other token is refused (403), even alongside a valid cookie; nothing at all is 401.
The Jupyter server itself accepts only the session's secret, which the proxy presents.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass

from reana_db.sessions import open_session_of
from sqlalchemy.orm import Session

from reana_server.auth import authenticate
from reana_server.errors import Forbidden, NotFound, NotSignedIn

COOKIE = "reana-session"
TOKEN_PARAMETERS = ("token", "access_token")
"""Query parameters that carry credentials: checked here, never passed to Jupyter."""


@dataclass(frozen=True)
class Target:
    """An open session the proxy can reach."""

    session_id: uuid.UUID
    workflow_id: uuid.UUID
    owner_id: uuid.UUID
    endpoint: str
    base_url: str
    secret: str

    @property
    def path(self) -> str:
        return f"/{self.workflow_id}/"


def find_target(session: Session, workflow_id: uuid.UUID) -> Target | None:
    """The run's open session, if its server was started (it has an endpoint)."""
    opened = open_session_of(session, workflow_id)
    if opened is None or not opened.handle.get("endpoint"):
        return None
    return Target(session_id=opened.id_, workflow_id=opened.workflow_id,
                  owner_id=opened.owner_id, endpoint=opened.handle["endpoint"],
                  base_url=opened.handle.get("base_url") or f"/{workflow_id}/",
                  secret=opened.secret)


def cookie_value(secret_key: str, target: Target) -> str:
    """The session cookie of ``target`` (the same for every request of that session)."""
    message = f"reana-session:{target.session_id}:{target.owner_id}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def presented_tokens(query: dict, authorization: str | None) -> list[str]:
    """Every credential a request presents (query parameters, ``Authorization`` header)."""
    tokens = [query[name] for name in TOKEN_PARAMETERS if query.get(name)]
    if authorization:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() in ("token", "bearer") and value.strip():
            tokens.append(value.strip())
    return tokens


def admit(session: Session, workflow_id: uuid.UUID, tokens: list[str], cookie: str | None,
          secret_key: str) -> tuple[Target, bool]:
    """The session to serve, and whether to (re)set its cookie; else REANA's 401/403/404.

    Without a session, a presented token is still checked first (a stranger learns
    nothing from the answer but "token not valid" or "no session").
    """
    if not tokens and not cookie:
        raise NotSignedIn("User not signed in")
    target = find_target(session, workflow_id)
    owners = set()
    for token in tokens:
        if target is not None and hmac.compare_digest(token, target.secret):
            owners.add(target.owner_id)
            continue
        user, _ = authenticate(session, token)  # 403 for an unknown or revoked token
        owners.add(user.id_)
    if target is None:
        raise NotFound(f"There is no open interactive session at /{workflow_id}.")
    if owners - {target.owner_id}:
        raise Forbidden("This interactive session belongs to another user.")
    if owners:
        return target, cookie != cookie_value(secret_key, target)
    if cookie is not None and hmac.compare_digest(cookie, cookie_value(secret_key, target)):
        return target, False
    raise Forbidden("This interactive session cookie is not valid: open the session with "
                    "the link reana-client open printed (?token=...).")
