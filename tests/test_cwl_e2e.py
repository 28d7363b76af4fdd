"""reana-client 0.9.6 runs the demos' CWL workflows end to end against `make up`.

One embedded platform for the module: helloworld's ``reana-cwl.yaml`` to finished
with its outputs, complete progress and the engine lines its Gherkin tests read
(``reana-client test`` runs them); a restart with an unknown TARGET and a run with
an invalid CWL document fail with the tool's message; worldpopulation's
``reana-cwl.yaml`` runs its notebook with the host's papermill.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import DEMOS, HELLOWORLD, start_platform, stop_platform

WORLDPOPULATION = DEMOS / "reana-demo-worldpopulation"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not HELLOWORLD.exists(), reason=f"{HELLOWORLD} is not there"),
]


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    # reana-client 0.9.6 packs CWL workflows with the `cwltool` it finds on PATH.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
        live = start_platform(tmp_path_factory.mktemp("cwl") / "reana-home", "embedded")
        yield live
        stop_platform(live)


def _copy(demo, tmp_path):
    copy = tmp_path / demo.name
    shutil.copytree(demo, copy, ignore=shutil.ignore_patterns(".git"))
    return copy


def gherkin(platform, name: str, demo: Path):
    """The project's ``reana-client test`` (0.9.6 has none) on the demo's tests/cwl files."""
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith("REANA_")}
    env.update({"REANA_SERVER_URL": platform.url, "REANA_ACCESS_TOKEN": platform.token})
    features = [arg for path in sorted((demo / "tests" / "cwl").glob("*.feature"))
                for arg in ("-n", str(path.relative_to(demo)))]
    return subprocess.run([str(Path(sys.executable).parent / "reana-client"), "test", "-w", name,
                           *features], cwd=demo, env=env, capture_output=True, text=True,
                          timeout=300)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def test_helloworld_runs_and_passes_its_gherkin_tests(platform, client_python, tmp_path):
    demo = _copy(HELLOWORLD, tmp_path)
    name = unique("hwcwl")
    platform.client(client_python, "run", "-w", name, "-f", "reana-cwl.yaml", cwd=demo)
    body = platform.wait_status(name, seconds=180)
    assert body["status"] == "finished", body
    progress = body["progress"]
    assert progress["total"]["total"] == progress["finished"]["total"] == 1, progress
    out = tmp_path / "out"
    platform.client(client_python, "download", "-w", name, "outputs/greetings.txt",
                    "-o", str(out), cwd=demo)
    greetings = (out / "outputs" / "greetings.txt").read_text()
    assert "Hello Jane Doe!" in greetings and "Hello Joe Bloggs!" in greetings
    logs = platform.client(client_python, "logs", "-w", name, cwd=demo).stdout
    assert "cwltool | MainThread | INFO | [step first] start" in logs
    assert "FinalOutput{" in logs
    tested = gherkin(platform, name, demo)
    assert tested.returncode == 0, tested.stdout + tested.stderr

    platform.client(client_python, "restart", "-w", f"{name}.1", "-o", "TARGET=nowhere",
                    cwd=demo)
    body = platform.wait_status(f"{name}.1.1", seconds=120)
    assert body["status"] == "failed", body
    logs = platform.client(client_python, "logs", "-w", f"{name}.1.1", cwd=demo).stdout
    assert "TARGET=nowhere is neither a step nor an output of the workflow" in logs
    assert "Traceback" not in logs


def test_an_invalid_cwl_document_fails_the_run_with_the_validation_message(platform):
    spec = {
        "version": "0.9.0",
        "inputs": {"parameters": {}},
        "workflow": {"type": "cwl", "file": "main.cwl", "specification": {
            "cwlVersion": "v1.2", "id": "#main", "class": "CommandLineTool",
            "baseCommand": "true", "inputs": [], "outputs": [], "bogusField": 1}},
    }
    name = unique("badcwl")
    platform.submit(spec, name)
    body = platform.wait_status(name, seconds=120)
    assert body["status"] == "failed", body
    logs = platform.api("GET", f"/api/workflows/{name}/logs").json()["logs"]
    assert "bogusField" in logs and "Traceback" not in logs


@pytest.mark.skipif(not WORLDPOPULATION.exists(), reason=f"{WORLDPOPULATION} is not there")
@pytest.mark.skipif(
    not all(importlib.util.find_spec(m) for m in ("papermill", "pandas", "matplotlib")),
    reason="papermill, pandas and matplotlib are not installed (make install installs "
           "requirements-demos.txt for the notebook step run on the host)",
)
def test_worldpopulation_runs_its_notebook(platform, client_python, tmp_path):
    demo = _copy(WORLDPOPULATION, tmp_path)
    name = unique("wpcwl")
    platform.client(client_python, "run", "-w", name, "-f", "reana-cwl.yaml", cwd=demo)
    body = platform.wait_status(name, seconds=300)
    assert body["status"] == "finished", body
    assert body["progress"]["finished"]["total"] == body["progress"]["total"]["total"] == 1
    files = platform.client(client_python, "ls", "-w", name, cwd=demo).stdout
    assert "outputs/plot.png" in files
    tested = gherkin(platform, name, demo)
    # The plot's checksum is the image's matplotlib's, not the host's: only that step fails.
    assert tested.stdout.count(": failed") == 1, tested.stdout
    assert 'Reason: the sha256 of "outputs/plot.png" is' in tested.stdout, tested.stdout
