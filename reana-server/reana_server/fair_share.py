"""Which queued runs start next: fair share between users, then priority, then FIFO.

Pure database reads, no side effects. A run may start while the runs that
occupy the runtime (``pending`` + ``running``, counted over all users) stay
below ``REANA_MAX_CONCURRENT_BATCH_WORKFLOWS``. Free slots go one at a time to
the user with the fewest active runs (counting the ones just picked), and
among that user's queued runs to the highest priority, then the oldest. So one
user's thousand queued runs never hold back another user's single run.
"""

from __future__ import annotations

import heapq
import uuid
from dataclasses import dataclass
from datetime import datetime

from reana_db.enums import RunStatus
from reana_db.models import Workflow
from sqlalchemy import func, select
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Candidate:
    """A queued run that may be started."""

    id_: uuid.UUID
    owner_id: uuid.UUID
    priority: int
    created: datetime
    updated: datetime


def active_runs_by_user(session: Session) -> dict[uuid.UUID, int]:
    """Number of pending + running runs of each user."""
    rows = session.execute(
        select(Workflow.owner_id, func.count())
        .where(Workflow.status.in_(list(RunStatus.active())))
        .group_by(Workflow.owner_id)
    )
    return {owner: count for owner, count in rows}


def has_orphans(session: Session, updated_before: datetime) -> bool:
    """Whether a queued run last changed before ``updated_before`` (its message may be lost)."""
    query = select(Workflow.id_).where(
        Workflow.status == RunStatus.queued, Workflow.updated <= updated_before
    )
    return session.scalar(query.limit(1)) is not None


def queued_heads(session: Session, per_user: int) -> dict[uuid.UUID, list[Candidate]]:
    """The first ``per_user`` queued runs of each user, best first."""
    rank = (
        func.row_number()
        .over(
            partition_by=Workflow.owner_id,
            order_by=(Workflow.priority.desc(), Workflow.created, Workflow.id_),
        )
        .label("rank")
    )
    inner = (
        select(
            Workflow.id_,
            Workflow.owner_id,
            Workflow.priority,
            Workflow.created,
            Workflow.updated,
            rank,
        )
        .where(Workflow.status == RunStatus.queued)
        .subquery()
    )
    rows = session.execute(
        select(inner).where(inner.c.rank <= per_user).order_by(inner.c.owner_id, inner.c.rank)
    )
    heads: dict[uuid.UUID, list[Candidate]] = {}
    for row in rows:
        heads.setdefault(row.owner_id, []).append(
            Candidate(row.id_, row.owner_id, row.priority or 0, row.created, row.updated)
        )
    return heads


def pick_fair(
    heads: dict[uuid.UUID, list[Candidate]],
    active: dict[uuid.UUID, int],
    slots: int,
    eligible=lambda candidate: True,
) -> list[Candidate]:
    """Pick up to ``slots`` runs: fewest active runs per user first, then priority, FIFO."""
    picked: list[Candidate] = []
    queues = {owner: [c for c in runs if eligible(c)] for owner, runs in heads.items()}
    heap = []
    for owner, runs in queues.items():
        if runs:
            best = runs[0]
            heap.append((active.get(owner, 0), -best.priority, best.created, str(owner), owner))
    heapq.heapify(heap)
    positions = dict.fromkeys(queues, 0)
    while heap and len(picked) < slots:
        count, _, _, _, owner = heapq.heappop(heap)
        runs = queues[owner]
        picked.append(runs[positions[owner]])
        positions[owner] += 1
        if positions[owner] < len(runs):
            best = runs[positions[owner]]
            heapq.heappush(heap, (count + 1, -best.priority, best.created, str(owner), owner))
    return picked
