"""What a user sees of themselves (/api/you) and token requests."""

from __future__ import annotations

from datetime import UTC
from email.utils import format_datetime

from reana_commons.config import REANA_VERSION
from reana_db.enums import AuditLogAction, UserTokenStatus
from reana_db.models import AuditLog, User, UserToken, utcnow
from reana_db.quota import get_user_quota
from reana_db.users import token_value
from sqlalchemy.orm import Session


def http_date(moment) -> str:
    """Flask's jsonified datetime: ``Mon, 01 Jan 2024 00:00:00 GMT``."""
    return format_datetime(moment.replace(tzinfo=UTC), usegmt=True)


def _public_quota(quota: dict) -> dict:
    """REANA shows ``limit`` and ``health`` only for limited resources."""
    shown = {}
    for name, values in quota.items():
        entry = {"usage": values["usage"]}
        if values.get("limit", {}).get("raw", 0) > 0:
            entry["limit"] = values["limit"]
            entry["health"] = values["health"]
        shown[name] = entry
    return shown


def _latest_token(user: User) -> UserToken | None:
    active = user.active_token
    if active is not None:
        return active
    return max(user.tokens, key=lambda t: t.created, default=None)


def profile(session: Session, user: User) -> dict:
    """``/api/you``."""
    token = _latest_token(user)
    reana_token = {"value": "", "status": "", "requested_at": http_date(user.created)}
    if token is not None:
        reana_token = {
            "value": token_value(token) if token.token_encrypted else "",
            "status": UserTokenStatus(token.status).name,
            "requested_at": http_date(token.created),
        }
    return {
        "email": user.email,
        "full_name": user.full_name or "",
        "username": user.username or "",
        "reana_server_version": REANA_VERSION,
        "reana_token": reana_token,
        "quota": _public_quota(get_user_quota(session, user)),
    }


def request_token(session: Session, user: User) -> dict:
    """``PUT /api/token``: record that the user asked for a token (an admin grants it)."""
    token = _latest_token(user)
    if token is None or token.status == UserTokenStatus.revoked:
        token = UserToken(user_id=user.id_, status=UserTokenStatus.requested, created=utcnow())
        session.add(token)
        session.add(AuditLog(user_id=user.id_, action=AuditLogAction.request_token, details={}))
        session.flush()
    return {
        "reana_token": {
            "status": UserTokenStatus(token.status).name,
            "requested_at": http_date(token.created),
        }
    }
