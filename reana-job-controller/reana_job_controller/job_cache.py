"""Job caching (operational option ``CACHE=on``): a job done before is not run again.

A job is served from the cache when an earlier job of the same user finished successfully
with the same image, command and environment (:func:`~.provenance.cache_key`) and

* every declared input of that earlier job has now the SHA-256 it had then, and
* every declared input of this job was an input or an output of that earlier job (a restart in
  the same workspace finds the earlier outputs it names, e.g. ``--output results/x``);

its outputs are then copied from the earlier run's workspace (each checked against its recorded
SHA-256 first) and the job is stored as finished, marked cached in its logs and provenance.
An entry whose files are gone (retention rules, a deleted run, a changed file) is passed over:
the job then simply runs. Restoring needs room under the user's disk quota, else the job runs.
A job that ran beside other jobs of its run while files were written that it may or may not
have written (provenance's ``outputs_during``) is no cache entry: what to restore is not known.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from reana_commons.workspace import fingerprints
from reana_commons.workspace.files import save_stream
from reana_commons.workspace.paths import open_file
from reana_db.quota import absolute_workspace

from reana_job_controller.provenance import JobStart

log = logging.getLogger(__name__)

ENABLED_VALUES = frozenset({"on", "true", "yes", "1"})
CANDIDATES = 5
"""Earlier jobs tried per lookup (the newest first)."""


def caching_enabled(options: dict | None) -> bool:
    """Whether a run's operational options turn caching on (REANA's ``CACHE``, default off)."""
    value = (options or {}).get("CACHE")
    return str(value).strip().lower() in ENABLED_VALUES if value is not None else False


@dataclass(frozen=True)
class CacheHit:
    """An earlier job whose outputs were restored."""

    job_id: str
    run: str
    outputs: list[dict]


class JobCache:
    """Looks up and restores earlier jobs of the run's owner."""

    def __init__(self, store, workspace: Path):
        self.store = store
        self.workspace = Path(workspace)

    def enabled(self) -> bool:
        return caching_enabled(self.store.run_info()["operational_options"])

    def serve(self, start: JobStart) -> CacheHit | None:
        """Restore the outputs of a matching earlier job; None when there is none (run it)."""
        owner_id = self.store.run_info()["owner_id"]
        for candidate in self.store.cache_candidates(owner_id, start.cache_key, CANDIDATES):
            if not _inputs_match(candidate, start):
                continue
            source = absolute_workspace(candidate["workspace_path"])
            if source is None or not self._sources_valid(source, candidate["outputs"]):
                log.info("cache entry %s is no longer valid", candidate["job_id"])
                continue
            if not self._room_for(owner_id, candidate["outputs"]):
                log.info("cache entry %s not restored: disk quota", candidate["job_id"])
                return None
            self._restore(source, candidate["outputs"])
            return CacheHit(candidate["job_id"], candidate["run"], candidate["outputs"])
        return None

    def _sources_valid(self, source: Path, outputs: list[dict]) -> bool:
        for output in outputs:
            found = fingerprints.sha256_of(source, output["path"])
            if found is None or found[0] != output["sha256"]:
                return False
        return True

    def _room_for(self, owner_id, outputs: list[dict]) -> bool:
        room = self.store.disk_room(owner_id)
        return room is None or sum(int(o.get("size") or 0) for o in outputs) <= room

    def _restore(self, source: Path, outputs: list[dict]) -> None:
        for output in outputs:
            present = fingerprints.sha256_of(self.workspace, output["path"])
            if present is not None and present[0] == output["sha256"]:
                continue  # a restart in the same workspace: already there
            with open_file(source, output["path"]) as stream:
                save_stream(self.workspace, output["path"], stream)


def _inputs_match(candidate: dict, start: JobStart) -> bool:
    earlier = candidate["inputs"]
    if earlier is None or candidate.get("outputs_during"):
        return False  # adopted after a restart (inputs unknown), or ran beside other jobs
        # that wrote files it may have written (what it wrote is not known for certain)
    then = {item["path"]: item["sha256"] for item in earlier}
    now = {item["path"]: item["sha256"] for item in start.inputs}
    produced = {item["path"] for item in candidate["outputs"]}
    return (all(now.get(path) == digest for path, digest in then.items())
            and all(path in then or path in produced for path in now))
