"""An adage tracker: progress of the run as its DAG unfolds, and the run's state file.

adage calls ``initialize``, then ``track`` after every tick, then ``finalize``.
Each call walks the DAG (skipping yadage's pure-publishing ``init`` nodes, which
run no job): ``total`` is the number of stage nodes scheduled so far (it grows
as yadage schedules stages), and each node's job is running, finished or failed.
Only changes are published (job ids as deltas; the consumer unions them), and
every change rewrites ``_yadage/yadage_workflow_track.json``: the progress and
the DAG (nodes with stage, state and job id; edges).
"""

from __future__ import annotations

import json
import os
import tempfile

import adage.dagstate as dagstate
import adage.nodestate as nodestate
import networkx as nx

TRACK_FILE = "yadage_workflow_track.json"


def node_status(node) -> str:
    """``running``/``finished``/``failed``, or ``planned`` before its job was submitted."""
    if node.state == nodestate.RUNNING:
        return "running"
    if dagstate.node_status(node):
        return "finished"
    if dagstate.node_ran_and_failed(node):
        return "failed"
    return "planned"


def is_pure_publishing(node) -> bool:
    return bool(node.task.metadata.get("wflow_hints", {}).get("is_purepub", False))


def job_id_of(node) -> str | None:
    proxy = node.resultproxy
    return getattr(proxy, "job_id", None) if proxy is not None else None


def dag_snapshot(adageobj) -> dict:
    """The DAG as JSON: stage nodes (name, state, job id) and the edges between them."""
    dag = adageobj.dag
    nodes = []
    for identifier in nx.topological_sort(dag):
        node = dag.getNode(identifier)
        metadata = node.task.metadata
        nodes.append({
            "id": identifier,
            "name": metadata.get("name") or node.name,
            "stage": metadata.get("wflow_stage"),
            "offset": metadata.get("wflow_offset"),
            "state": "finished" if is_pure_publishing(node) and node.successful()
            else node_status(node),
            "job_id": job_id_of(node),
            "pure_publishing": is_pure_publishing(node),
        })
    return {"nodes": nodes, "edges": [list(edge) for edge in dag.edges()]}


class ProgressTracker:
    """Publishes the run's progress through its reporter and keeps the state file."""

    def __init__(self, reporter, metadir: str):
        self.reporter = reporter
        self.path = os.path.join(metadir, TRACK_FILE)
        self.total = 0
        self.seen: dict[str, set[str]] = {"running": set(), "finished": set(), "failed": set()}

    def initialize(self, adageobj) -> None:
        self.track(adageobj)

    def finalize(self, adageobj) -> None:
        self.track(adageobj)

    def track(self, adageobj) -> None:
        now: dict[str, set[str]] = {"running": set(), "finished": set(), "failed": set()}
        total = 0
        for identifier in adageobj.dag.nodes():
            node = adageobj.dag.getNode(identifier)
            if is_pure_publishing(node):
                continue
            total += 1
            status, job_id = node_status(node), job_id_of(node)
            if job_id and status in now:
                now[status].add(job_id)
        # A job that ended between two ticks was never seen running: it is reported running
        # and ended in one message (every ended job was once running, as with other engines).
        now["running"] |= now["finished"] | now["failed"]
        new = {key: now[key] - self.seen[key] for key in now}
        if total == self.total and not any(new.values()):
            return
        grown = total if total != self.total else None
        self.total = total
        for key in now:
            self.seen[key] |= new[key]
        self.reporter.progress(running=sorted(new["running"]), finished=sorted(new["finished"]),
                               failed=sorted(new["failed"]), total=grown)
        self.write(adageobj)

    def progress(self) -> dict:
        """REANA's progress counters as this tracker saw them last."""
        done = self.seen["finished"] | self.seen["failed"]
        running = sorted(self.seen["running"] - done)
        return {
            "total": {"total": self.total, "job_ids": []},
            "running": {"total": len(running), "job_ids": running},
            "finished": {"total": len(self.seen["finished"]),
                         "job_ids": sorted(self.seen["finished"])},
            "failed": {"total": len(self.seen["failed"]), "job_ids": sorted(self.seen["failed"])},
        }

    def write(self, adageobj) -> None:
        """Rewrite the state file atomically (readers never see half a file)."""
        document = {"progress": self.progress(), "dag": dag_snapshot(adageobj)}
        directory = os.path.dirname(self.path)
        os.makedirs(directory, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".track-")
        with os.fdopen(handle, "w") as stream:
            json.dump(document, stream, indent=1)
        os.replace(temporary, self.path)
