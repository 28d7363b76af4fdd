"""Provenance of every job: what it ran, where, and the SHA-256 of what it read and wrote.

The job controller writes one ``job_provenance`` row per job when it ends (backends report
where and how it ran through :meth:`JobManager.environment`; the controller writes). When a job
starts, :meth:`ProvenanceRecorder.begin` brings the run's last known workspace state up to date
by re-listing only the folders that changed (:mod:`reana_commons.workspace.tree_state`) and
hashes the job's declared inputs; when it ended, :meth:`ProvenanceRecorder.end` reads every
file's state once and hashes only what the job created or changed: a file that did not exist
when it started, or whose state differs and whose modification time is not older than the
job's start (an older one was changed in place before the job, while the state kept was not
re-read).

Jobs running at the same time in one workspace are told apart by time: a file the job changed
while no other job of the run ran, or that only it declares (``output_files``, e.g. a CWL
job's output folder), is *written by* it (``outputs``); one changed while another job ran too
is *written during* it (``outputs_during``, with the other jobs), never credited to one of them
as certain.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

from reana_commons.workspace import fingerprints, tree_state

from reana_job_controller.job_managers.base import JobRecord

log = logging.getLogger(__name__)

NOT_PARAMETERS = frozenset({
    "cmd", "prettified_cmd", "docker_img", "workflow_workspace", "workflow_uuid", "job_name",
    "input_files", "output_files",
})
"""Job request fields recorded elsewhere (or not at all) rather than among the parameters."""
WORKSPACE_PLACEHOLDER = "$REANA_WORKSPACE"
RACY_NS = 10_000_000
"""A digest is remembered only for files last modified this long before their content was
read: file times come from a coarse clock (a tick of 4 ms at 250 Hz), so a younger file could
change again without a new time; unless the file system gives a file changed after a ``stat``
a new time (:func:`~reana_commons.workspace.tree_state.fine_grained_times`)."""
SLACK_NS = 10_000_000
"""A write just after a job started may carry a modification time up to one tick of the coarse
clock before it: times this close to the start count as after it."""


@dataclass
class JobStart:
    """What was known when a job started, and when it ran (for telling concurrent jobs apart)."""

    job_id: str
    known: tree_state.TreeState
    inputs: list[dict]
    cache_key: str
    cost_ns: int
    started_ns: int
    output_files: tuple[str, ...] = ()
    ended_ns: int | None = None

    def declares(self, path: str) -> bool:
        """Whether the engine said the job writes ``path`` (a file, or a folder ``x/``)."""
        return any(path == item or (item.endswith("/") and path.startswith(item))
                   for item in self.output_files)

    def ran_at(self, moment_ns: int) -> bool:
        return (self.started_ns - SLACK_NS <= moment_ns
                and (self.ended_ns is None or moment_ns <= self.ended_ns))


def _relative_outputs(workspace: Path, named) -> tuple[str, ...]:
    """The engine's ``output_files`` relative to the workspace (folders keep a final ``/``)."""
    root = str(workspace) + "/"
    found = []
    for item in named or ():
        item = str(item)
        folder = item.endswith("/")
        if item.startswith(root):
            item = item[len(root):]
        normal = os.path.normpath(item) if item else ""
        if not normal or normal.startswith("..") or os.path.isabs(normal) or normal == ".":
            continue
        found.append(normal + "/" if folder else normal)
    return tuple(found)


def cache_key(job: JobRecord, workspace: Path) -> str:
    """SHA-256 of the job's image, command and environment (the workspace path left out)."""
    where = str(workspace)
    document = {
        "image": job.docker_img,
        "command": (job.cmd or "").replace(where, WORKSPACE_PLACEHOLDER),
        "environment": {str(k): str(v).replace(where, WORKSPACE_PLACEHOLDER)
                        for k, v in sorted((job.env_vars or {}).items())},
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def parameters_of(job: JobRecord) -> dict:
    """The job's request fields that shape how it runs (environment, resources, backend)."""
    return {k: v for k, v in sorted((job.spec or {}).items())
            if k not in NOT_PARAMETERS and v not in (None, "", [], {})}


def _epoch_ns(moment) -> int | None:
    if moment is None:
        return None
    return int(moment.replace(tzinfo=UTC).timestamp() * 1e9)


class ProvenanceRecorder:
    """Records the provenance of the jobs of one run (one per job controller)."""

    def __init__(self, store, workspace: Path):
        self.store = store
        self.workspace = Path(workspace)
        self._state: tree_state.TreeState | None = None
        """The workspace as last read (by a job's start or end)."""
        self._jobs: dict[str, JobStart] = {}
        """Running jobs, and ended ones that ran beside a running one."""
        self._known: dict[str, tuple[fingerprints.FileState, str]] = {}
        """Path → (state, digest) of files hashed before: a job's inputs are often the
        previous job's outputs, hashed when it ended and unchanged since."""
        self._lock = threading.Lock()
        self._fine_times = tree_state.fine_grained_times(self.workspace.parent)
        """Whether a digest may be remembered however young its file (ADR 0028)."""

    def begin(self, job: JobRecord) -> JobStart:
        """Bring the workspace's state up to date and hash the job's declared inputs."""
        began = time.perf_counter_ns()
        started_ns = time.time_ns()
        with self._lock:
            previous = self._state
        known = tree_state.refresh(self.workspace, previous)
        with self._lock:
            if self._state is previous:
                self._state = known
        spec = job.spec or {}
        declared = fingerprints.declared_inputs(self.workspace, job.cmd or "", known.files,
                                                spec.get("input_files") or ())
        start = JobStart(job.id, known, self._digests(declared),
                         cache_key(job, self.workspace), 0, started_ns,
                         _relative_outputs(self.workspace, spec.get("output_files")))
        start.cost_ns = time.perf_counter_ns() - began
        with self._lock:
            self._jobs[job.id] = start
        return start

    def _digests(self, paths, remembered: bool = True) -> list[dict]:
        """``[{"path", "sha256", "size"}]`` of ``paths``, from memory when unchanged (unless
        ``remembered`` is False: files just seen changed, whose digest cannot be known)."""
        if not paths:
            return []
        # read without the lock: a dict's get and update are atomic, and a digest is looked
        # up only with the state it was taken in
        with fingerprints.TreeReader(self.workspace) as reader:
            results = reader.digest_all(sorted(set(paths)),
                                        self._known if remembered else None)
        fine_times = self._fine_times
        keep = {path: (state, sha256) for path, sha256, _size, state, read_ns in results
                if read_ns and (fine_times or state[1] < read_ns - RACY_NS)}
        if keep:
            with self._lock:
                self._known.update(keep)
        return [{"path": path, "sha256": sha256, "size": size}
                for path, sha256, size, _state, _read_ns in results]

    def forget(self, job_id: str) -> None:
        with self._lock:
            self._jobs.pop(job_id, None)

    def _written(self, start: JobStart, after: tree_state.TreeState
                 ) -> tuple[list[str], dict[str, list[str]]]:
        """The files ``start``'s job wrote (alone), and those written while others ran too."""
        changed = []
        for path, state in after.files.items():
            before = start.known.files.get(path)
            if before == state:
                continue
            if (before is None or before[2] != state[2]
                    or state[1] >= start.started_ns - SLACK_NS):
                changed.append(path)
        with self._lock:
            others = [other for other in self._jobs.values()
                      if other.job_id != start.job_id and other.started_ns < start.ended_ns
                      and (other.ended_ns is None or other.ended_ns > start.started_ns)]
        if not others:
            return changed, {}
        alone, during = [], {}
        for path in changed:
            if start.declares(path):
                alone.append(path)
                continue
            if any(other.declares(path) for other in others):
                continue  # another job's declared output
            modified = after.files[path][1]
            writers = [other for other in others if other.ran_at(modified)]
            if not writers and modified >= start.started_ns - SLACK_NS:
                alone.append(path)
            else:
                during[path] = sorted(other.job_id for other in writers or others)
        return alone, during

    def _settle(self, job_id: str) -> None:
        """Forget ended jobs that no running job ran beside."""
        with self._lock:
            running = [s.started_ns for s in self._jobs.values() if s.ended_ns is None]
            horizon = min(running) if running else None
            for other_id, other in list(self._jobs.items()):
                if other.ended_ns is not None and (horizon is None
                                                   or other.ended_ns < horizon):
                    del self._jobs[other_id]

    def end(self, job: JobRecord, outputs: list[dict] | None = None,
            cached_from: str | None = None) -> dict | None:
        """Store the provenance of the ended ``job``; the row written (None if it failed).

        ``outputs`` is given for a job served from the cache (the files restored); otherwise
        the files created or changed since :meth:`begin` are hashed now. A job adopted from a
        previous job controller has no :class:`JobStart`: its outputs are the files changed
        since it started (by ``ctime``) and its inputs are unknown.
        """
        began = time.perf_counter_ns()
        with self._lock:
            start = self._jobs.get(job.id)
            if start is not None:
                start.ended_ns = time.time_ns()
        during: dict[str, list[str]] = {}
        try:
            if outputs is None:
                after = tree_state.snapshot(self.workspace)
                with self._lock:
                    if self._state is None or self._state.taken_ns < after.taken_ns:
                        self._state = after
                if start is not None:
                    paths, during = self._written(start, after)
                else:
                    paths = fingerprints.changed_since(
                        after.files, self.workspace, _epoch_ns(job.started_at) or 0)
                outputs = self._digests(paths, remembered=start is None)
            outputs_during = [{**item, "jobs": during[item["path"]]}
                              for item in self._digests(during, remembered=False)]
            environment = job.environment or {}
            owner_id = self.store.run_info()["owner_id"]
            row = {
                "job_id": uuid.UUID(job.id),
                "owner_id": owner_id,
                "job_name": job.job_name,
                "image": job.docker_img,
                "image_digest": environment.get("image_digest"),
                "command": job.cmd,
                "compute_backend": job.compute_backend,
                "runtime": "cache" if cached_from else environment.get("runtime"),
                "node": environment.get("node"),
                "parameters": parameters_of(job),
                "inputs": start.inputs if start is not None else None,
                "outputs": outputs,
                "outputs_during": outputs_during,
                "started_at": job.started_at,
                "finished_at": job.finished_at,
                "exit_code": job.exit_code,
                "status": job.status,
                "cached": cached_from is not None,
                "cached_from": uuid.UUID(cached_from) if cached_from else None,
                "cache_key": start.cache_key if start is not None else None,
            }
            cost = (start.cost_ns if start is not None else 0) + time.perf_counter_ns() - began
            row["overhead_ms"] = round(cost / 1e6, 3)
            self.store.insert_provenance(row)
            return row
        except Exception:  # noqa: BLE001 - a job's end is stored even when this is not
            log.exception("could not record the provenance of job %s", job.id)
            return None
        finally:
            self._settle(job.id)
