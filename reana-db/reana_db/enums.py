"""Enumerations with REANA 0.9's integer values (they travel in MQ messages)."""

from enum import IntEnum, StrEnum


class RunStatus(IntEnum):
    """Status of a workflow run."""

    created = 0
    running = 1
    finished = 2
    failed = 3
    deleted = 4
    stopped = 5
    queued = 6
    pending = 7

    @classmethod
    def alive(cls) -> frozenset["RunStatus"]:
        """Statuses of a run that has not ended."""
        return frozenset({cls.created, cls.queued, cls.pending, cls.running})

    @classmethod
    def active(cls) -> frozenset["RunStatus"]:
        """Statuses of a run that occupies the runtime (counted for concurrency)."""
        return frozenset({cls.pending, cls.running})

    @classmethod
    def terminal(cls) -> frozenset["RunStatus"]:
        return frozenset({cls.finished, cls.failed, cls.stopped, cls.deleted})


class JobStatus(IntEnum):
    """Status of one job (step command) of a run."""

    created = 0
    running = 1
    finished = 2
    failed = 3
    stopped = 4
    queued = 5

    @classmethod
    def terminal(cls) -> frozenset["JobStatus"]:
        return frozenset({cls.finished, cls.failed, cls.stopped})


class UserTokenStatus(IntEnum):
    requested = 0
    active = 1
    revoked = 2


class UserTokenType(IntEnum):
    reana = 0


class AuditLogAction(IntEnum):
    request_token = 0
    grant_token = 1
    revoke_token = 2


class WorkspaceRetentionRuleStatus(IntEnum):
    created = 0
    active = 1
    inactive = 2
    applied = 3
    pending = 4


class ResourceType(IntEnum):
    cpu = 0
    disk = 1


class ResourceUnit(IntEnum):
    bytes_ = 0
    milliseconds = 1


class QuotaHealth(IntEnum):
    healthy = 0
    warning = 1
    critical = 2


class InteractiveSessionType(IntEnum):
    jupyter = 0


class AccessType(IntEnum):
    read = 0


class SecretType(StrEnum):
    """How a user secret reaches jobs: as an environment variable or a file."""

    env = "env"
    file = "file"
