"""Per-user API rate limits (Flask-Limiter) kept in the platform's database (ADR 0027).

Every authenticated request counts against its user's limit, every other one
against its client address (REANA's ``REANA_RATELIMIT_AUTHENTICATED_USER`` and
``REANA_RATELIMIT_GUEST_USER``; ``REANA_RATELIMIT_USERS`` gives named users
their own, e.g. a benchmark's). Past it: ``429`` with ``Retry-After`` and REANA's
``{"message": ...}``. The counts are fixed windows in the table
``rate_limit_window`` of the platform's database (PostgreSQL, or the embedded
SQLite): every gunicorn worker of every reana-server shares them, and nothing
else needs to run. One upsert per request: on PostgreSQL a single round trip
(a small pool of its own: autocommit, no commit flush, no connection ping) of a
statement compiled once (SQLAlchemy cannot cache an ``ON CONFLICT`` upsert; it
compiled it anew for every request).
"""

from __future__ import annotations

import math
import random
import threading
import time

from flask import Flask, current_app, g, jsonify, request
from limits.storage import Storage
from reana_commons.config import get_config
from reana_db.database import get_engine
from reana_db.models import RateLimitWindow
from sqlalchemy import create_engine, delete, select, text
from sqlalchemy.exc import SQLAlchemyError

SCHEME = "reana+db"
UNLIMITED = frozenset({"metrics.metrics_view", "meta.ping", "session_proxy.proxy"})
"""Probes (Prometheus, liveness) are not limited, nor an interactive session's traffic
(a notebook page loads scores of files; only its owner reaches it)."""
CLEANUP_EVERY = 1000
"""About one request in this many deletes the windows that ended a minute ago."""
_TABLE = RateLimitWindow.__table__
_COUNT = text(
    "INSERT INTO rate_limit_window (key, hits, expires_at) VALUES (:key, :amount, :expires) "
    "ON CONFLICT (key) DO UPDATE SET "
    "hits = CASE WHEN rate_limit_window.expires_at <= :now THEN :amount "
    "ELSE COALESCE(rate_limit_window.hits, 0) + :amount END, "
    "expires_at = CASE WHEN rate_limit_window.expires_at <= :now THEN :expires "
    "ELSE rate_limit_window.expires_at END "
    "RETURNING hits"
)
"""Count hits in a key's window, or start a new window when it ended (both dialects)."""
_counting: list = [None, None]
"""The platform's engine and the counting engine made for it (one at a time)."""
_counting_lock = threading.Lock()


def _counting_engine():
    """PostgreSQL: a small autocommit pool without pre-ping and without commit flushes (a
    count lost in a crash costs nothing; a WAL flush per request does). SQLite: the
    platform's engine (one writer at a time anyway)."""
    engine = get_engine()
    if engine.dialect.name != "postgresql":
        return engine
    with _counting_lock:
        platform, counting = _counting
        if platform is not engine:  # first use, or the platform's engine was replaced (tests)
            if counting is not None:
                counting.dispose()
            counting = create_engine(
                engine.url, pool_size=2, max_overflow=8, pool_pre_ping=False,
                isolation_level="AUTOCOMMIT",
                connect_args={"options": "-c synchronous_commit=off",
                              "application_name": "reana-server-rate-limits"})
            _counting[:] = [engine, counting]
        return counting


class DatabaseWindowStorage(Storage):
    """A ``limits`` storage (fixed windows) on the platform's database: ``reana+db://``."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions, **options)

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Count ``amount`` hits in ``key``'s window (a new one of ``expiry`` s if it ended)."""
        now = time.time()
        with _counting_engine().begin() as connection:
            hits = connection.execute(_COUNT, {"key": key, "amount": amount, "now": now,
                                               "expires": now + expiry}).scalar_one()
            if random.random() < 1 / CLEANUP_EVERY:
                connection.execute(delete(_TABLE).where(_TABLE.c.expires_at < now - 60))
        return int(hits)

    def get(self, key: str) -> int:
        with get_engine().connect() as connection:
            row = connection.execute(select(_TABLE.c.hits, _TABLE.c.expires_at)
                                     .where(_TABLE.c.key == key)).first()
        return int(row.hits) if row and row.expires_at > time.time() else 0

    def get_expiry(self, key: str) -> float:
        with get_engine().connect() as connection:
            expires = connection.execute(select(_TABLE.c.expires_at)
                                         .where(_TABLE.c.key == key)).scalar()
        return float(expires) if expires and expires > time.time() else time.time()

    def check(self) -> bool:
        try:
            with get_engine().connect() as connection:
                connection.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with get_engine().begin() as connection:
            return connection.execute(delete(_TABLE)).rowcount

    def clear(self, key: str) -> None:
        with get_engine().begin() as connection:
            connection.execute(delete(_TABLE).where(_TABLE.c.key == key))


def rate_limit_key() -> str:
    """Who a request counts against: its user (authenticated before), else its address."""
    user = g.get("reana_user")
    if user is not None:
        return f"user:{user.id_}"
    return f"address:{request.remote_addr or 'unknown'}"


def request_limit() -> str:
    """The limit of this request's user (their own, if configured) or of guests."""
    config = get_config()
    user = g.get("reana_user")
    if user is None:
        return config.ratelimit_guest_user
    return config.ratelimit_users.get(user.email, config.ratelimit_authenticated_user)


def too_many(error):
    """REANA's ``{"message": ...}`` (WES: ``{"msg", "status_code"}``) with ``Retry-After``."""
    limit = error.limit.limit
    window = getattr(current_app.extensions.get("limiter"), "current_limit", None)
    # reset_at is the window's end rounded up to a whole second: at most one window away.
    retry = limit.get_expiry()
    if window:
        retry = max(1, min(retry, math.ceil(window.reset_at - time.time())))
    message = (f"Too many requests: at most {limit} for each user "
               f"(REANA_RATELIMIT_*). Retry after {retry} s.")
    if request.blueprints and request.blueprints[-1] == "wes":
        response = jsonify(msg=message, status_code=429)
    else:
        response = jsonify(message=message)
    response.status_code = 429
    response.headers["Retry-After"] = str(retry)
    return response


def install(app: Flask) -> None:
    """Limit every request of ``app`` (after authentication: it sets the user); the
    ``/metrics`` and ``/api/ping`` probes are not limited."""
    from flask_limiter import Limiter, RateLimitExceeded

    config = get_config()
    if not config.ratelimit_enabled:
        return
    limiter = Limiter(
        key_func=rate_limit_key,
        app=app,
        application_limits=[request_limit],  # one count per user across all endpoints
        application_limits_exempt_when=lambda: request.endpoint in UNLIMITED,
        storage_uri=f"{SCHEME}://",
        strategy="fixed-window",
        # Its Retry-After rounds down (a client retrying then is refused again): ours, below.
        headers_enabled=False,
        # The database is away: the request fails on its own; the limiter does not add to it.
        swallow_errors=True,
        key_prefix="api",
    )
    app.extensions["limiter"] = limiter
    app.register_error_handler(RateLimitExceeded, too_many)
