"""Run managers: the conformance suite over every registered one, and the local runtime.

Real processes: the run's job controller and serial engine are started for
real, their jobs run ``bash -c`` in the workspace.
"""

from __future__ import annotations

import os
import signal
import time

import psutil
import pytest
from k8s_double.pytest_plugin import k8s_cluster, reana_on_k8s  # noqa: F401 - fixtures
from reana_commons.config import get_config
from reana_db.enums import JobStatus, RunStatus
from reana_db.models import Job, RunHandle, Workflow
from reana_testing.pytest_plugin import apply_env
from reana_workflow_controller import runs
from reana_workflow_controller.reconciler import Reconciler
from reana_workflow_controller.run_managers import (
    RUN_MANAGERS,
    get_run_manager,
    reset_run_managers,
)

LOCAL_ONLY = ["local"]
"""Run managers that can run on this machine (kubernetes brings its own cluster fixture)."""
CONFORMANCE = [*LOCAL_ONLY, "kubernetes"]
"""Every run manager; kubernetes runs against the Kubernetes API double (k8s-double)."""


def serial_spec(*commands):
    return {
        "version": "0.9.0",
        "inputs": {"parameters": {"seconds": "30"}},
        "workflow": {
            "type": "serial",
            "specification": {
                "steps": [
                    {"name": f"step{i}", "environment": "docker.io/library/bash", "commands": [c]}
                    for i, c in enumerate(commands)
                ]
            },
        },
    }


@pytest.fixture
def run_env(monkeypatch, reana_env):
    apply_env(monkeypatch, {"REANA_RECONCILE_GRACE": "1"})
    reset_run_managers()
    yield
    reset_run_managers()


def make_workflow(db, user, *commands, name="wf"):
    workflow = Workflow(
        name=name,
        owner_id=user.id_,
        type_="serial",
        run_number_major=1,
        reana_specification=serial_spec(*commands),
    )
    db.add(workflow)
    db.flush()
    path = get_config().shared_volume_path / "users" / str(user.id_) / "workflows" / str(
        workflow.id_
    )
    path.mkdir(parents=True)
    workflow.workspace_path = str(path)
    db.commit()
    return workflow


def wait_for(predicate, seconds=20.0, step=0.05):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {seconds}s")


def running_job(db, workflow):
    db.expire_all()
    return db.query(Job).filter_by(workflow_uuid=workflow.id_, status=JobStatus.running).first()


def handle_of(db, workflow):
    db.expire_all()
    return db.get(RunHandle, workflow.id_).handle


@pytest.mark.parametrize("name", CONFORMANCE)
def test_conformance_start_alive_stop(db, user, run_env, name, request):
    """Every run manager: start gives a handle with a URL, is_alive, stop ends it all.

    ``end_cause`` is None while the runtime is intact and names what ended it
    once it was ended from outside the engine (here: by ``stop``).
    """
    assert set(CONFORMANCE) <= set(RUN_MANAGERS)
    if name == "kubernetes":
        request.getfixturevalue("reana_on_k8s")
    manager = get_run_manager(name)
    workflow = make_workflow(db, user, "echo started > out.txt; sleep ${seconds}")
    handle = manager.start(workflow)
    try:
        assert handle["job_controller_url"].startswith(("http://127.0.0.1:", "http://localhost:"))
        assert manager.is_alive(handle)
        assert manager.end_cause(handle) is None
        wait_for(lambda: running_job(db, workflow))
        wait_for(lambda: (os.path.exists(os.path.join(workflow.workspace_path, "out.txt"))))
    finally:
        manager.stop(workflow, handle)
    assert not manager.is_alive(handle)
    assert manager.end_cause(handle)
    job = wait_for(lambda: _terminal_job(db, workflow))
    assert JobStatus(job.status) in (JobStatus.stopped, JobStatus.failed)
    manager.cleanup(handle)
    manager.cleanup(handle)  # idempotent
    assert not manager.is_alive(handle)


def _terminal_job(db, workflow):
    db.expire_all()
    job = db.query(Job).filter_by(workflow_uuid=workflow.id_).first()
    return job if job is not None and JobStatus(job.status) in JobStatus.terminal() else None


def test_start_run_records_handle_and_stop_run_stops_jobs(db, user, run_env):
    workflow = make_workflow(db, user, "sleep ${seconds}")
    runs.start_run(db, workflow, {"seconds": "60"}, {})
    assert RunStatus(workflow.status) == RunStatus.pending
    handle = handle_of(db, workflow)
    assert get_run_manager().is_alive(handle)
    job = wait_for(lambda: running_job(db, workflow))
    assert "sleep 60" in job.cmd
    runs.stop_run(db, workflow)
    db.expire_all()
    assert RunStatus(db.get(Workflow, workflow.id_).status) == RunStatus.stopped
    assert not get_run_manager().is_alive(handle)
    job = wait_for(lambda: _terminal_job(db, workflow))
    assert JobStatus(job.status) == JobStatus.stopped
    with pytest.raises(runs.RunStateError) as error:
        runs.stop_run(db, workflow)
    assert error.value.status_code == 409


def test_workflow_resources_reach_the_jobs(db, user, run_env):
    """workflow.resources: the run manager gives them to the engine (REANA's variables), the
    engine kit to each job (here the serial engine, forked from the zygote)."""
    workflow = make_workflow(db, user, "sleep 60")
    workflow.reana_specification = {**workflow.reana_specification, "workflow": {
        **workflow.reana_specification["workflow"],
        "resources": {"cvmfs": ["atlas.cern.ch"], "kerberos": True}}}
    db.commit()
    runs.start_run(db, workflow, {}, {})
    job = wait_for(lambda: running_job(db, workflow))
    assert job.cvmfs_mounts == "['atlas.cern.ch']"
    runs.stop_run(db, workflow)


def test_start_twice_and_delete(db, user, run_env):
    workflow = make_workflow(db, user, "true")
    runs.start_run(db, workflow, {}, {})
    with pytest.raises(runs.RunStateError) as error:
        runs.start_run(db, workflow, {}, {})
    assert error.value.status_code == 409
    runs.stop_run(db, workflow)
    deleted = runs.delete_run(db, workflow, all_runs=False)
    assert [w.id_ for w in deleted] == [workflow.id_]
    assert not os.path.exists(workflow.workspace_path)
    with pytest.raises(runs.RunStateError) as error:
        runs.start_run(db, workflow, {}, {})
    assert error.value.status_code == 404


def test_stop_of_a_queued_run_only_changes_its_status(db, user, run_env):
    from reana_db.status import set_workflow_status

    workflow = make_workflow(db, user, "true")
    set_workflow_status(db, workflow, RunStatus.queued)
    db.commit()
    runs.stop_run(db, workflow)
    assert RunStatus(workflow.status) == RunStatus.stopped


def test_a_run_without_an_installed_engine_fails_with_the_reason(db, user, run_env, tmp_path,
                                                                  monkeypatch):
    from reana_commons.workflow_types import WORKFLOW_TYPE_TABLE
    from reana_workflow_controller.run_managers import local

    monkeypatch.setenv("REANA_WORKFLOW_ENGINES_BIN_DIR", str(tmp_path))  # an empty engines venv
    local._engine_script.cache_clear()
    missing = [t for t in WORKFLOW_TYPE_TABLE if not local._engine_script(t.engine_command)]
    if not missing:
        pytest.skip("every workflow type has an engine installed here")
    type_ = missing[0]
    workflow = make_workflow(db, user, "true")
    workflow.type_ = type_.name
    db.commit()
    with pytest.raises(runs.RunStateError) as error:
        runs.start_run(db, workflow, {}, {})
    assert f"No {type_.name} workflow engine is installed" in str(error.value)
    db.expire_all()
    stored = db.get(Workflow, workflow.id_)
    assert RunStatus(stored.status) == RunStatus.failed
    assert f"{type_.engine_command} not found" in stored.logs


def test_engines_are_found_in_the_engines_venv(tmp_path, monkeypatch):
    """An engine installed in a venv of its own is started by path, cold (not by the zygote)."""
    from reana_workflow_controller.run_managers import local, spawner

    script = tmp_path / "run-elsewhere-workflow"
    script.write_text('#!/bin/sh\necho "engine args: $*"\nexit 3\n')
    script.chmod(0o755)
    monkeypatch.setenv("REANA_WORKFLOW_ENGINES_BIN_DIR", str(tmp_path))
    local._engine_script.cache_clear()
    assert local._engine_script("run-serial-workflow") == "run-serial-workflow"  # this venv's
    assert local._engine_script("run-elsewhere-workflow") == str(script)
    log = tmp_path / "engine.log"
    process = spawner.spawn([str(script), "--workflow-uuid", "u"], {}, log, tmp_path)
    deadline = time.monotonic() + 10
    while spawner.reap() or any(p.pid == process["pid"] for p in spawner._children):
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.02)
    assert spawner.exit_file_of(log).read_text().strip() == "3"
    assert "engine args: --workflow-uuid u" in log.read_text()
    assert process["pid"]
    local._engine_script.cache_clear()


@pytest.mark.parametrize("victim", ["engine", "job_controller"])
def test_reconciler_fails_a_run_whose_process_was_killed(db, user, run_env, victim):
    from reana_commons.config import job_controller_dir
    from reana_db.user_secrets import add_secrets

    add_secrets(db, user, {"key.pem": (b"-----BEGIN KEY-----", "file")})
    db.commit()
    workflow = make_workflow(db, user, "sleep 60")
    runs.start_run(db, workflow, {}, {})
    handle = handle_of(db, workflow)
    wait_for(lambda: running_job(db, workflow))
    secrets = job_controller_dir(workflow.id_) / "secrets"
    assert (secrets / "key.pem").read_bytes() == b"-----BEGIN KEY-----"
    reconciler = Reconciler(grace=1.0, interval=0.2)
    assert reconciler.reconcile_once() == []
    _apply_status_messages(db, workflow, until="Publishing step")
    os.kill(handle[victim]["pid"], signal.SIGKILL)
    started = time.monotonic()
    # What the status writer adds when the engine reports the failure: a vanished job
    # controller is a cause, a vanished engine is not (it exits after every report).
    cause = get_run_manager().end_cause(handle)
    if victim == "job_controller":
        wait_for(lambda: get_run_manager().end_cause(handle))
        assert get_run_manager().end_cause(handle) == (
            f"its job controller process (pid {handle['job_controller']['pid']}) is gone")
    else:
        assert cause is None
    thread = reconciler.start_thread()
    try:
        wait_for(lambda: _status(db, workflow) == RunStatus.failed, seconds=10)
    finally:
        reconciler.stopping.set()
        thread.join(5)
    assert time.monotonic() - started < 5
    db.expire_all()
    failed = db.get(Workflow, workflow.id_)
    assert "engine or job controller process is gone" in failed.logs
    # The engine's output is added once: what its status messages brought is not repeated.
    lines = [line for line in failed.logs.splitlines() if " | reana-workflow-engine" in line]
    assert lines and len(lines) == len(set(lines)), failed.logs
    assert not secrets.exists()  # the owner's decrypted secrets went with the run
    # Nothing of the run is left: engine, job controller, and the job's sleep.
    wait_for(lambda: not _run_processes(workflow), seconds=10)


def _apply_status_messages(db, workflow, until: str, seconds: float = 20.0):
    """Let a job-status consumer apply the run's messages until its logs show ``until``."""
    from reana_workflow_controller.consumers.jobs_status import JobStatusConsumer

    def seen():
        db.expire_all()
        return until in (db.get(Workflow, workflow.id_).logs or "")

    deadline = time.monotonic() + seconds
    consumer = JobStatusConsumer()
    consumer.loop(stop=lambda: seen() or time.monotonic() > deadline, idle_timeout=0.05)
    consumer.close()
    assert seen()


def _status(db, workflow):
    db.expire_all()
    return RunStatus(db.get(Workflow, workflow.id_).status)


def _run_processes(workflow):
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get("REANA_WORKFLOW_UUID") == str(workflow.id_):
                if process.status() != psutil.STATUS_ZOMBIE:
                    found.append(process)
        except (psutil.Error, OSError):
            continue
    return found


def test_reconciler_waits_for_the_final_status_of_an_engine_that_succeeded(db, user, run_env):
    workflow = make_workflow(db, user, "true")
    runs.start_run(db, workflow, {}, {})
    handle = handle_of(db, workflow)
    exit_file = os.path.join(handle["run_dir"], "engine.exit")
    wait_for(lambda: os.path.exists(exit_file) and open(exit_file).read().strip())
    assert open(exit_file).read().strip() == "0"
    manager = get_run_manager()
    assert not manager.is_alive(handle) and manager.engine_exited_cleanly(handle)
    # No consumer runs here: the final "finished" is still in the queue. Not a dead run.
    reconciler = Reconciler(grace=0.2, interval=0.1)
    reconciler.reconcile_once()
    time.sleep(0.5)
    assert reconciler.reconcile_once() == []
    assert _status(db, workflow) == RunStatus.pending
    manager.cleanup(handle)


def test_a_job_controller_that_cannot_bind_is_started_again_and_the_run_finishes(
        db, user, run_env, monkeypatch):
    """The first attempt's job controller loses its address (as when another process took
    its port): its engine, ended with SIGTERM, reports "Workflow exited unexpectedly." —
    a report of a superseded attempt, which changes nothing. The second attempt finishes."""
    import threading

    from reana_workflow_controller.consumers.jobs_status import JobStatusConsumer
    from reana_workflow_controller.run_managers import spawner

    real_spawn, spawned = spawner.spawn, []

    def first_cannot_bind(argv, env, log_file, cwd):
        if argv[0] == "reana-job-controller":
            spawned.append(env["REANA_RUN_ATTEMPT"])
            if len(spawned) == 1:
                argv = [("203.0.113.1" if a == "127.0.0.1" else a) for a in argv]  # not ours
        return real_spawn(argv, env, log_file, cwd)

    monkeypatch.setattr(spawner, "spawn", first_cannot_bind)
    consumer, done = JobStatusConsumer(), threading.Event()
    thread = threading.Thread(target=consumer.loop, kwargs={"stop": done.is_set}, daemon=True)
    thread.start()
    try:
        workflow = make_workflow(db, user, "echo hello")
        runs.start_run(db, workflow, {}, {})
        assert spawned == ["1", "2"]
        assert handle_of(db, workflow)["attempt"] == 2
        wait_for(lambda: _status(db, workflow) in RunStatus.terminal(), seconds=30)
    finally:
        done.set()
        thread.join(10)
        consumer.close()
    stored = db.get(Workflow, workflow.id_)
    assert RunStatus(stored.status) == RunStatus.finished, stored.logs
    assert "exited unexpectedly" not in stored.logs


def _slow_job_controller(monkeypatch, seconds: float) -> list[str]:
    """Job controllers that take ``seconds`` before they even start (a loaded machine: a cold
    start of Python costs seconds of CPU); returns the attempts spawned."""
    import shutil
    import sys

    from reana_workflow_controller.run_managers import spawner

    real_spawn, spawned = spawner.spawn, []
    script = shutil.which("reana-job-controller") or str(
        __import__("pathlib").Path(sys.executable).parent / "reana-job-controller")

    def slow(argv, env, log_file, cwd):
        if argv[0] == "reana-job-controller":
            spawned.append(env["REANA_RUN_ATTEMPT"])
            argv = ["/bin/bash", "-c", f'sleep {seconds} && exec "{script}" "$@"', "jc",
                    *argv[1:]]
        return real_spawn(argv, env, log_file, cwd)

    monkeypatch.setattr(spawner, "spawn", slow)
    return spawned


def test_a_slow_job_controller_is_waited_for_not_replaced(db, user, run_env, monkeypatch):
    """The live-log flake under load: a job controller slower to listen than the old fixed
    30 s was killed and started again while its engine was already sending it jobs (a job row
    left at insert, a step ended after its first lines), and the reconciler failed the run
    that was still starting. Now one attempt is waited for and the run finishes; a reconciler
    without grace meanwhile leaves the starting run alone (the start takes 3 times longer than
    the reconciler's start grace)."""
    import threading

    from reana_workflow_controller import reconciler as reconciler_module
    from reana_workflow_controller.consumers.jobs_status import JobStatusConsumer

    monkeypatch.setattr(reconciler_module, "START_GRACE", 3.0)  # for the spawn itself
    spawned = _slow_job_controller(monkeypatch, 9)
    apply_env(monkeypatch, {"REANA_JOB_CONTROLLER_START_TIMEOUT": "120"})
    consumer, done = JobStatusConsumer(), threading.Event()
    threads = [threading.Thread(target=consumer.loop, kwargs={"stop": done.is_set},
                                daemon=True)]
    watcher = Reconciler(grace=0.0, interval=0.05)
    failed: list = []

    def reconcile():
        while not done.is_set():
            failed.extend(watcher.reconcile_once())
            done.wait(0.05)

    threads.append(threading.Thread(target=reconcile, daemon=True))
    for thread in threads:
        thread.start()
    try:
        workflow = make_workflow(db, user, "echo hello from the only attempt")
        runs.start_run(db, workflow, {}, {})
        assert spawned == ["1"]  # waited for, not replaced
        wait_for(lambda: _status(db, workflow) in RunStatus.terminal(), seconds=60)
    finally:
        done.set()
        for thread in threads:
            thread.join(10)
        consumer.close()
    stored = db.get(Workflow, workflow.id_)
    assert RunStatus(stored.status) == RunStatus.finished, stored.logs
    assert failed == [] and "reconciler" not in stored.logs
    jobs = db.query(Job).filter(Job.workflow_uuid == workflow.id_).all()
    assert [JobStatus(job.status) for job in jobs] == [JobStatus.finished]


def test_a_job_controller_that_never_listens_fails_the_start_once(db, user, run_env,
                                                                  monkeypatch):
    """Past REANA_JOB_CONTROLLER_START_TIMEOUT the start fails, naming the setting, without
    a second attempt (a live job controller is never replaced), and nothing is left running."""
    spawned = _slow_job_controller(monkeypatch, 30)
    apply_env(monkeypatch, {"REANA_JOB_CONTROLLER_START_TIMEOUT": "2"})
    workflow = make_workflow(db, user, "echo never")
    with pytest.raises(runs.RunStateError, match="REANA_JOB_CONTROLLER_START_TIMEOUT"):
        runs.start_run(db, workflow, {}, {})
    assert spawned == ["1"]
    assert _status(db, workflow) == RunStatus.failed
    wait_for(lambda: not _run_processes(workflow), seconds=20)
