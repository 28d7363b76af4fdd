"""Workflow sharing (REANA 0.95's API): a run's owner lets other users read it, until an expiry.

A share is one ``user_workflow`` row (run, user, message, ``valid_until``). While it is
*active* (no expiry, or an expiry still ahead) the user may read the run: status, logs,
specification, parameters, diff, the workspace listing and its files. Nothing else: every
change of the run stays its owner's (:func:`get_readable_workflow` is the only lookup that
finds another user's run). An expired share gives nothing, exactly as no share; sharing the
run again replaces it.

``valid_until`` is naive UTC like every time of the schema. REANA takes a date
(``YYYY-MM-DD``): the share then lasts to the end of that day; a full ISO time is also taken.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time

from reana_commons.errors import REANAError
from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from reana_db.models import User, UserWorkflow, Workflow, utcnow
from reana_db.run_numbers import (
    WorkflowNotFound,
    get_workflow_by_uuid_or_name,
    parse_uuid,
    split_run_number,
)

MAX_MESSAGE_LENGTH = 5000
"""Longest message a share may carry (the column's size, REANA's limit)."""


class SharingError(REANAError, ValueError):
    """A share or unshare that cannot be done; ``status_code`` is the HTTP answer's."""

    status_code = 400


class UnknownUser(SharingError):
    """No user has the e-mail address given."""

    status_code = 404


class ShareConflict(SharingError):
    """The run is already shared with the user, or is not shared with them."""

    status_code = 409


@dataclass(frozen=True)
class ShareStatus:
    """One active share of a run: with whom and until when (None: no expiry)."""

    user_email: str
    valid_until: datetime | None


def parse_valid_until(value: str | date | datetime | None) -> datetime | None:
    """``YYYY-MM-DD`` (to the end of that day) or an ISO time, as naive UTC; else 400."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time(23, 59, 59))
    else:
        text = str(value).strip()
        try:
            if len(text) == 10:
                parsed = datetime.combine(date.fromisoformat(text), time(23, 59, 59))
            else:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise SharingError("Date format is not valid. Please use YYYY-MM-DD format.") from None
    if parsed.tzinfo is not None:
        parsed = (parsed - parsed.utcoffset()).replace(tzinfo=None)
    return parsed


def active(now: datetime | None = None):
    """SQL condition: the ``user_workflow`` row has not expired at ``now``."""
    now = now or utcnow()
    return or_(UserWorkflow.valid_until.is_(None), UserWorkflow.valid_until > now)


def shared_with_condition(user_id: uuid.UUID, now: datetime | None = None):
    """SQL condition: the ``workflow`` row is actively shared with ``user_id``."""
    return Workflow.id_.in_(
        select(UserWorkflow.workflow_id).where(UserWorkflow.user_id == user_id, active(now))
    )


def _user_by_email(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        raise UnknownUser(f"User with email '{email}' does not exist.")
    return user


def share_workflow(
    session: Session,
    owner: User,
    workflow: Workflow,
    email: str,
    message: str | None = None,
    valid_until: str | date | datetime | None = None,
) -> UserWorkflow:
    """Let the user with ``email`` read ``workflow`` (flushed, not committed).

    Refused: sharing with oneself, an expiry in the past, a too long message (400);
    an unknown e-mail (404); a run already actively shared with that user (409).
    """
    if workflow.owner_id != owner.id_:
        raise WorkflowNotFound(str(workflow.id_))
    if email == owner.email:
        raise SharingError("Unable to share a workflow with yourself.")
    if message is not None and len(message) > MAX_MESSAGE_LENGTH:
        raise SharingError(
            f"Message is too long. Please keep it under {MAX_MESSAGE_LENGTH} characters.")
    until = parse_valid_until(valid_until)
    now = utcnow()
    if until is not None and until <= now:
        raise SharingError("The 'valid_until' date cannot be in the past.")
    user = _user_by_email(session, email)
    existing = session.get(UserWorkflow, (workflow.id_, user.id_))
    if existing is not None:
        if existing.valid_until is None or existing.valid_until > now:
            raise ShareConflict(f"{workflow.full_name} is already shared with {email}.")
        session.delete(existing)  # an expired share is replaced
        session.flush()
    share = UserWorkflow(workflow_id=workflow.id_, user_id=user.id_, message=message,
                         valid_until=until)
    session.add(share)
    session.flush()
    return share


def unshare_workflow(session: Session, owner: User, workflow: Workflow, email: str) -> None:
    """End the share of ``workflow`` with ``email`` (flushed); 400 self, 404, 409 not shared."""
    if workflow.owner_id != owner.id_:
        raise WorkflowNotFound(str(workflow.id_))
    if email == owner.email:
        raise SharingError("Unable to unshare a workflow with yourself.")
    user = _user_by_email(session, email)
    removed = session.execute(
        delete(UserWorkflow).where(UserWorkflow.workflow_id == workflow.id_,
                                   UserWorkflow.user_id == user.id_, active())
    ).rowcount
    if not removed:
        raise ShareConflict(f"{workflow.full_name} is not shared with {email}.")


def share_status(session: Session, workflow: Workflow) -> list[ShareStatus]:
    """The run's active shares, by e-mail."""
    rows = session.execute(
        select(User.email, UserWorkflow.valid_until)
        .join(User, User.id_ == UserWorkflow.user_id)
        .where(UserWorkflow.workflow_id == workflow.id_, active())
        .order_by(User.email)
    )
    return [ShareStatus(email, until) for email, until in rows]


def shared_with_emails(session: Session, workflow_ids: list) -> dict[uuid.UUID, list[str]]:
    """Per run (of a page), the e-mails it is actively shared with (one query)."""
    if not workflow_ids:
        return {}
    found: dict[uuid.UUID, list[str]] = {}
    rows = session.execute(
        select(UserWorkflow.workflow_id, User.email)
        .join(User, User.id_ == UserWorkflow.user_id)
        .where(UserWorkflow.workflow_id.in_(workflow_ids), active())
        .order_by(User.email)
    )
    for workflow_id, email in rows:
        found.setdefault(workflow_id, []).append(email)
    return found


def get_readable_workflow(session: Session, uuid_or_name: str, user_id: uuid.UUID) -> Workflow:
    """A run ``user_id`` may read: their own, else one actively shared with them.

    Names resolve among the user's own runs first; only when none matches, among the runs
    shared with them (``name``: the highest run number; ``name.N[.M]``: that run, the most
    recently created when several owners shared one). Raises :class:`WorkflowNotFound`.
    """
    try:
        return get_workflow_by_uuid_or_name(session, uuid_or_name, user_id)
    except WorkflowNotFound:
        pass
    workflow = _shared_run(session, str(uuid_or_name or ""), user_id)
    if workflow is None:
        raise WorkflowNotFound(str(uuid_or_name))
    return workflow


def is_shared_with(session: Session, workflow: Workflow, user_id: uuid.UUID) -> bool:
    """Whether ``workflow`` is actively shared with ``user_id``."""
    return session.scalar(
        select(UserWorkflow.user_id).where(UserWorkflow.workflow_id == workflow.id_,
                                           UserWorkflow.user_id == user_id, active())
    ) is not None


def find_shared_run(session: Session, uuid_or_name: str, user_id: uuid.UUID) -> Workflow | None:
    """The run shared with ``user_id`` that ``uuid_or_name`` names (not an own run), or None."""
    return _shared_run(session, str(uuid_or_name or ""), user_id)


def _shared_run(session: Session, uuid_or_name: str, user_id: uuid.UUID) -> Workflow | None:
    if not uuid_or_name:
        return None
    query = select(Workflow).join(
        UserWorkflow,
        and_(UserWorkflow.workflow_id == Workflow.id_, UserWorkflow.user_id == user_id),
    ).where(active())
    as_uuid = parse_uuid(uuid_or_name)
    if as_uuid is not None:
        return session.scalar(query.where(Workflow.id_ == as_uuid))
    name, _, rest = uuid_or_name.partition(".")
    numbers = split_run_number(rest) if rest else None
    if numbers is not None:
        query = query.where(Workflow.name == name, Workflow.run_number_major == numbers[0],
                            Workflow.run_number_minor == numbers[1])
    else:
        query = query.where(Workflow.name == uuid_or_name)
    return session.scalar(
        query.order_by(Workflow.run_number_major.desc(), Workflow.run_number_minor.desc(),
                       Workflow.created.desc()).limit(1)
    )


def owners_sharing_with(session: Session, user_id: uuid.UUID) -> list[str]:
    """E-mails of the users who actively share at least one run with ``user_id``."""
    return list(session.scalars(
        select(User.email).distinct()
        .join(Workflow, Workflow.owner_id == User.id_)
        .join(UserWorkflow, UserWorkflow.workflow_id == Workflow.id_)
        .where(UserWorkflow.user_id == user_id, active())
        .order_by(User.email)
    ))


def users_shared_with(session: Session, owner_id: uuid.UUID) -> list[str]:
    """E-mails of the users ``owner_id`` actively shares at least one run with."""
    return list(session.scalars(
        select(User.email).distinct()
        .join(UserWorkflow, UserWorkflow.user_id == User.id_)
        .join(Workflow, Workflow.id_ == UserWorkflow.workflow_id)
        .where(Workflow.owner_id == owner_id, active())
        .order_by(User.email)
    ))
