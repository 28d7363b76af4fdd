"""A run's live view for the web UI: state, step graph and new log text, as server-sent events.

:func:`events` reads the run the way ``reana-client logs --follow`` does (the
light list answer for status and progress, then the logs answer) every
``interval`` seconds and yields only what changed since the previous read:

- ``state``: status, progress and timestamps, and the step graph with each node's state;
- ``log``: ``{"job": id | "engine", "append": text}`` when a log only grew, or
  ``{"job": ..., "text": whole}`` otherwise (first read of a connection, a cut tail);
- ``end`` once the run is finished, failed, stopped or deleted.

A connection lasts at most ``lifetime`` seconds (a browser's EventSource then
reconnects by itself, and the first read of the new connection sends everything
again), so a page left open does not hold a server thread for ever.
Nothing here imports Flask: the caller gives the two reads as functions.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

from reana_server import run_graph

ENDED = ("finished", "failed", "stopped", "deleted")
KEEPALIVE_SECONDS = 15.0
RECONNECT_MS = 1000


def sse(event: str, data) -> str:
    """One server-sent event (JSON data on one line)."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def _log_changes(previous: dict[str, str], current: dict[str, str]) -> list[dict]:
    changes = []
    for key, text in current.items():
        before = previous.get(key)
        if before == text:
            continue
        if before is not None and text.startswith(before):
            changes.append({"job": key, "append": text[len(before):]})
        else:
            changes.append({"job": key, "text": text})
    return changes


def logs_of(answer: dict) -> tuple[dict[str, str], list[dict]]:
    """``{job id | "engine": text}`` and the jobs (id, name, status) of a logs answer."""
    try:
        parsed = json.loads(answer.get("logs") or "{}")
    except ValueError:
        parsed = {}
    texts = {"engine": parsed.get("workflow_logs") or ""}
    jobs = []
    for job_id, job in (parsed.get("job_logs") or {}).items():
        texts[job_id] = job.get("logs") or ""
        jobs.append({"id": job_id, "job_name": job.get("job_name"), "status": job.get("status"),
                     "started_at": job.get("started_at"),
                     "finished_at": job.get("finished_at"),
                     "compute_backend": job.get("compute_backend"),
                     "docker_img": job.get("docker_img"), "cmd": job.get("cmd")})
    return texts, jobs


def events(read_item: Callable[[], dict | None], read_logs: Callable[[], dict | None],
           graph: run_graph.Graph, interval: float = 0.5, lifetime: float = 55.0,
           clock: Callable[[], float] = time.monotonic,
           sleep: Callable[[float], None] = time.sleep) -> Iterator[str]:
    """The event stream of one run (see the module's docstring).

    ``read_item`` returns the run's list item (None: it is gone), ``read_logs``
    its logs answer (None: not readable now, tried again at the next tick).
    """
    yield f"retry: {RECONNECT_MS}\n\n"
    started = last_sent = clock()
    sent_state = None
    sent_logs: dict[str, str] = {}
    while True:
        item = read_item()
        if item is None:
            yield sse("end", {"status": "deleted"})
            return
        answer = read_logs()
        if answer is not None:
            texts, jobs = logs_of(answer)
            state = {"status": item.get("status"), "progress": item.get("progress"),
                     "graph": run_graph.with_states(graph, jobs), "jobs": jobs}
            if state != sent_state:
                yield sse("state", state)
                sent_state, last_sent = state, clock()
            for change in _log_changes(sent_logs, texts):
                yield sse("log", change)
                last_sent = clock()
            sent_logs = texts
        if item.get("status") in ENDED and answer is not None:
            yield sse("end", {"status": item.get("status")})
            return
        now = clock()
        if now - started >= lifetime:
            return
        if now - last_sent >= KEEPALIVE_SECONDS:
            yield ": keepalive\n\n"
            last_sent = now
        sleep(interval)
