"""Provenance of every job and the job cache, through a real job controller process."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
from reana_db.models import JobProvenance
from reana_testing.job_controller import JobControllerProcess, create_workflow

pytestmark = pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _record(db, job_id: str) -> JobProvenance:
    db.expire_all()
    return db.get(JobProvenance, __import__("uuid").UUID(job_id))


def _run(jc, cmd: str, fields: dict, **extra) -> dict:
    job_id = jc.submit(cmd, **{**fields, **extra})
    job = jc.wait(job_id, timeout=60)
    assert job["status"] in ("finished", "failed"), job
    return {**job, "job_id": job_id}


def test_every_job_records_its_provenance(db, jc, job_fields, workflow):
    workspace = Path(workflow.workspace_path)
    (workspace / "data").mkdir()
    (workspace / "data" / "in.txt").write_text("3 4\n")
    (workspace / "data" / "unread.txt").write_text("not named by the command\n")
    (workspace / "old.txt").write_text("untouched\n")
    cmd = ("cd $REANA_WORKSPACE && mkdir -p out && awk '{print $1*$2}' data/in.txt > out/p.txt"
           " && echo changed >> data/in.txt")
    job = _run(jc, cmd, job_fields, env_vars={"MODE": "x"}, kubernetes_memory_limit="1Gi")
    assert job["status"] == "finished"
    record = _record(db, job["job_id"])
    assert record.command == cmd
    assert record.image == "docker.io/library/ubuntu:20.04"
    assert record.compute_backend == "local"
    assert record.node and record.runtime.startswith("host")
    assert record.exit_code == 0 and record.status.name == "finished"
    assert record.started_at and record.finished_at and record.started_at <= record.finished_at
    assert record.parameters["env_vars"] == {"MODE": "x"}
    assert record.parameters["kubernetes_memory_limit"] == "1Gi"
    # the declared input as it was read (before the job appended to it)
    assert record.inputs == [{"path": "data/in.txt", "size": 4,
                              "sha256": hashlib.sha256(b"3 4\n").hexdigest()}]
    # outputs: every file created or changed, with its digest now; untouched files are not
    outputs = {o["path"]: o for o in record.outputs}
    assert set(outputs) == {"out/p.txt", "data/in.txt"}
    assert outputs["out/p.txt"]["sha256"] == _sha(workspace / "out" / "p.txt")
    assert (workspace / "out" / "p.txt").read_text() == "12\n"
    assert record.cached is False and record.cache_key and len(record.cache_key) == 64
    assert 0 < record.overhead_ms < 1000

    failed = _run(jc, "exit 3", job_fields)
    record = _record(db, failed["job_id"])
    assert failed["status"] == "failed" and record.exit_code == 3 and record.outputs == []


def _second_run(db, user, reana_env, reana_home, options: dict):
    run = create_workflow(db, user, reana_env["SHARED_VOLUME_PATH"], name="again")
    run.operational_options = options
    db.commit()
    process = JobControllerProcess(run.id_, run.workspace_path, reana_home / "run" / str(run.id_))
    process.start()
    return run, process


def test_cache_on_serves_an_identical_job_and_ignores_invalid_entries(
        db, user, reana_env, reana_home, jc, job_fields, workflow):
    from reana_commons.engine.job_controller_client import JobControllerClient

    first_ws = Path(workflow.workspace_path)
    (first_ws / "in.txt").write_text("abc\n")
    cmd = "cd $REANA_WORKSPACE && mkdir -p r && rev in.txt > r/out.txt && date +%N > r/stamp"
    first = _run(jc, cmd, job_fields)
    assert first["status"] == "finished"
    original = (first_ws / "r" / "stamp").read_bytes()

    run, process = _second_run(db, user, reana_env, reana_home, {"CACHE": "on"})
    try:
        client = JobControllerClient(process.url, token=process.token)
        fields = {**job_fields, "workflow_uuid": str(run.id_),
                  "workflow_workspace": run.workspace_path}
        ws = Path(run.workspace_path)
        (ws / "in.txt").write_text("abc\n")
        hit = _run(client, cmd, fields)
        assert hit["status"] == "finished"
        assert (ws / "r" / "stamp").read_bytes() == original  # restored, not recomputed
        assert (ws / "r" / "out.txt").read_text() == "cba\n"
        assert "[reana] cached:" in client.logs(hit["job_id"])
        record = _record(db, hit["job_id"])
        assert record.cached and str(record.cached_from) == first["job_id"]
        assert {o["path"] for o in record.outputs} == {"r/out.txt", "r/stamp"}

        # another input: runs
        (ws / "in.txt").write_text("xyz\n")
        miss = _run(client, cmd, fields)
        assert not _record(db, miss["job_id"]).cached
        assert (ws / "r" / "out.txt").read_text() == "zyx\n"

        # an invalid entry (its output gone, as after a retention rule) is passed over
        (ws / "in.txt").write_text("abc\n")
        (first_ws / "r" / "stamp").unlink()
        rerun = _run(client, cmd, fields)
        assert rerun["status"] == "finished"
        assert not _record(db, rerun["job_id"]).cached
        assert (ws / "r" / "stamp").read_bytes() != original
    finally:
        process.kill()


def test_cache_off_by_default_runs_every_job(db, user, reana_env, reana_home, jc, job_fields,
                                             workflow):
    from reana_commons.engine.job_controller_client import JobControllerClient

    (Path(workflow.workspace_path) / "in.txt").write_text("abc\n")
    cmd = "cd $REANA_WORKSPACE && date +%N > stamp && cat in.txt"
    assert _run(jc, cmd, job_fields)["status"] == "finished"
    run, process = _second_run(db, user, reana_env, reana_home, {})
    try:
        client = JobControllerClient(process.url, token=process.token)
        (Path(run.workspace_path) / "in.txt").write_text("abc\n")
        job = _run(client, cmd, {**job_fields, "workflow_uuid": str(run.id_),
                                 "workflow_workspace": run.workspace_path})
        assert not _record(db, job["job_id"]).cached
    finally:
        process.kill()


def test_cache_restores_only_within_the_disk_quota(db, user, reana_env, reana_home, jc,
                                                    job_fields, workflow):
    from reana_commons.engine.job_controller_client import JobControllerClient
    from reana_db.quota import set_quota_limit

    (Path(workflow.workspace_path) / "in.txt").write_text("abc\n")
    cmd = "cd $REANA_WORKSPACE && head -c 5000 /dev/urandom > big.bin && cat in.txt"
    first = _run(jc, cmd, job_fields)
    assert first["status"] == "finished"
    set_quota_limit(db, user, "disk", 1000)  # less than the 5,000 bytes to restore
    db.commit()
    run, process = _second_run(db, user, reana_env, reana_home, {"CACHE": "on"})
    try:
        client = JobControllerClient(process.url, token=process.token)
        (Path(run.workspace_path) / "in.txt").write_text("abc\n")
        job = _run(client, cmd, {**job_fields, "workflow_uuid": str(run.id_),
                                 "workflow_workspace": run.workspace_path})
        assert not _record(db, job["job_id"]).cached  # ran instead of restoring
        set_quota_limit(db, user, "disk", 0)  # unlimited again: now it is served
        db.commit()
        hit = _run(client, cmd, {**job_fields, "workflow_uuid": str(run.id_),
                                 "workflow_workspace": run.workspace_path})
        assert _record(db, hit["job_id"]).cached
    finally:
        process.kill()


def _wait_for(condition, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _older_than(path: Path, seconds: float) -> bool:
    """``path`` exists and was last modified more than ``seconds`` ago."""
    try:
        return time.time_ns() - path.stat().st_mtime_ns > seconds * 1e9
    except FileNotFoundError:
        return False


def _concurrent_pair(jc, job_fields, workspace: Path, prefix: str, declare: bool):
    """Job A writes ``<p>a1`` alone, then B starts; each writes one file while both run (A:
    ``<p>a2``, B: ``<p>b1``); B writes ``<p>b2`` once A has ended. Returns A's and B's ids."""
    a_outputs = {"output_files": [f"{prefix}a1", f"{prefix}a2"]} if declare else {}
    b_outputs = {"output_files": [f"{prefix}b1", f"{prefix}b2"]} if declare else {}
    wait = "while [ ! -e {} ]; do sleep 0.02; done"
    a = jc.submit(f"cd $REANA_WORKSPACE && echo 1 > {prefix}a1 && "
                  f"{wait.format(prefix + 'b1')} && echo 2 > {prefix}a2",
                  **{**job_fields, **a_outputs})
    # B starts well after A's first write (a time apart from B's window, whatever the load)
    _wait_for(lambda: _older_than(workspace / f"{prefix}a1", 0.1), "A's first file")
    b = jc.submit(f"cd $REANA_WORKSPACE && echo 1 > {prefix}b1 && "
                  f"{wait.format(prefix + 'go')} && echo 2 > {prefix}b2",
                  **{**job_fields, **b_outputs})
    assert jc.wait(a, timeout=120)["status"] == "finished"  # its provenance is stored by now
    (workspace / f"{prefix}go").write_text("A has ended\n")
    assert jc.wait(b, timeout=120)["status"] == "finished"
    return a, b


def test_concurrent_jobs_are_not_credited_with_each_others_files(db, jc, job_fields,
                                                                 workflow):
    """Two jobs running at the same time in one workspace, each writing its own files."""
    workspace = Path(workflow.workspace_path)
    a, b = _concurrent_pair(jc, job_fields, workspace, "x-", declare=False)
    first, second = _record(db, a), _record(db, b)
    # A wrote x-a1 alone; x-a2 and x-b1 were written while both ran: which job wrote each
    # cannot be told from the workspace, so neither is credited with them as certain
    assert [o["path"] for o in first.outputs] == ["x-a1"]
    assert {o["path"]: o["jobs"] for o in first.outputs_during} == {"x-a2": [b], "x-b1": [b]}
    assert {o["path"] for o in second.outputs} == {"x-b2", "x-go"}  # after A ended: B's
    assert {o["path"]: o["jobs"] for o in second.outputs_during} == {"x-a2": [a], "x-b1": [a]}
    during = {o["path"]: o for o in first.outputs_during}
    assert during["x-a2"]["sha256"] == _sha(workspace / "x-a2")
    # a job that ran beside others writing files is no cache entry (what to restore?)
    from reana_job_controller.job_cache import _inputs_match
    from reana_job_controller.provenance import JobStart

    assert not _inputs_match({"inputs": [], "outputs": [], "outputs_during":
                              first.outputs_during}, JobStart(a, None, [], "", 0, 0))


def test_concurrent_jobs_declaring_their_outputs_are_each_credited_with_theirs(
        db, jc, job_fields, workflow):
    """With ``output_files`` (the CWL engine gives each job's output folder) the same two
    jobs are told apart exactly."""
    workspace = Path(workflow.workspace_path)
    a, b = _concurrent_pair(jc, job_fields, workspace, "y-", declare=True)
    first, second = _record(db, a), _record(db, b)
    assert [o["path"] for o in first.outputs] == ["y-a1", "y-a2"]
    assert first.outputs_during == []
    assert {o["path"] for o in second.outputs} == {"y-b1", "y-b2", "y-go"}
    assert second.outputs_during == []
    assert _record(db, a).parameters.get("output_files") is None  # not a parameter
