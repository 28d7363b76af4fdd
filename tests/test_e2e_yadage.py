"""Yadage runs end to end: reana-client 0.9.6 against one live platform (`scripts/up.sh`).

The demos' ``reana-yadage.yaml`` (helloworld; worldpopulation when papermill,
pandas and matplotlib are on the host) run to ``finished`` with their outputs and
complete progress, and ``reana-client test`` passes their ``tests/yadage``
feature files; the multi-stage workflow of the engine's tests (a scatter, a
stage beside it, a stage gathering both) runs, fails with the failing job's
stderr, and stops with its jobs; a workflow file yadage's schema refuses fails
the run with the tool's message. The runs are started together and checked one
by one, so the module costs about as long as its slowest run.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import DEMOS, HELLOWORLD, ROOT, start_platform, stop_platform

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(600),
    pytest.mark.skipif(not HELLOWORLD.exists(), reason=f"{HELLOWORLD} is not there"),
]
WORLDPOPULATION = DEMOS / "reana-demo-worldpopulation"
MULTISTAGE = ROOT / "reana-workflow-engine-yadage" / "tests" / "workflows" / "multistage"
RUN_SECONDS = 240


def _worldpopulation_missing() -> str | None:
    """Why worldpopulation cannot run on this host, or None: its job runs papermill from the
    platform's venv (scripts/up.sh puts it first on PATH; make install installs
    requirements-demos.txt)."""
    if not WORLDPOPULATION.exists():
        return f"{WORLDPOPULATION} is not there"
    missing = [m for m in ("papermill", "pandas", "matplotlib", "ipykernel")
               if importlib.util.find_spec(m) is None]
    if missing:
        return f"{', '.join(missing)} not installed (make install installs requirements-demos.txt)"
    return None


def _unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def _copy(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / f"{source.name}-{uuid.uuid4().hex[:6]}"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".git"))
    return target


class Runs:
    """The module's runs: started together by the fixture, awaited by the tests."""

    def __init__(self, platform, client_python, tmp_path: Path):
        self.platform = platform
        self.client_python = client_python
        self.tmp_path = tmp_path
        self.folders: dict[str, Path] = {}
        self.names: dict[str, str] = {}

    def start(self, key: str, source: Path, *args: str) -> None:
        folder = _copy(source, self.tmp_path)
        name = _unique(key.replace("_", ""))
        self.platform.client(self.client_python, "run", "-w", name, *args, cwd=folder)
        self.folders[key], self.names[key] = folder, name

    def wait(self, key: str) -> dict:
        return self.platform.wait_status(self.names[key], seconds=RUN_SECONDS)

    def client(self, key: str, *args: str, check: bool = True):
        return self.platform.client(self.client_python, *args, "-w", self.names[key],
                                    cwd=self.folders[key], check=check)

    def test(self, key: str) -> subprocess.CompletedProcess:
        """This project's ``reana-client test`` on the run (the feature files of its folder)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("REANA_")}
        env.update(REANA_SERVER_URL=self.platform.url, REANA_ACCESS_TOKEN=self.platform.token)
        return subprocess.run([str(ROOT / ".venv/bin/reana-client"), "test", "-w",
                               self.names[key]], cwd=self.folders[key], env=env,
                              capture_output=True, text=True, timeout=120)

    def logs(self, key: str) -> dict:
        body = self.platform.api("GET", f"/api/workflows/{self.names[key]}/logs").json()
        return json.loads(body["logs"])


@pytest.fixture(scope="module")
def runs(tmp_path_factory, client_python):
    platform = start_platform(tmp_path_factory.mktemp("yadage") / "reana-home", "embedded")
    started = Runs(platform, client_python, tmp_path_factory.mktemp("analyses"))
    try:
        started.start("helloworld", HELLOWORLD, "-f", "reana-yadage.yaml")
        started.start("multistage", MULTISTAGE, "-p", "pause=1")
        started.start("failing", MULTISTAGE, "-p", "fail_on=joe")
        started.start("stopped", MULTISTAGE, "-p", "pause=300")
        if _worldpopulation_missing() is None:
            started.start("worldpopulation", WORLDPOPULATION, "-f", "reana-yadage.yaml")
        yield started
    finally:
        stop_platform(platform)


def test_helloworld_finishes_with_its_outputs_and_passes_its_feature_files(runs, tmp_path):
    body = runs.wait("helloworld")
    assert body["status"] == "finished", runs.logs("helloworld")["workflow_logs"]
    progress = body["progress"]
    assert progress["total"]["total"] == 1 and progress["finished"]["total"] == 1, progress
    runs.client("helloworld", "download", "-o", str(tmp_path / "out"))
    greetings = (tmp_path / "out/helloworld/greetings.txt").read_text()
    assert greetings == "Hello Jane Doe!\nHello Joe Bloggs!\n"
    tested = runs.test("helloworld")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "All 7 scenarios passed." in tested.stdout + tested.stderr
    listing = runs.client("helloworld", "ls").stdout
    assert "_yadage/yadage_workflow_track.json" in listing
    assert "_yadage/yadage_workflow_instance.dot" in listing
    assert "_yadage/adage/workflow.gif" in listing  # adage's animated DAG, as REANA leaves it


def test_worldpopulation_finishes_and_passes_its_feature_files(runs, tmp_path):
    missing = _worldpopulation_missing()
    if missing:
        pytest.skip(missing)
    body = runs.wait("worldpopulation")
    assert body["status"] == "finished", runs.logs("worldpopulation")["workflow_logs"]
    assert body["progress"]["finished"]["total"] == body["progress"]["total"]["total"] == 1
    runs.client("worldpopulation", "download", "-o", str(tmp_path / "out"))
    assert (tmp_path / "out/worldpopulation/plot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    output = runs.test("worldpopulation")
    text = output.stdout + output.stderr
    # The plot's checksum is REANA's environment's, not the workflow's (matplotlib's version
    # and fonts in REANA's image); every other scenario passes, the workspace's size bounds
    # too (200-450 KiB: REANA's engine, and ours, leave adage's GIF of the DAG in _yadage/).
    failed = [line for line in text.splitlines() if line.startswith("  Reason: ")]
    assert len(failed) == 1 and 'the sha256 of "worldpopulation/plot.png"' in failed[0], text
    assert "Tested The total workspace size remains within reasonable limits: passed" in text
    assert "Tested The workflow start has produced the expected messages: passed" in text
    assert "Tested The workflow completion has produced the expected messages: passed" in text
    assert "Tested The workspace contains the expected input files: passed" in text


def test_multistage_workflow_runs_the_scatter_in_parallel(runs, tmp_path):
    body = runs.wait("multistage")
    assert body["status"] == "finished", runs.logs("multistage")["workflow_logs"]
    progress = body["progress"]
    assert progress["total"]["total"] == 5 and progress["finished"]["total"] == 5, progress
    runs.client("multistage", "download", "merge/merged.txt", "-o", str(tmp_path))
    assert (tmp_path / "merge/merged.txt").read_text() == (
        "Hello jane!\nHello joe!\nHello ada!\nJANE\nJOE\nADA\n")
    jobs = runs.logs("multistage")["job_logs"].values()
    assert sorted(job["job_name"] for job in jobs) == [
        "greet_0", "greet_1", "greet_2", "merge", "shout"]
    scatter = sorted((job["started_at"], job["finished_at"]) for job in jobs
                     if job["job_name"].startswith("greet"))
    # Each greet job pauses 1 s; run one after the other they could not overlap.
    assert any(later[0] < earlier[1] for earlier, later in zip(scatter, scatter[1:],
                                                                  strict=False)), scatter


def test_a_failing_stage_fails_the_run_with_its_stderr(runs):
    body = runs.wait("failing")
    assert body["status"] == "failed"
    logs = runs.logs("failing")
    assert "cannot greet joe" in logs["workflow_logs"]
    assert "Stage greet_1 (job " in logs["workflow_logs"]
    assert "exit code 7" in logs["workflow_logs"]
    assert "Traceback" not in logs["workflow_logs"]
    assert body["progress"]["failed"]["total"] == 1
    statuses = sorted(job["status"] for job in logs["job_logs"].values())
    assert statuses == ["failed", "finished", "finished", "finished"]  # merge never ran


def test_stop_stops_the_engine_and_its_jobs(runs):
    name = runs.names["stopped"]
    deadline = time.monotonic() + RUN_SECONDS
    while True:
        body = runs.platform.status(name)
        if body["status"] == "running" and (body["progress"].get("running") or {}).get("total"):
            break
        assert body["status"] in ("queued", "pending", "running"), body
        assert time.monotonic() < deadline, body
        time.sleep(0.3)
    time.sleep(1)  # the scatter's three jobs and the stage beside them all start
    runs.client("stopped", "stop", "--force")
    assert runs.platform.wait_status(name, seconds=60)["status"] == "stopped"
    deadline = time.monotonic() + 30
    while True:
        jobs = runs.logs("stopped")["job_logs"].values()
        if jobs and all(job["status"] in ("stopped", "finished") for job in jobs):
            break
        assert time.monotonic() < deadline, list(jobs)
        time.sleep(0.3)
    assert any(job["status"] == "stopped" for job in jobs)


def test_a_workflow_yadage_refuses_fails_the_run_with_yadage_message(runs, tmp_path):
    folder = _copy(MULTISTAGE, tmp_path)
    workflow = folder / "workflow" / "workflow.yaml"
    workflow.write_text(workflow.read_text().replace("cmd: 'tr a-z A-Z", "cmdd: 'tr a-z A-Z"))
    spec = {"version": "0.9.0",
            "inputs": {"parameters": {"names": ["x"], "namesfile": "data/names.txt",
                                      "fail_on": "-", "pause": 0}},
            "workflow": {"type": "yadage", "file": "workflow/workflow.yaml",
                         "specification": None}}
    platform = runs.platform
    name = _unique("bad")
    created = platform.api("POST", "/api/workflows", params={"workflow_name": name}, json=spec)
    assert created.status_code == 201, created.text
    for path in ("workflow/workflow.yaml", "data/names.txt"):
        uploaded = platform.api("POST", f"/api/workflows/{name}/workspace",
                                params={"file_name": path}, data=(folder / path).read_bytes(),
                                headers={"Content-Type": "application/octet-stream"})
        assert uploaded.status_code == 200, uploaded.text
    started = platform.api("POST", f"/api/workflows/{name}/start", json={})
    assert started.status_code == 200, started.text
    body = platform.wait_status(name, seconds=RUN_SECONDS)
    assert body["status"] == "failed"
    logs = json.loads(platform.api("GET", f"/api/workflows/{name}/logs").json()["logs"])
    assert ("Workflow failed: Yadage workflow file workflow/workflow.yaml is invalid: Additional "
            "properties are not allowed ('cmdd' was unexpected) (at stages/1/scheduler/step/"
            "process)") in logs["workflow_logs"]
    assert "Traceback" not in logs["workflow_logs"]
    assert not logs["job_logs"]
