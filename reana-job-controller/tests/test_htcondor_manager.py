"""The HTCondor job manager in-process, on the HTCondor double (``make htcondor-up``).

What it sends is checked with the double's submit-description parser (the language
condor_submit reads); what it makes of job ads is checked on the state table and on
real jobs that are held, evicted, over their memory, or many at once.
"""

from __future__ import annotations

import subprocess
import time
import uuid

import pytest
from htcondor_double.submit_description import job_ads, parse
from reana_db.enums import JobStatus
from reana_job_controller.job_managers import JobRecord
from reana_job_controller.job_managers.htcondor_submit import (
    WRAPPER,
    runtime_commands,
    state_for,
    submit_description,
)
from reana_testing.batch_managers import ManagerFactory
from reana_testing.htcondor import condor_job, require_htcondor


def _description(tmp_path, **overrides) -> dict:
    wrapper = tmp_path / "wrapper.sh"
    wrapper.write_text(WRAPPER)
    workspace = tmp_path / "workspace"
    workspace.mkdir(exist_ok=True)
    fields = dict(wrapper=str(wrapper), cmd=f"cd {workspace} && echo 'it''s' \"q\"",
                  workdir=str(workspace), transfer=True, env={"A": "x y", "B": "it's \"q\""},
                  image="docker.io/library/ubuntu:20.04", unpacked=False,
                  out=str(tmp_path / "j.out"), err=str(tmp_path / "j.err"),
                  outputs=str(tmp_path / "j.tar"), job_name="step one", cpus=None,
                  memory_mb=512, max_runtime="longlunch", accounting_group="group_u_X.u")
    fields.update(overrides)
    text = submit_description(**fields)
    (ad,) = job_ads(parse(text), cluster=7, owner="u", cwd=str(tmp_path), environ={}, now=0)
    return ad


def test_submit_description_is_valid_htcondor(tmp_path):
    ad = _description(tmp_path)
    assert ad["JobUniverse"] == 5 and ad["WantContainer"] is True
    assert ad["ContainerImage"] == "docker://docker.io/library/ubuntu:20.04"
    assert ad["_environment"]["A"] == "x y" and ad["_environment"]["B"] == "it's \"q\""
    assert ad["_argv"][0] == "transfer"
    assert ad["RequestMemory"] == 512 and ad["RequestCpus"] == 1
    assert ad["JobFlavour"] == "longlunch" and ad["MaxRuntime"] == 7200
    assert ad["AcctGroup"] == "group_u_X.u" and ad["ShouldTransferFiles"] == "YES"
    assert ad["TransferInput"] == f"{tmp_path / 'workspace'}/"
    assert ad["StreamOut"] is True and ad["JobBatchName"] == "reana-step_one"


def test_submit_description_shared_file_system_no_image_seconds(tmp_path):
    ad = _description(tmp_path, transfer=False, image="", max_runtime="90",
                      accounting_group=None, memory_mb=None)
    assert ad["JobUniverse"] == 5 and "WantContainer" not in ad
    assert ad["ShouldTransferFiles"] == "NO" and ad["Iwd"] == str(tmp_path / "workspace")
    assert ad["MaxRuntime"] == 90 and "JobFlavour" not in ad and "AcctGroup" not in ad


def test_unpacked_image_uses_cvmfs(tmp_path):
    ad = _description(tmp_path, unpacked=True, image="reanahub/reana-env-root6:6.18.04")
    assert ad["ContainerImage"] == (
        "/cvmfs/unpacked.cern.ch/registry.hub.docker.com/reanahub/reana-env-root6:6.18.04")


@pytest.mark.parametrize("env", [{"A": "line\nbreak"}, {"BAD-NAME": "x"}])
def test_environment_htcondor_cannot_carry_is_refused(env):
    from reana_job_controller.job_managers.htcondor_submit import check_environment

    with pytest.raises(ValueError, match="HTCondor"):
        check_environment(env)


@pytest.mark.parametrize("value", ["forever", "-5", "0", "1.5h"])
def test_bad_max_runtime_is_refused(value):
    with pytest.raises(ValueError, match="htcondor_max_runtime"):
        runtime_commands(value)


@pytest.mark.parametrize(("ad", "status", "code", "words"), [
    ({"JobStatus": 1}, JobStatus.queued, None, ""),
    ({"JobStatus": 2}, JobStatus.running, None, ""),
    ({"JobStatus": 6}, JobStatus.running, None, ""),
    ({"JobStatus": 7}, JobStatus.queued, None, ""),
    ({"JobStatus": 4, "ExitCode": 0, "ExitBySignal": False}, JobStatus.finished, 0, ""),
    ({"JobStatus": 4, "ExitCode": 3, "ExitBySignal": False}, JobStatus.failed, 3,
     "exit code 3"),
    ({"JobStatus": 4, "ExitBySignal": True, "ExitSignal": 9}, JobStatus.failed, 137,
     "signal 9"),
    ({"JobStatus": 4, "ExitCode": 2, "NumJobStarts": 3}, JobStatus.failed, 2,
     "after 2 eviction(s)"),
    ({"JobStatus": 3, "RemoveReason": "via condor_rm (by user x)"}, JobStatus.failed, None,
     "was removed: via condor_rm"),
    ({"JobStatus": 5, "HoldReasonCode": 34, "HoldReason": "memory"}, JobStatus.failed, None,
     "HoldReasonCode 34): memory"),
    ({"JobStatus": 5, "HoldReasonCode": 16}, JobStatus.queued, None, ""),
    ({"JobStatus": 5, "HoldReasonCode": 35}, JobStatus.queued, None, ""),
])
def test_state_mapping(ad, status, code, words):
    state = state_for("12", ad, stop_requested=False)
    assert state.status == status
    assert state.exit_code == code
    assert words in state.reason


def test_removal_we_asked_for_is_stopped():
    assert state_for("12", {"JobStatus": 3}, stop_requested=True).status == JobStatus.stopped


# --- on the double ------------------------------------------------------------------------------
@pytest.fixture
def manager_factory(tmp_path, monkeypatch):
    require_htcondor()
    factory = ManagerFactory("htcondorcern", tmp_path, monkeypatch)
    yield factory
    factory.close()


def _submit(manager, cmd, **spec) -> JobRecord:
    job = JobRecord(id=str(uuid.uuid4()), workflow_uuid=manager.context.workflow_uuid,
                    status=JobStatus.created, cmd=f"cd {manager.context.workspace} && {cmd}",
                    docker_img="docker.io/library/ubuntu:20.04", job_name="step", spec=spec)
    job.backend_job_id = manager.submit(job)
    manager.follow(job)
    return job


def _wait_condor_status(cluster: str, status: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while condor_job(cluster).get("JobStatus") != status:
        assert time.monotonic() < deadline, condor_job(cluster)
        time.sleep(0.1)


def test_many_jobs_one_condor_q_per_period(manager_factory):
    manager = manager_factory()
    calls = []
    real_run = manager.transport.run

    def counting_run(argv, check=True):
        calls.append(argv[0])
        return real_run(argv, check)

    manager.transport.run = counting_run
    started = time.monotonic()
    jobs = [_submit(manager, f"sleep 1; echo job-{n} > out-{n}.txt") for n in range(5)]
    states = manager_factory.wait_ended([job.id for job in jobs])
    periods = (time.monotonic() - started) / manager.interval
    assert all(state.status == JobStatus.finished for state in states.values())
    assert calls.count("condor_q") == manager.queries <= periods + 2
    assert calls.count("condor_history") <= calls.count("condor_q")
    assert calls.count("condor_submit") == 5
    assert (manager_factory.workspace / "out-3.txt").read_text() == "job-3\n"


def test_held_job_fails_with_its_reason_and_leaves_the_queue(manager_factory):
    manager = manager_factory()
    job = _submit(manager, "sleep 60")
    _wait_condor_status(job.backend_job_id, 2)
    subprocess.run(["condor_hold", "-reason", "the admin needs the node", job.backend_job_id],
                   check=True, capture_output=True, timeout=30)
    state = manager_factory.wait_ended([job.id])[job.id]
    assert state.status == JobStatus.failed
    assert "HoldReasonCode 1): the admin needs the node" in state.reason
    _wait_condor_status(job.backend_job_id, 3)  # condor_rm'd: not left held forever


def test_evicted_job_runs_again_and_says_so(manager_factory, monkeypatch):
    # shared file system: an evicted job's scratch directory (and what it wrote) is dropped
    monkeypatch.setenv("REANA_HTCONDOR_SHOULD_TRANSFER_FILES", "NO")
    from reana_commons.config import reset_config

    reset_config()
    manager = manager_factory()
    job = _submit(manager, "echo run >> runs.txt; [ $(wc -l < runs.txt) -ge 2 ] || sleep 60")
    _wait_condor_status(job.backend_job_id, 2)
    deadline = time.monotonic() + 30
    while not (manager_factory.workspace / "runs.txt").exists():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    subprocess.run(["condor_vacate_job", job.backend_job_id], check=True, capture_output=True,
                   timeout=30)
    state = manager_factory.wait_ended([job.id])[job.id]
    assert state.status == JobStatus.finished
    assert "after 1 eviction(s)" in state.reason
    assert (manager_factory.workspace / "runs.txt").read_text() == "run\nrun\n"


def test_job_over_its_memory_is_held_and_failed(manager_factory):
    manager = manager_factory()
    job = _submit(manager, "python3 -c 'import time; x = bytearray(400 << 20); "
                           "x[::4096] = b\"y\" * len(x[::4096]); time.sleep(60)'",
                  kubernetes_memory_limit="64Mi")
    state = manager_factory.wait_ended([job.id])[job.id]
    assert state.status == JobStatus.failed
    assert "HoldReasonCode 34" in state.reason and "memory limit of 64 megabytes" in state.reason


def test_a_new_manager_adopts_a_job_that_left_the_queue(manager_factory):
    first = manager_factory()
    job = _submit(first, "exit 6")
    first.close()
    _wait_condor_status(job.backend_job_id, 4)
    second = manager_factory()
    deadline = time.monotonic() + 60
    while not (state := second.status([job.backend_job_id])[job.backend_job_id]).is_terminal:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert state.status == JobStatus.failed and state.exit_code == 6


def test_kerberos_keytab_gives_condor_commands_a_ticket(manager_factory, tmp_path, monkeypatch):
    # Stand-ins: no KDC here (and no kinit): a kinit that records its call and writes the cache,
    # and a condor_submit that records KRB5CCNAME before running the double's.
    shims = tmp_path / "bin"
    shims.mkdir()
    record = tmp_path / "record"
    (shims / "kinit").write_text(f'#!/bin/bash\necho "kinit $* $KRB5CCNAME" >> {record}\n'
                                 'touch "${KRB5CCNAME#FILE:}"\n')
    (shims / "condor_submit").write_text(
        f'#!/bin/bash\necho "submit $KRB5CCNAME" >> {record}\n'
        'exec /usr/local/bin/condor_submit "$@"\n')
    for shim in shims.iterdir():
        shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shims}:/usr/local/bin:/usr/bin:/bin")
    files = tmp_path / "secrets"
    files.mkdir()
    (files / ".keytab").write_bytes(b"keytab")
    manager = manager_factory({"CERN_USER": "jdoe", "CERN_KEYTAB": ".keytab"}, files)
    job = _submit(manager, "echo with-ticket")
    assert manager_factory.wait_ended([job.id])[job.id].status == JobStatus.finished
    ccache = f"FILE:{tmp_path / 'run' / 'htcondorcern' / 'krb5cc'}"
    assert record.read_text().splitlines() == [
        f"kinit -kt {files / '.keytab'} jdoe@CERN.CH {ccache}", f"submit {ccache}"]


def test_kerberos_without_kinit_fails_the_submission_clearly(manager_factory, tmp_path,
                                                             monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    files = tmp_path / "secrets"
    files.mkdir()
    (files / "my.keytab").write_bytes(b"keytab")
    manager = manager_factory({"CERN_USER": "jdoe", "CERN_KEYTAB": "my.keytab"}, files)
    with pytest.raises(Exception, match="Kerberos: kinit failed"):
        _submit(manager, "true")


# --- through a job controller process ------------------------------------------------------------
@pytest.fixture
def condor_job_controller(reana_env, monkeypatch, workflow, reana_home):
    """A job controller process with htcondorcern enabled (on the double)."""
    from reana_testing.job_controller import JobControllerProcess

    require_htcondor()
    monkeypatch.setenv("REANA_COMPUTE_BACKENDS", '["local","htcondorcern"]')
    monkeypatch.setenv("REANA_HTCONDOR_MONITOR_INTERVAL", "0.5")
    process = JobControllerProcess(workflow.id_, workflow.workspace_path,
                                   reana_home / "run" / str(workflow.id_))
    process.start()
    yield process
    process.kill()


@pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)
def test_rest_refuses_bad_htcondor_fields_and_runs_good_ones(condor_job_controller, workflow):
    import base64

    import requests

    fields = {"workflow_uuid": str(workflow.id_), "workflow_workspace": workflow.workspace_path,
              "docker_img": "docker.io/library/ubuntu:20.04", "job_name": "step",
              "compute_backend": "htcondorcern",
              "cmd": base64.b64encode(f"cd {workflow.workspace_path} && echo ok".encode()).decode()}
    url, headers = condor_job_controller.url, condor_job_controller.headers
    for change, words in (({"htcondor_max_runtime": "forever"}, "htcondor_max_runtime"),
                          ({"kubernetes_memory_limit": "lots"}, "memory quantity")):
        response = requests.post(f"{url}/jobs", json={**fields, **change}, headers=headers,
                                 timeout=10)
        assert response.status_code == 400, response.text
        assert words in response.json()["message"]
    assert requests.get(f"{url}/jobs", headers=headers, timeout=10).json() == {"jobs": {}}
    response = requests.post(f"{url}/jobs", json={**fields, "htcondor_max_runtime": "espresso",
                                                  "htcondor_accounting_group": "group_u_X"},
                             headers=headers, timeout=10)
    assert response.status_code == 201, response.text
    job_id = response.json()["job_id"]
    deadline = time.monotonic() + 60
    while (job := requests.get(f"{url}/jobs/{job_id}", headers=headers,
                               timeout=10).json())["status"] not in ("finished", "failed"):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    assert job["status"] == "finished"
