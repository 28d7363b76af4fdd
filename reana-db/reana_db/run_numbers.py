"""Run numbers (``name.N``, ``name.N.M``) and workflow lookup by UUID or name."""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from reana_db.models import User, Workflow


class WorkflowNotFound(LookupError):
    """No workflow of this user matches the given UUID or name."""

    def __init__(self, uuid_or_name: str):
        self.uuid_or_name = uuid_or_name
        super().__init__(f"Workflow {uuid_or_name} does not exist.")


def parse_uuid(value: str) -> uuid.UUID | None:
    """``value`` as a UUID if it is one, else ``None``."""
    try:
        return uuid.UUID(str(value))
    except (ValueError, AttributeError, TypeError):
        return None


def split_run_number(run_number: str) -> tuple[int, int] | None:
    """``"3"`` → ``(3, 0)``, ``"3.2"`` → ``(3, 2)``, anything else → ``None``."""
    parts = str(run_number).split(".")
    if len(parts) not in (1, 2) or not all(p.isdigit() for p in parts):
        return None
    major = int(parts[0])
    minor = int(parts[1]) if len(parts) == 2 else 0
    return major, minor


def lock_run_numbers(session: Session, owner_id: uuid.UUID, name: str) -> None:
    """Hold the run numbers of ``owner_id``'s ``name`` until the transaction ends.

    Concurrent creations of the same name then take consecutive numbers instead
    of colliding on the unique constraint. PostgreSQL: a transaction-scoped
    advisory lock on a hash of (owner, name). SQLite: a no-op write to the
    owner's row, which takes the database's single write lock (WAL) before the
    highest number is read, so the read sees every committed creation.
    """
    if session.get_bind().dialect.name == "postgresql":
        digest = hashlib.blake2b(f"{owner_id}/{name}".encode(), digest_size=8).digest()
        key = int.from_bytes(digest, "big", signed=True)
        session.execute(select(func.pg_advisory_xact_lock(key)))
        return
    table = User.__table__
    session.execute(
        update(table).where(table.c.id_ == owner_id).values(updated=table.c.updated)
    )


def next_run_number(
    session: Session, owner_id: uuid.UUID, name: str, restart_of: Workflow | None = None
) -> tuple[int, int]:
    """The (major, minor) of a new run of ``name``, or of a restart of ``restart_of``.

    A new run takes the highest major among the user's non-restart runs of that
    name plus one (deleted runs count, numbers are never reused); a restart keeps
    the major and takes the highest minor plus one. The numbers stay held
    (:func:`lock_run_numbers`) until the caller's transaction ends.
    """
    lock_run_numbers(session, owner_id, restart_of.name if restart_of is not None else name)
    if restart_of is not None:
        highest = session.scalar(
            select(func.max(Workflow.run_number_minor)).where(
                Workflow.owner_id == owner_id,
                Workflow.name == restart_of.name,
                Workflow.run_number_major == restart_of.run_number_major,
            )
        )
        return restart_of.run_number_major, (highest or 0) + 1
    highest = session.scalar(
        select(func.max(Workflow.run_number_major)).where(
            Workflow.owner_id == owner_id, Workflow.name == name
        )
    )
    return (highest or 0) + 1, 0


def get_workflow_by_uuid_or_name(
    session: Session, uuid_or_name: str, owner_id: uuid.UUID
) -> Workflow:
    """Find a run of ``owner_id``: UUID, ``name`` (latest), ``name.N`` or ``name.N.M``.

    Raises :class:`WorkflowNotFound`; another user's run is never found.
    """
    if not uuid_or_name:
        raise WorkflowNotFound(str(uuid_or_name))
    as_uuid = parse_uuid(uuid_or_name)
    query = select(Workflow).where(Workflow.owner_id == owner_id)
    if as_uuid is not None:
        workflow = session.scalar(query.where(Workflow.id_ == as_uuid))
    else:
        name, _, rest = str(uuid_or_name).partition(".")
        numbers = split_run_number(rest) if rest else None
        if numbers is not None:
            workflow = session.scalar(
                query.where(
                    Workflow.name == name,
                    Workflow.run_number_major == numbers[0],
                    Workflow.run_number_minor == numbers[1],
                )
            )
        else:
            workflow = session.scalar(
                query.where(Workflow.name == uuid_or_name)
                .order_by(Workflow.run_number_major.desc(), Workflow.run_number_minor.desc())
                .limit(1)
            )
    if workflow is None:
        raise WorkflowNotFound(str(uuid_or_name))
    return workflow
