"""Live job logs: one file per running job, written by its job controller, read by the API.

A running job's output is kept in
``<SHARED_VOLUME_PATH>/.reana/live-logs/<workflow uuid>/<job id>.log``: the
``local`` backend points the job's stdout and stderr at it; for the other
backends the job controller appends what the backend reports (Slurm's output
file, the pod log) every ``REANA_LIVE_LOG_INTERVAL`` seconds. The workflow
controller's logs answers read the tail of that file while the job runs and the
database once it ended; the file is removed after the job's end and logs are
stored in the database (one write per job, whatever the number of lines).

The folder lies outside every workspace: a sandboxed job, a podman container
and a job pod see only their own workspace, so a job cannot write any live log,
not even its own except through its output. The API opens the file without
following links and serves only a regular, single-link file on the folder's own
device (as workspace files, ADR 0019). See ADR 0026.
"""

from __future__ import annotations

import codecs
import logging
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from reana_commons.config import Config, get_config
from reana_commons.errors import WorkspaceFileNotFound, WorkspaceNotFound, WorkspacePathError
from reana_commons.workspace.paths import open_file

log = logging.getLogger(__name__)

LIVE_LOGS_FOLDER = (".reana", "live-logs")
"""Below ``SHARED_VOLUME_PATH``."""
DIR_MODE = 0o750
FILE_MODE = 0o640


def live_logs_root(config: Config | None = None) -> Path:
    """``<SHARED_VOLUME_PATH>/.reana/live-logs``."""
    return (config or get_config()).shared_volume_path.joinpath(*LIVE_LOGS_FOLDER)


def _uuid(value) -> str:
    return str(uuid.UUID(str(value)))  # raises ValueError: never a path of the caller's choosing


def run_live_dir(workflow_uuid, config: Config | None = None) -> Path:
    """The live-log folder of one run."""
    return live_logs_root(config) / _uuid(workflow_uuid)


def live_log_path(workflow_uuid, job_id, config: Config | None = None) -> Path:
    """The live log file of one job."""
    return run_live_dir(workflow_uuid, config) / f"{_uuid(job_id)}.log"


def make_run_live_dir(workflow_uuid, config: Config | None = None) -> Path:
    """Create (if needed) and return the run's live-log folder."""
    path = run_live_dir(workflow_uuid, config)
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    return path


def create_live_log(workflow_uuid, job_id, config: Config | None = None) -> int:
    """A new, empty live log file opened for appending (a descriptor; the caller closes it)."""
    folder = make_run_live_dir(workflow_uuid, config)
    return os.open(folder / f"{_uuid(job_id)}.log",
                   os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND | os.O_NOFOLLOW
                   | os.O_CLOEXEC, FILE_MODE)


def remove_live_log(workflow_uuid, job_id, config: Config | None = None) -> None:
    try:
        live_log_path(workflow_uuid, job_id, config).unlink()
    except FileNotFoundError:
        pass


def remove_run_live_dir(workflow_uuid, config: Config | None = None) -> None:
    """Remove the run's live-log folder if no live log is left in it."""
    try:
        run_live_dir(workflow_uuid, config).rmdir()
    except OSError:
        pass


@dataclass(frozen=True)
class LiveLog:
    """What a live log file holds: ``text`` starts at byte ``start`` of ``size`` bytes."""

    text: str
    start: int
    size: int

    @property
    def truncated(self) -> bool:
        return self.start > 0


def read_live_log(workflow_uuid, job_id, tail: int | None = None,
                  config: Config | None = None) -> LiveLog | None:
    """The live log of a job (its last ``tail`` bytes), or ``None`` when it has none.

    An incomplete UTF-8 sequence at the end (the job is in the middle of
    writing a character) is left out, so a later read only adds to the text;
    one cut at the start of a tail is dropped. A file that is not a regular,
    single-link file on the folder's device is not read (``None``, logged).
    """
    try:
        name = f"{_uuid(workflow_uuid)}/{_uuid(job_id)}.log"
        handle = open_file(live_logs_root(config), name)
    except (ValueError, WorkspaceNotFound, WorkspaceFileNotFound, FileNotFoundError):
        return None
    except WorkspacePathError as refusal:
        log.warning("live log of job %s not served: %s", job_id, refusal)
        return None
    with handle:
        size = os.fstat(handle.fileno()).st_size
        start = max(size - tail, 0) if tail is not None else 0
        handle.seek(start)
        data = handle.read(size - start)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    if start:
        data = _skip_continuation(data)
    return LiveLog(decoder.decode(data, final=False), start, size)


def _skip_continuation(data: bytes) -> bytes:
    """``data`` without the continuation bytes of a character cut at its start."""
    index = 0
    while index < min(len(data), 3) and 0x80 <= data[index] < 0xC0:
        index += 1
    return data[index:]
