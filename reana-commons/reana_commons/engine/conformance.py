"""The engine conformance suite's side of the kit: tiny workflows and protocol checks.

Each engine registers a factory in the ``reana.workflow_engines.conformance``
entry-point group: ``factory(variant) -> ConformanceWorkflow`` for every variant of
:data:`VARIANTS`. ``tests/test_engine_conformance.py`` runs each engine's console
script on them against a real job controller and real messaging, and checks what
it published with :func:`check_protocol` and :func:`check_progress`.

Engines installed in a venv of their own (see
:func:`reana_commons.workflow_types.engines_bin_dir`) are found too:
``python -m reana_commons.engine.conformance`` run with that venv's interpreter
prints its factories' workflows as JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from reana_commons.workflow_types import CONFORMANCE_ENTRY_POINTS, engines_bin_dir

VARIANTS = ("two_jobs", "failing", "long")
"""``two_jobs``: two jobs that finish, the second after the first; ``failing``: its second
job exits non-zero; ``long``: its first job runs for a minute (to be terminated)."""

RUNNING, FINISHED, FAILED = 1, 2, 3


@dataclass
class ConformanceWorkflow:
    """A workflow of one engine, as the engine's console script receives it."""

    specification: dict | None = None
    """``--workflow-json`` (None: the engine reads ``workflow_file``)."""
    workflow_file: str | None = None
    """``--workflow-file``, relative to the workspace."""
    files: dict[str, str] = field(default_factory=dict)
    """Files written into the workspace before the run (relative path → text)."""
    parameters: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    jobs: int = 2
    """Jobs the run has when it ends (two_jobs: both finished; failing: 2 run, 1 failed)."""

    def write_files(self, workspace: Path) -> None:
        """Write :attr:`files` into ``workspace``."""
        for relative, text in self.files.items():
            path = Path(workspace) / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)


def local_factories() -> dict[str, object]:
    """Engine name → conformance factory, for the engines installed in this environment."""
    from importlib.metadata import entry_points

    return {ep.name: ep.load() for ep in entry_points(group=CONFORMANCE_ENTRY_POINTS)}


def dump() -> dict[str, dict[str, dict]]:
    """Every local engine's workflows, JSON-able: ``{engine: {variant: workflow}}``."""
    return {name: {variant: asdict(factory(variant)) for variant in VARIANTS}
            for name, factory in local_factories().items()}


def conformance_workflows() -> dict[str, dict[str, ConformanceWorkflow]]:
    """The workflows of every engine: those of this environment and of the engines' venv."""
    found: dict[str, dict[str, ConformanceWorkflow]] = {}
    python = engines_bin_dir() / "python"
    # Compare the venvs, not the interpreters: both venvs' pythons link to one base python.
    if python.exists() and python.parent.resolve() != Path(sys.executable).parent.resolve():
        answer = subprocess.run([str(python), "-m", "reana_commons.engine.conformance"],
                                capture_output=True, text=True, timeout=120, check=True)
        for name, variants in json.loads(answer.stdout).items():
            found[name] = {v: ConformanceWorkflow(**spec) for v, spec in variants.items()}
    for name, factory in local_factories().items():
        found[name] = {variant: factory(variant) for variant in VARIANTS}
    return found


# --- checks -------------------------------------------------------------------------------
def _progress(message: dict, key: str) -> dict:
    return ((message.get("message") or {}).get("progress") or {}).get(key) or {}


def job_ids(messages: list[dict], key: str) -> set[str]:
    """Every job id the messages reported under ``key`` (running, finished, failed)."""
    return {job for m in messages for job in _progress(m, key).get("job_ids", [])}


def check_protocol(messages: list[dict], workflow_uuid: str) -> int:
    """REANA's status protocol: running first, seq from 1, exactly one end, last; the end."""
    assert messages, "the engine published nothing"
    assert all(m["workflow_uuid"] == str(workflow_uuid) for m in messages), messages
    assert [m.get("seq") for m in messages] == list(range(1, len(messages) + 1)), \
        [m.get("seq") for m in messages]
    statuses = [m["status"] for m in messages]
    assert statuses[0] == RUNNING, statuses
    ends = [s for s in statuses if s in (FINISHED, FAILED)]
    assert len(ends) == 1 and statuses[-1] in (FINISHED, FAILED), statuses
    assert all(s in (RUNNING, None) for s in statuses[:-1]), statuses
    return statuses[-1]


def check_progress(messages: list[dict], jobs: int, failed: int = 0) -> None:
    """Progress adds up: the last total is ``jobs``; every finished or failed job was
    reported running; ``jobs - failed`` finished and ``failed`` failed ones."""
    totals = [_progress(m, "total")["total"] for m in messages if _progress(m, "total")]
    assert totals and totals[-1] == jobs, totals
    assert totals == sorted(totals), f"the total shrank: {totals}"
    running, finished = job_ids(messages, "running"), job_ids(messages, "finished")
    failed_ids = job_ids(messages, "failed")
    assert finished | failed_ids <= running, (running, finished, failed_ids)
    assert len(failed_ids) == failed, failed_ids
    if failed:
        assert len(finished) < jobs, finished
    else:
        assert len(finished) == jobs, finished


def collect_status_messages(timeout: float = 1.0) -> list[dict]:
    """Every ``jobs-status`` message published so far (consumed), in order."""
    from reana_commons.messaging import BaseConsumer, get_connection, jobs_status_queue

    bodies: list[dict] = []

    class Collector(BaseConsumer):
        queue = staticmethod(jobs_status_queue)

        def handle(self, body, message):
            bodies.append(body)

    connection = get_connection()
    try:
        Collector(connection=connection).drain(timeout=timeout)
    finally:
        connection.release()
    return bodies


if __name__ == "__main__":
    print(json.dumps(dump()))
