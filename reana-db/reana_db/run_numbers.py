"""Run numbers (``name.N``, ``name.N.M``) and workflow lookup by UUID or name."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reana_db.models import Workflow


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


def next_run_number(
    session: Session, owner_id: uuid.UUID, name: str, restart_of: Workflow | None = None
) -> tuple[int, int]:
    """The (major, minor) of a new run of ``name``, or of a restart of ``restart_of``.

    A new run takes the highest major among the user's non-restart runs of that
    name plus one (deleted runs count, numbers are never reused); a restart keeps
    the major and takes the highest minor plus one.
    """
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
