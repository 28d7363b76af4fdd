"""Command lines: ``reana-admin`` (users, tokens, quotas) and ``reana-server`` (the API process)."""

from __future__ import annotations

import json
import logging
import os
import sys
import uuid

import click
from reana_commons.config import SECRET_KEY_FILE, get_config
from reana_commons.log_redaction import configure_logging
from sqlalchemy import select
from sqlalchemy.engine import make_url

ADMIN_ID = uuid.UUID("00000000-0000-0000-0000-000000000000")
"""REANA's administrator has the nil UUID."""


def prepare_database() -> None:
    """Bring the database schema to the newest revision (creates it when empty)."""
    from reana_db.migrations import upgrade

    upgrade()


def check_platform(config) -> None:
    """Refuse, saying what to do, unless ``config`` names the platform's key and database.

    Tokens are signed with the secret key: one signed with another key never lets its user
    sign in. An embedded platform's SQLite file must exist: a missing one means the wrong
    ``REANA_HOME`` (a new database there would hold users no platform knows).
    """
    home = config.home
    if not config.has_secret_key:
        raise click.ClickException(
            f"Cannot find the platform's secret key: REANA_SECRET_KEY is not set and "
            f"{home / SECRET_KEY_FILE} does not exist. Run reana-admin with the platform's "
            "REANA_HOME (the folder `make up` uses, e.g. REANA_HOME=/srv/reana/.reana "
            "reana-admin ...), or with the REANA_SECRET_KEY the services use (Kubernetes: "
            "kubectl exec deploy/reana-server -- reana-admin ...)."
        )
    if config.is_sqlite:
        database = make_url(config.database_uri).database or ""
        if not os.path.exists(database):
            raise click.ClickException(
                f"No platform database at {database}: set REANA_HOME to the folder of the "
                "platform (`make up` creates it), or REANA_SQLALCHEMY_DATABASE_URI to its "
                "database."
            )


def _session():
    from reana_db.database import new_session

    check_platform(get_config())
    prepare_database()
    return new_session()


def _find_user(session, email: str | None, user_id: str | None):
    from reana_db.models import User

    if user_id:
        try:
            found = session.get(User, uuid.UUID(user_id))
        except ValueError:
            raise click.BadParameter(f"{user_id} is not a UUID.") from None
    elif email:
        found = session.scalar(select(User).where(User.email == email))
    else:
        raise click.UsageError("Give --email or --id.")
    if found is None:
        raise click.ClickException(f"User {email or user_id} does not exist.")
    return found


def _print_table(rows: list[dict]) -> None:
    """REANA's table style: upper-case headers, left-aligned, three spaces apart."""
    if not rows:
        return
    headers = list(rows[0])
    widths = [max(len(h), *(len(str(r[h])) for r in rows)) for h in headers]
    line = "   ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True))
    click.echo(line.rstrip())
    for row in rows:
        cells = (str(row[h]).ljust(w) for h, w in zip(headers, widths, strict=True))
        click.echo("   ".join(cells).rstrip())


@click.group()
def cli():
    """REANA administration: users, access tokens and quotas."""


@cli.command("create-admin-user")
@click.option("--email", required=True, help="Email of the administrator.")
@click.option("--id", "user_id", default=str(ADMIN_ID), show_default=True, help="Admin UUID.")
def create_admin_user(email, user_id):
    """Create the first administrator and print its access token (safe to run again)."""
    from reana_db.models import User
    from reana_db.users import grant_token, token_value

    session = _session()
    try:
        existing = session.get(User, uuid.UUID(user_id))
        if existing is not None:
            if existing.email != email:
                raise click.ClickException(
                    f"The administrator {user_id} already exists with email {existing.email}."
                )
            token = existing.active_token
            value = token_value(token) if token is not None else grant_token(session, existing)
            session.commit()
            click.echo(value)
            return
        if session.scalar(select(User).where(User.email == email)) is not None:
            raise click.ClickException(f"User {email} already exists.")
        _, token = _create_with_id(session, uuid.UUID(user_id), email)
        session.commit()
        click.echo(token)
    finally:
        session.close()


def _create_with_id(session, user_id: uuid.UUID, email: str):
    """Create a user with a given id (the admin's nil UUID), with quotas and a token."""
    from reana_db.models import User, UserResource
    from reana_db.users import ensure_default_resources, grant_token

    config = get_config()
    user = User(id_=user_id, email=email, full_name="Administrator", username="admin")
    session.add(user)
    session.flush()
    limits = {"cpu": config.default_quota_cpu_limit, "disk": config.default_quota_disk_limit}
    for type_, resource in ensure_default_resources(session).items():
        session.add(
            UserResource(user_id=user.id_, resource_id=resource.id_, quota_limit=limits[type_.name])
        )
    return user, grant_token(session, user)


@cli.command("user-create")
@click.option("--email", required=True)
@click.option("--full-name", default=None)
@click.option("--username", default=None)
@click.option("--no-token", is_flag=True, help="Do not grant an access token now.")
def user_create(email, full_name, username, no_token):
    """Create a user; prints the new access token."""
    from reana_db.users import create_user

    session = _session()
    try:
        try:
            user, token = create_user(
                session, email, full_name=full_name, username=username, with_token=not no_token
            )
        except ValueError as error:
            raise click.ClickException(str(error)) from error
        session.commit()
        click.echo(token if token else str(user.id_))
    finally:
        session.close()


@cli.command("token-grant")
@click.option("--email", default=None)
@click.option("--id", "user_id", default=None)
def token_grant(email, user_id):
    """Grant a new access token to a user without an active one; prints it."""
    from reana_db.users import grant_token

    session = _session()
    try:
        user = _find_user(session, email, user_id)
        if user.active_token is not None:
            raise click.ClickException(
                f"User {user.email} already has an active token; revoke it first."
            )
        for token in user.tokens:
            if token.token_digest is None:
                session.delete(token)  # a pending request is answered by this grant
        token = grant_token(session, user)
        session.commit()
        click.echo(token)
    finally:
        session.close()


@cli.command("token-revoke")
@click.option("--email", default=None)
@click.option("--id", "user_id", default=None)
def token_revoke(email, user_id):
    """Revoke the active access tokens of a user."""
    from reana_db.users import revoke_tokens

    session = _session()
    try:
        user = _find_user(session, email, user_id)
        count = revoke_tokens(session, user)
        session.commit()
        if not count:
            raise click.ClickException(f"User {user.email} has no active token.")
        click.echo(f"Token of user {user.email} revoked.")
    finally:
        session.close()


@cli.command("user-list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def user_list(as_json):
    """List users with their token status and quota usage."""
    from reana_db.enums import UserTokenStatus
    from reana_db.models import User
    from reana_db.quota import get_user_quota

    session = _session()
    try:
        rows = []
        for user in session.scalars(select(User).order_by(User.created)):
            token = user.active_token or max(user.tokens, key=lambda t: t.created, default=None)
            quota = get_user_quota(session, user)
            rows.append(
                {
                    "id": str(user.id_),
                    "email": user.email,
                    "full_name": user.full_name or "",
                    "username": user.username or "",
                    "token_status": UserTokenStatus(token.status).name if token else "-",
                    "cpu": quota["cpu"]["usage"]["human_readable"],
                    "disk": quota["disk"]["usage"]["human_readable"],
                }
            )
        session.commit()
        click.echo(json.dumps(rows, indent=2)) if as_json else _print_table(rows)
    finally:
        session.close()


@cli.command("quota-set")
@click.option("--email", default=None)
@click.option("--id", "user_id", default=None)
@click.option("--resource", type=click.Choice(["cpu", "disk"]), required=True)
@click.option(
    "--limit", type=int, required=True, help="Milliseconds (cpu) or bytes (disk); 0 = none."
)
def quota_set(email, user_id, resource, limit):
    """Set a user's CPU or disk quota limit."""
    from reana_db.quota import set_quota_limit

    session = _session()
    try:
        user = _find_user(session, email, user_id)
        try:
            set_quota_limit(session, user, resource, limit)
        except ValueError as error:
            raise click.ClickException(str(error)) from error
        session.commit()
        click.echo(f"Quota limit of {resource} for {user.email} set to {limit}.")
    finally:
        session.close()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=30080, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn workers.")
@click.option("--threads", default=8, show_default=True, type=int, help="Threads per worker.")
def server(host, port, workers, threads):
    """Serve the public REST API with gunicorn (database migrated first)."""
    configure_logging(get_config().log_level, service="reana-server")
    migrate_in_child()
    serve(host, port, workers, threads)


def migrate_in_child() -> None:
    """Migrate the database in a forked child, so the gunicorn master never imports Alembic.

    gunicorn forks its workers from the master: whatever the master imported
    (Alembic, the migration scripts) would sit in every worker's memory.
    """
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            prepare_database()
        except BaseException:  # noqa: BLE001 - reported here, the parent exits non-zero
            logging.exception("Database migration failed")
            code = 1
        finally:
            logging.shutdown()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise click.ClickException("The database could not be migrated (see the log above).")


def serve(host: str, port: int, workers: int, threads: int = 8) -> None:
    """Run gunicorn on ``host:port`` with the API app (loaded in each worker)."""
    from reana_commons.wsgi_server import gunicorn_settings, serve_gunicorn

    def load():
        from reana_server.app import create_app

        return create_app()

    serve_gunicorn(load, gunicorn_settings(host, port, workers, threads, timeout=3600))
    sys.exit(0)
