"""The ``reana-db`` command: schema, migrations, quotas and key rotation."""

from __future__ import annotations

import click

from reana_db import migrations


def _database_uri(ctx: click.Context) -> str | None:
    return ctx.find_root().params.get("database_uri")


@click.group()
@click.option(
    "--database-uri",
    default=None,
    help="Database to act on (default: REANA_SQLALCHEMY_DATABASE_URI or the embedded SQLite).",
)
def cli(database_uri: str | None) -> None:
    """Manage the REANA database."""


def _session(ctx: click.Context):
    from sqlalchemy.orm import Session

    from reana_db.database import build_engine

    engine = build_engine(_database_uri(ctx))
    return engine, Session(bind=engine, autoflush=False, expire_on_commit=False)


@cli.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the schema at head (idempotent) and the default resources."""
    migrations.init_database(_database_uri(ctx))
    click.echo(f"Database is at revision {migrations.current_revision(_database_uri(ctx))}.")


@cli.group()
def alembic() -> None:
    """Schema migrations."""


@alembic.command()
@click.argument("revision", default="head")
@click.pass_context
def upgrade(ctx: click.Context, revision: str) -> None:
    """Upgrade the schema to REVISION (default: head)."""
    migrations.upgrade(_database_uri(ctx), revision)
    click.echo(f"Upgraded to {migrations.current_revision(_database_uri(ctx)) or 'base'}.")


@alembic.command()
@click.argument("revision", default="-1")
@click.pass_context
def downgrade(ctx: click.Context, revision: str) -> None:
    """Downgrade the schema to REVISION (default: one step; ``base`` drops everything)."""
    migrations.downgrade(_database_uri(ctx), revision)
    click.echo(f"Downgraded to {migrations.current_revision(_database_uri(ctx)) or 'base'}.")


@alembic.command()
@click.pass_context
def current(ctx: click.Context) -> None:
    """Print the revision the database is at."""
    click.echo(migrations.current_revision(_database_uri(ctx)) or "base")


@alembic.command()
@click.pass_context
def history(ctx: click.Context) -> None:
    """Print the revision history."""
    click.echo(migrations.history(_database_uri(ctx)), nl=False)


@alembic.command()
@click.pass_context
def stamp(ctx: click.Context) -> None:
    """Record the database as being at head without running migrations (REANA's ``init``)."""
    from alembic import command

    with migrations.migration_connection(_database_uri(ctx)) as (cfg, _connection):
        command.stamp(cfg, "head")
    click.echo(f"Stamped at {migrations.head_revision()}.")


@cli.group()
def quota() -> None:
    """Quota accounting."""


@quota.command("create-default-resources")
@click.pass_context
def create_default_resources(ctx: click.Context) -> None:
    """Create the CPU and disk resources if missing."""
    from reana_db.users import ensure_default_resources

    engine, session = _session(ctx)
    try:
        resources = ensure_default_resources(session)
        session.commit()
        for type_, resource in sorted(resources.items()):
            click.echo(f"{type_.name}: {resource.name}")
    finally:
        session.close()
        engine.dispose()


@quota.command("resource-usage-update")
@click.pass_context
def resource_usage_update(ctx: click.Context) -> None:
    """Recompute every run's CPU and disk usage and every user's totals."""
    from reana_db.quota import update_all_usage

    engine, session = _session(ctx)
    try:
        count = update_all_usage(session)
        session.commit()
    finally:
        session.close()
        engine.dispose()
    click.echo(f"Updated the resource usage of {count} workflows.")


@cli.command("migrate-secret-key")
@click.option("--old-key", required=True, help="The previous REANA_SECRET_KEY.")
@click.option("--new-key", default=None, help="The new key (default: REANA_SECRET_KEY).")
@click.pass_context
def migrate_secret_key(ctx: click.Context, old_key: str, new_key: str | None) -> None:
    """Re-encrypt tokens and secrets from the old key to the current one."""
    from reana_db.key_rotation import reencrypt_all

    engine, session = _session(ctx)
    try:
        tokens, secrets = reencrypt_all(session, old_key, new_key)
        session.commit()
    except ValueError as error:
        session.rollback()
        raise click.ClickException(str(error)) from error
    finally:
        session.close()
        engine.dispose()
    click.echo(f"Re-encrypted {tokens} tokens and {secrets} secrets.")
