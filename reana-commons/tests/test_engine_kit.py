"""The engine kit's pure parts: the reporter's protocol, the harness's ending rules, the
job fields and the workflow-type table (engines run for real in tests/test_engine_conformance)."""

from __future__ import annotations

import base64
import json
import os
import stat
import threading
import time
from types import SimpleNamespace

import pytest
from reana_commons.engine.harness import NO_RESULT, EngineRun, execute, read_option
from reana_commons.engine.jobs import WorkflowResources, job_fields, job_request
from reana_commons.engine.reporter import RunReporter
from reana_commons.workflow_types import (
    WORKFLOW_TYPES,
    UnknownWorkflowType,
    engine_executable,
    workflow_type,
)


class Published(list):
    def __call__(self, workflow_uuid, status, logs="", message=None, seq=None):
        self.append({"workflow_uuid": workflow_uuid, "status": status, "logs": logs,
                     "message": message, "seq": seq})


def _reporter(publish=None):
    published = publish if publish is not None else Published()
    return RunReporter("wf-1", "test-engine", publish=published, stream=None), published


def _progress(message):
    return (message["message"] or {}).get("progress") or {}


def test_reporter_numbers_messages_and_ends_once():
    reporter, published = _reporter()
    reporter.running(total=2)
    reporter.log.info("first job")
    reporter.progress(running=["a"])
    reporter.progress(finished=["a"], defer=True)
    reporter.progress(running=["b"], total=3)
    reporter.progress(finished=["b"], defer=True)
    reporter.finished("done\n")
    reporter.failed("too late")
    reporter.progress(running=["c"])
    assert [m["seq"] for m in published] == [1, 2, 3, 4]
    assert [m["status"] for m in published] == [1, 1, 1, 2]
    assert _progress(published[0]) == {"total": {"total": 2, "job_ids": []}}
    assert "| test-engine | MainThread | INFO | first job\n" in published[1]["logs"]
    assert _progress(published[2]) == {"total": {"total": 3, "job_ids": []},
                                       "running": {"total": 1, "job_ids": ["b"]},
                                       "finished": {"total": 1, "job_ids": ["a"]}}
    assert _progress(published[3]) == {"finished": {"total": 1, "job_ids": ["b"]}}
    assert published[3]["logs"] == "done\n"
    assert reporter.ended and reporter.end_status == 2


def test_reporter_failure_carries_the_failed_jobs_and_the_reason():
    reporter, published = _reporter()
    reporter.running()
    reporter.failed("Step x failed", failed_jobs=["j"])
    assert published[0]["message"] == {"progress": {}}
    assert published[1]["status"] == 3 and published[1]["logs"] == "Step x failed\n"
    assert _progress(published[1]) == {"failed": {"total": 1, "job_ids": ["j"]}}


def test_an_end_requested_during_a_publish_waits_for_it():
    """A signal handler ending the run in the middle of a publish on the same thread."""
    published = Published()
    reporter = None

    def publish(*args, **kwargs):
        if kwargs["seq"] == 2:  # the "signal" arrives while message 2 is being published
            reporter.when_idle(lambda: reporter.failed("Workflow exited unexpectedly."))
            assert len(published) == 1  # nothing published inside this publish
        published(*args, **kwargs)

    reporter, _ = _reporter(publish)
    reporter.running(total=1)
    reporter.progress(running=["a"])
    assert [(m["seq"], m["status"]) for m in published] == [(1, 1), (2, 1), (3, 3)]
    reporter.when_idle(lambda: reporter.finished())  # idle: runs now, but the run has ended
    assert len(published) == 3


def test_reporter_is_thread_safe():
    reporter, published = _reporter()
    reporter.running(total=400)
    threads = [threading.Thread(target=lambda n=n: [reporter.progress(running=[f"{n}-{i}"])
                                                  for i in range(100)]) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reporter.finished()
    assert [m["seq"] for m in published] == list(range(1, 403))
    running = [j for m in published for j in _progress(m).get("running", {}).get("job_ids", [])]
    assert len(set(running)) == 400


def test_attached_logger_lines_join_the_run_logs():
    reporter, published = _reporter()
    reporter.attach_logger("some.library").info("[step first] start")
    reporter.running()
    assert "| some.library | MainThread | INFO | [step first] start\n" in published[0]["logs"]


def _run(reporter):
    jobs = SimpleNamespace(base_url="http://127.0.0.1:1", token=None)
    return EngineRun("wf-1", "/ws", {}, {}, {"target": "x"}, None, jobs, reporter)


@pytest.mark.parametrize("engine,code,status,logs", [
    (lambda run: True, 0, 2, ""),
    (lambda run: False, 1, 3, NO_RESULT),
    (lambda run: run.reporter.failed("its own reason") or True, 1, 3, "its own reason"),
    (lambda run: 1 / 0, 1, 3, "Workflow failed: division by zero"),
])
def test_execute_ends_every_run_exactly_once(engine, code, status, logs):
    reporter, published = _reporter()
    assert execute(_run(reporter), engine) == code
    assert [m["status"] for m in published] == [status]
    assert logs in published[0]["logs"]


def test_options_are_case_insensitive():
    assert read_option({"target": "x"}, "TARGET") == "x"
    assert _run(_reporter()[0]).option("Target") == "x"
    assert read_option(None, "FROM", "all") == "all"


def test_job_fields_and_request():
    hints = {"compute_backend": "slurmcern", "slurm_time": "", "unpacked_image": 1,
             "kubernetes_memory_limit": "1Gi", "cpu": 4, "kerberos": False}
    assert job_fields(hints) == {"compute_backend": "slurmcern", "unpacked_img": True,
                                 "kubernetes_memory_limit": "1Gi", "kerberos": False}
    run = SimpleNamespace(workflow_uuid="u", workspace="/ws")
    assert job_request(run, image="img", name="fit", command_for_display="python fit.py",
                       hints=None) == {"workflow_uuid": "u", "workflow_workspace": "/ws",
                                       "docker_img": "img", "job_name": "fit",
                                       "prettified_cmd": "python fit.py"}


def test_workflow_resources_reach_every_job():
    """workflow.resources of reana.yaml -> REANA's engine environment -> every job request
    (a step's own kerberos wins), as REANA's engines do."""
    spec = {"workflow": {"type": "serial", "resources": {"cvmfs": ["atlas.cern.ch", "sft"],
                                                         "kerberos": True}}}
    resources = WorkflowResources.of_specification(spec)
    environment = resources.environment()
    assert environment == {"REANA_WORKFLOW_KERBEROS": "True",
                           "REANA_MOUNT_CVMFS": "['atlas.cern.ch', 'sft']"}
    assert WorkflowResources.from_environment(environment) == resources
    run = SimpleNamespace(workflow_uuid="u", workspace="/ws", resources=resources)
    request = job_request(run, image="img", name="s", command_for_display="x")
    assert request["cvmfs_mounts"] == "['atlas.cern.ch', 'sft']" and request["kerberos"] is True
    assert job_request(run, image="img", name="s", command_for_display="x",
                       hints={"kerberos": False})["kerberos"] is False
    none = WorkflowResources.of_specification({"workflow": {"type": "serial"}})
    assert none.environment() == {"REANA_WORKFLOW_KERBEROS": "False"}
    assert WorkflowResources.from_environment({"REANA_MOUNT_CVMFS": "false"}) == none
    plain = job_request(SimpleNamespace(workflow_uuid="u", workspace="/ws", resources=none),
                        image="i", name="n", command_for_display="x")
    assert "cvmfs_mounts" not in plain and "kerberos" not in plain


def _decoded(argv, flag):
    return json.loads(base64.b64decode(argv[argv.index(flag) + 1]))


def test_workflow_types_engine_argv():
    assert WORKFLOW_TYPES == ("serial", "cwl", "snakemake", "yadage")
    serial = workflow_type("serial").engine_argv("id", "/ws", {"steps": []}, "wf.yaml",
                                                 {"p": 1}, {"FROM": "a"})
    assert serial[:5] == ["run-serial-workflow", "--workflow-uuid", "id",
                          "--workflow-workspace", "/ws"]
    assert "--workflow-file" not in serial and _decoded(serial, "--workflow-json") == {"steps": []}
    assert _decoded(serial, "--operational-options") == {"FROM": "a"}
    snakemake = workflow_type("snakemake").engine_argv("id", "/ws", {}, "Snakefile", {}, {})
    assert "--workflow-json" not in snakemake
    assert snakemake[snakemake.index("--workflow-file") + 1] == "Snakefile"
    assert workflow_type("yadage").image_setting == "workflow_engine_image_yadage"
    assert workflow_type("cwl").operational_options["TARGET"] == "--target"
    with pytest.raises(UnknownWorkflowType):
        workflow_type("nextflow")


def test_engine_executable_looks_in_the_engines_bin_dir(tmp_path, monkeypatch):
    script = tmp_path / "run-nowhere-workflow"
    script.write_text("#!/bin/sh\n")
    monkeypatch.setenv("REANA_WORKFLOW_ENGINES_BIN_DIR", str(tmp_path))
    monkeypatch.setenv("PATH", os.defpath)
    assert engine_executable("run-nowhere-workflow") is None  # not executable
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    assert engine_executable("run-nowhere-workflow") == str(script)
    assert engine_executable("run-serial-workflow").endswith("/run-serial-workflow")


def test_conformance_workflows_of_the_engines_venv(tmp_path, monkeypatch):
    """Factories of engines in a venv of their own come through that venv's interpreter."""
    import sys

    from reana_commons.engine import conformance

    python = tmp_path / "python"  # stands in for .venv-engines/bin/python
    python.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    python.chmod(0o755)
    monkeypatch.setenv("REANA_WORKFLOW_ENGINES_BIN_DIR", str(tmp_path))
    local = conformance.local_factories()
    monkeypatch.setattr(conformance, "local_factories", dict)  # only the other venv's now
    found = conformance.conformance_workflows()
    assert set(found) == set(local)
    for name, factory in local.items():
        assert found[name] == {variant: factory(variant) for variant in conformance.VARIANTS}


def test_engine_lines_waiting_for_a_long_job_go_out_on_their_own():
    """Live engine logs: a line does not wait for the next status message (ADR 0026)."""
    import time

    published = Published()
    reporter = RunReporter("wf-1", "test-engine-live", publish=published, stream=None,
                           flush_seconds=0.1)
    reporter.log.info("before the run started")
    time.sleep(0.3)
    assert published == []  # nothing before the run's first message
    reporter.running(total=1)
    reporter.log.info("waiting for a long job")
    deadline = time.monotonic() + 5
    while len(published) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert published[1]["status"] is None and published[1]["message"] is None
    assert published[1]["logs"].endswith("| INFO | waiting for a long job\n")
    # A chatty engine: many lines, few messages (each message is one database write).
    started = time.monotonic()
    while time.monotonic() - started < 0.5:
        reporter.log.info("chatty")
        time.sleep(0.001)
    time.sleep(0.3)
    lines = sum(m["logs"].count("chatty") for m in published)
    assert lines > 100 and len(published) - 2 <= 0.8 / 0.1 + 1
    reporter.finished()
    count = len(published)
    reporter.log.info("after the end")
    time.sleep(0.3)
    assert len(published) == count and published[-1]["status"] == 2
    assert [m["seq"] for m in published] == list(range(1, count + 1))


def test_engine_lines_whose_message_failed_are_kept_for_the_next_one():
    import time

    published = Published()
    failures = []

    def flaky(*args, **kwargs):
        if args[1] is None and not failures:
            failures.append(1)
            raise RuntimeError("broker away")
        published(*args, **kwargs)

    reporter = RunReporter("wf-1", "test-engine-flaky", publish=flaky, stream=None,
                           flush_seconds=0.05)
    reporter.running()
    reporter.log.info("precious line")
    time.sleep(0.4)
    reporter.finished()
    assert failures and "precious line" in "".join(m["logs"] for m in published)


def test_a_job_creation_is_waited_for_longer_than_other_calls():
    """Creating a job is not repeatable: the engine waits for the job controller's answer
    (which includes a backend's first-use start) as long as a start may take, not the short
    timeout of the other calls; the job controller under load answered after 30 s, the engine
    had given up and failed the run, the job was then stopped after its first lines."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from reana_commons.engine.job_controller_client import (
        JobControllerClient,
        JobControllerUnavailable,
    )

    class Slow(BaseHTTPRequestHandler):
        def _answer(self):
            time.sleep(1.5)  # the slow job controller
            body = json.dumps({"job_id": "j1", "status": "running"}).encode()
            self.send_response(201 if self.command == "POST" else 200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):  # noqa: N802 - http.server's names
            self.rfile.read(int(self.headers["Content-Length"]))
            self._answer()

        do_GET = _answer  # noqa: N815

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = JobControllerClient(f"http://127.0.0.1:{server.server_port}", timeout=0.5,
                                     submit_timeout=60)
        assert client.submit("echo hi", job_name="s") == "j1"
        with pytest.raises(JobControllerUnavailable, match="timed out"):
            client.get("j1")
        assert JobControllerClient("http://127.0.0.1:1", timeout=0.5).submit_timeout == 300
    finally:
        server.shutdown()
        server.server_close()
