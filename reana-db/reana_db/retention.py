"""Workspace retention rules: creation, activation, inactivation and application.

Lifecycle (REANA's): a rule is ``created`` with its run, becomes ``active``
when the run ends (``apply_on`` = that day 23:59:59 + ``retention_days``),
``inactive`` when the run is restarted, and the periodic job moves due active
rules to ``pending``, deletes the matching files except the declared inputs
and outputs, then marks them ``applied`` (back to ``active`` on error).
Every insert and status change of a rule writes a
``workspace_retention_audit_log`` row (mapper events in :mod:`reana_db.models`,
so no writer can forget it).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path, PurePosixPath

from reana_commons.config import Config, get_config
from reana_commons.errors import REANAError, WorkspacePathError
from reana_commons.workspace.patterns import compile_pattern, iter_matches
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from reana_db import disk_measurement, quota
from reana_db.enums import WorkspaceRetentionRuleStatus as RuleStatus
from reana_db.locking import lock_run
from reana_db.models import Workflow, WorkspaceRetentionRule, utcnow

log = logging.getLogger(__name__)

DEFAULT_RULE_FILES = "**/*"

Deleter = Callable[[Path, str, set[str]], int]
"""``deleter(workspace, glob, keep)`` removes matches except ``keep``; returns how many."""


class InvalidRetentionRule(REANAError, ValueError):
    """A ``workspace.retention_days`` entry that cannot be accepted (400)."""

    status_code = 400


# -- creation ----------------------------------------------------------------


def _check_glob(pattern: str) -> None:
    path = PurePosixPath(pattern)
    if not pattern or path.is_absolute() or ".." in path.parts:
        raise InvalidRetentionRule(
            f"Retention rule {pattern!r} must be a relative path without '..'."
        )
    try:
        compile_pattern(pattern)  # the workspace's glob rules and complexity limit
    except WorkspacePathError as error:
        raise InvalidRetentionRule(f"Retention rule {pattern!r}: {error.message}") from None


def maximum_retention_days(config: Config | None = None) -> int | None:
    """``WORKSPACE_RETENTION_PERIOD`` in days, ``None`` for ``forever``."""
    period = str((config or get_config()).workspace_retention_period).strip().lower()
    if period in ("", "forever"):
        return None
    return int(period)


def rules_for_new_workflow(spec: dict | None, config: Config | None = None) -> list[dict]:
    """The rules of a new run: ``workspace.retention_days`` plus the default ``**/*`` rule.

    Returns ``[{"workspace_files", "retention_days"}]``. The default rule uses
    ``WORKSPACE_RETENTION_PERIOD`` and is absent when that is ``forever``; a
    user's own ``**/*`` rule replaces it. Raises :class:`InvalidRetentionRule`.
    """
    maximum = maximum_retention_days(config)
    requested = ((spec or {}).get("workspace") or {}).get("retention_days") or {}
    if not isinstance(requested, dict):
        raise InvalidRetentionRule("workspace.retention_days must be a mapping of glob to days.")
    rules = []
    for pattern, days in requested.items():
        _check_glob(pattern)
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise InvalidRetentionRule(
                f"Retention period of {pattern!r} must be a non-negative integer."
            )
        if maximum is not None and days >= maximum:  # REANA's rule: below the maximum
            raise InvalidRetentionRule(
                f"Maximum workflow retention period was reached. Please use less than "
                f"{maximum} days."
            )
        rules.append({"workspace_files": pattern, "retention_days": days})
    if maximum is not None and DEFAULT_RULE_FILES not in requested:
        rules.append({"workspace_files": DEFAULT_RULE_FILES, "retention_days": maximum})
    return rules


def add_rules(
    session: Session, workflow: Workflow, spec: dict | None, config: Config | None = None
) -> list[WorkspaceRetentionRule]:
    """Create the ``created`` rules of a new run (or of a restart) from its spec."""
    created = []
    for values in rules_for_new_workflow(spec, config):
        rule = WorkspaceRetentionRule(
            workflow_id=workflow.id_, status=RuleStatus.created, **values
        )
        session.add(rule)
        created.append(rule)
    session.flush()
    return created


# -- transitions -------------------------------------------------------------


def activate_rules(session, workflow, now: datetime | None = None) -> None:
    """Activate the run's created rules: ``apply_on`` = today 23:59:59 + retention days."""
    today_end = datetime.combine((now or utcnow()).date(), time(23, 59, 59))
    for rule in workflow.retention_rules:
        if rule.status == RuleStatus.created:
            rule.status = RuleStatus.active
            rule.apply_on = today_end + timedelta(days=rule.retention_days)


def inactivate_rules(workflow: Workflow, session: Session | None = None) -> int:
    """Inactivate the created/active rules of a run being restarted; returns how many."""
    session = session or object_session(workflow)
    count = 0
    for rule in workflow.retention_rules:
        if rule.status in (RuleStatus.created, RuleStatus.active):
            rule.status = RuleStatus.inactive
            count += 1
    if session is not None:
        session.flush()
    return count


def has_pending_rules(session: Session, workflow: Workflow) -> bool:
    """Whether a rule of the run is being applied (restarts are refused meanwhile)."""
    return (
        session.scalar(
            select(WorkspaceRetentionRule.id_)
            .where(
                WorkspaceRetentionRule.workflow_id == workflow.id_,
                WorkspaceRetentionRule.status == RuleStatus.pending,
            )
            .limit(1)
        )
        is not None
    )


# -- application -------------------------------------------------------------


def declared_inputs_outputs(spec: dict | None) -> set[str]:
    """Relative paths of the files and directories a spec declares as inputs or outputs."""
    spec = spec or {}
    keep: set[str] = set()
    for section in ("inputs", "outputs"):
        declared = spec.get(section) or {}
        for kind in ("files", "directories"):
            for path in declared.get(kind) or []:
                keep.add(str(PurePosixPath(str(path).lstrip("/"))))
    return keep


def _is_kept(relative: str, keep: set[str]) -> bool:
    parts = PurePosixPath(relative).parts
    prefixes = {str(PurePosixPath(*parts[:i])) for i in range(1, len(parts) + 1)}
    return bool(prefixes & keep)


def _holds_kept(relative: str, keep: set[str]) -> bool:
    return any(k == relative or k.startswith(relative + "/") for k in keep)


def delete_matching_files(workspace: Path, pattern: str, keep: set[str]) -> int:
    """Remove the files matching ``pattern`` in ``workspace`` except ``keep``; returns how many.

    Symlinks are removed, never followed; matched directories are removed once
    emptied (a directory holding a kept path stays).
    """
    _check_glob(pattern)
    workspace = Path(workspace)
    if not workspace.is_dir():
        return 0
    removed = 0
    directories = []
    real_root = workspace.resolve()
    # The workspace's own glob matcher: linear time, never through a symlinked directory.
    matches = [Path(e.path) for e in iter_matches(str(real_root), compile_pattern(pattern))]
    for match in sorted(matches, reverse=True):
        relative = match.relative_to(real_root).as_posix()
        if _is_kept(relative, keep):
            continue
        parent = match.parent.resolve()
        if parent != real_root and real_root not in parent.parents:
            continue  # reached through a symlinked directory: outside the workspace
        if match.is_symlink() or match.is_file():
            match.unlink(missing_ok=True)
            removed += 1
        elif match.is_dir() and not _holds_kept(relative, keep):
            directories.append(match)
    for directory in sorted(directories, key=lambda p: len(p.parts), reverse=True):
        for root, dirs, files in os.walk(directory, topdown=False):
            for name in files + [d for d in dirs if Path(root, d).is_symlink()]:
                Path(root, name).unlink(missing_ok=True)
                removed += 1
            if not Path(root).is_symlink():
                try:
                    Path(root).rmdir()
                except OSError:
                    pass
    return removed


def due_rules(session: Session, now: datetime | None = None) -> list[WorkspaceRetentionRule]:
    """Active rules whose ``apply_on`` has passed."""
    return list(
        session.scalars(
            select(WorkspaceRetentionRule)
            .where(
                WorkspaceRetentionRule.status == RuleStatus.active,
                WorkspaceRetentionRule.apply_on < (now or utcnow()),
            )
            .order_by(WorkspaceRetentionRule.apply_on)
        )
    )


def apply_due_rules(
    session: Session, now: datetime | None = None, deleter: Deleter | None = None
) -> list[WorkspaceRetentionRule]:
    """Apply every due rule (the periodic job); returns the rules now ``applied``.

    Commits after each step, as this is the edge of a periodic job: a rule is
    visibly ``pending`` while its files are deleted, so restarts are refused.
    The files are deleted and the workspace walked outside any transaction;
    then the rule is marked ``applied`` and the size recorded in one short
    transaction that takes its locks in the order every disk writer does (the
    run, its owner's total, the usage rows: :func:`reana_db.disk_measurement.record`).
    """
    deleter = deleter or delete_matching_files
    applied = []
    for rule in due_rules(session, now):
        workflow = rule.workflow
        run_id, rule_id = workflow.id_, rule.id_
        rule.status = RuleStatus.pending
        session.commit()
        try:
            workspace = quota.workspace_path_of(workflow)
            if workspace is not None:
                keep = declared_inputs_outputs(workflow.reana_specification)
                deleter(workspace, rule.workspace_files, keep)
                size = quota.directory_size(workspace)
                session.commit()  # ends the read transaction that loaded the rule
                disk_measurement.record(session, run_id, size)
            else:
                lock_run(session, run_id)
            rule.status = RuleStatus.applied
            session.commit()
            applied.append(rule)
        except Exception:
            log.exception("Could not apply retention rule %s of %s", rule_id, run_id)
            session.rollback()
            rule.status = RuleStatus.active
            session.commit()
    return applied
