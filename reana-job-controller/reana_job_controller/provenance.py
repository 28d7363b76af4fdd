"""Provenance of every job: what it ran, where, and the SHA-256 of what it read and wrote.

The job controller writes one ``job_provenance`` row per job when it ends (backends report
where and how it ran through :meth:`JobManager.environment`; the controller writes). Before a
job starts, :meth:`ProvenanceRecorder.begin` scans the workspace's file states and hashes the
job's declared inputs (:mod:`reana_commons.workspace.fingerprints`); when it ended,
:meth:`ProvenanceRecorder.end` scans again and hashes only the files the job created or
changed. Jobs running at the same time in one workspace each see the others' writes as theirs:
the engines' outputs are attributed per job exactly only when jobs run one after the other.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

from reana_commons.workspace import fingerprints

from reana_job_controller.job_managers.base import JobRecord

log = logging.getLogger(__name__)

NOT_PARAMETERS = frozenset({
    "cmd", "prettified_cmd", "docker_img", "workflow_workspace", "workflow_uuid", "job_name",
    "input_files",
})
"""Job request fields recorded elsewhere (or not at all) rather than among the parameters."""
WORKSPACE_PLACEHOLDER = "$REANA_WORKSPACE"
RACY_NS = 50_000_000
"""A digest is remembered only for files last modified this long before their scan: file
times come from a coarse clock, so a younger file could change again without a new time."""


@dataclass
class JobStart:
    """What was known when a job started: the workspace's files and the inputs' digests."""

    files: dict
    inputs: list[dict]
    cache_key: str
    cost_ns: int
    started_ns: int = field(default_factory=time.time_ns)


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
        self._started: dict[str, JobStart] = {}
        self._known: dict[str, tuple[fingerprints.FileState, str]] = {}
        """Path → (state, digest) of files hashed before: a job's inputs are often the
        previous job's outputs, hashed when it ended and unchanged since."""
        self._lock = threading.Lock()

    def begin(self, job: JobRecord) -> JobStart:
        """Scan the workspace and hash the job's declared inputs, just before it starts."""
        began = time.perf_counter_ns()
        scanned_ns = time.time_ns()
        files = fingerprints.scan(self.workspace)
        named = (job.spec or {}).get("input_files") or ()
        declared = fingerprints.declared_inputs(self.workspace, job.cmd or "", files, named)
        start = JobStart(files=files, inputs=self._digests(declared, files, scanned_ns),
                         cache_key=cache_key(job, self.workspace), cost_ns=0)
        start.cost_ns = time.perf_counter_ns() - began
        with self._lock:
            self._started[job.id] = start
        return start

    def _digests(self, paths, states: dict, scanned_ns: int) -> list[dict]:
        """``[{"path", "sha256", "size"}]`` of ``paths``, from memory when unchanged."""
        found = []
        with fingerprints.TreeReader(self.workspace) as reader:
            for path in sorted(set(paths)):
                state = states.get(path)
                with self._lock:
                    known = self._known.get(path)
                if state is not None and known is not None and known[0] == state:
                    found.append({"path": path, "sha256": known[1], "size": state[0]})
                    continue
                result = reader.sha256(path)
                if result is None:
                    continue
                found.append({"path": path, "sha256": result[0], "size": result[1]})
                if (state is not None and state[1] < scanned_ns - RACY_NS
                        and state[0] == result[1]):
                    with self._lock:
                        self._known[path] = (state, result[0])
        return found

    def forget(self, job_id: str) -> None:
        with self._lock:
            self._started.pop(job_id, None)

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
            start = self._started.pop(job.id, None)
        try:
            if outputs is None:
                scanned_ns = time.time_ns()
                after = fingerprints.scan(self.workspace)
                if start is not None:
                    paths = fingerprints.changed(start.files, after)
                else:
                    paths = fingerprints.changed_since(
                        after, self.workspace, _epoch_ns(job.started_at) or 0)
                outputs = self._digests(paths, after, scanned_ns)
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
