"""Provenance, RO-Crate export and job caching end to end (issue 19), on one embedded platform.

The project's example analysis (examples/resonance-fit) runs with the project's client; its
provenance is read with ``reana-client provenance`` (table, ``--json``, and through bravado's
response validation against the OpenAPI spec) and checked against the downloaded outputs;
``reana-client export`` gives a crate that roc-validator accepts as a Provenance Run Crate 0.5
(offline, its HTTP cache filled from the ``rocrate`` package), as does the crate of a CWL run.
A 3-step analysis is restarted with ``-o CACHE=on``: no job runs and the outputs are
byte-identical; after one input changes, only the steps depending on it run again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import pytest
import requests
from reana_testing.ro_crate_validation import fill_cache, validate

from tests.conftest import HELLOWORLD, ROOT, start_platform, stop_platform
from tests.same_result import check_outputs, check_provenance_outputs

EXAMPLE = ROOT / "examples" / "resonance-fit"
PROJECT_CLIENT = Path(sys.executable).parent / "reana-client"

pytestmark = pytest.mark.slow

THREE_STEPS = """\
version: 0.9.0
inputs:
  files: [a.txt, b.txt]
workflow:
  type: serial
  specification:
    steps:
      - name: left
        environment: docker.io/library/bash:5.2
        commands: ["mkdir -p r && (tr a-z A-Z < a.txt; date +%N) > r/left.txt"]
      - name: right
        environment: docker.io/library/bash:5.2
        commands: ["mkdir -p r && (rev b.txt; date +%N) > r/right.txt"]
      - name: join
        environment: docker.io/library/bash:5.2
        commands: ["(cat r/left.txt r/right.txt; date +%N) > r/joined.txt"]
outputs:
  files: [r/left.txt, r/right.txt, r/joined.txt]
"""


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    # reana-client 0.9.6 packs CWL workflows with the `cwltool` it finds on PATH.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
        live = start_platform(tmp_path_factory.mktemp("prov") / "reana-home", "embedded")
        yield live
        stop_platform(live)


@pytest.fixture(scope="module")
def validator_cache(tmp_path_factory):
    return fill_cache(tmp_path_factory.mktemp("rocrate-cache") / "http_cache")


def own_client(platform, *args, cwd=None, check=True, token=None, bravado=False):
    """The project's reana-client."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REANA_")}
    env.update({"REANA_SERVER_URL": platform.url,
                "REANA_ACCESS_TOKEN": token or platform.token})
    if bravado:
        env["REANA_CLIENT_BRAVADO"] = "1"  # answers validated against the OpenAPI spec
    result = subprocess.run([str(PROJECT_CLIENT), *args], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"reana-client {' '.join(args)}: {result.stdout}\n{result.stderr}")
    return result


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def example_run(platform, tmp_path_factory):
    work = tmp_path_factory.mktemp("example") / "resonance-fit"
    shutil.copytree(EXAMPLE, work)
    name = f"fit{uuid.uuid4().hex[:6]}"
    own_client(platform, "run", "-w", name, cwd=work)
    body = platform.wait_status(name, seconds=180)
    assert body["status"] == "finished", body
    out = tmp_path_factory.mktemp("example-out")
    own_client(platform, "download", "-w", name, "-o", str(out), cwd=work)
    return name, work, out


def test_provenance_of_every_job(platform, example_run):
    name, work, out = example_run
    document = json.loads(own_client(platform, "provenance", "-w", name, "--json",
                                     bravado=True).stdout)
    jobs = document["jobs"]
    assert [job["job_name"] for job in jobs] == ["generate", "fit", "plot", "report"]
    for job in jobs:
        assert job["recorded"] and job["status"] == "finished" and job["exit_code"] == 0
        assert job["compute_backend"] == "local" and job["node"] and job["runtime"]
        assert job["started_at"] <= job["finished_at"]
        assert not job["cached"]
    generate = jobs[0]
    assert generate["image"] == "docker.io/library/python:3.11-slim"
    assert generate["command"].endswith("&& mkdir -p results && python3 code/generate.py "
                                        "--events 4000 --seed 7 --calibration "
                                        "data/calibration.csv --output results/events.csv")
    inputs = {item["path"]: item["sha256"] for item in generate["inputs"]}
    assert inputs == {"code/generate.py": sha256(work / "code" / "generate.py"),
                      "data/calibration.csv": sha256(work / "data" / "calibration.csv")}
    assert [o["path"] for o in generate["outputs"]] == ["results/events.csv"]
    fit_inputs = {item["path"] for item in jobs[1]["inputs"]}
    assert fit_inputs == {"code/fit.py", "results/events.csv"}
    # what each job wrote is what the user downloads
    written = {o["path"]: o["sha256"] for job in jobs for o in job["outputs"]}
    for path in ("results/fit.json", "results/plot.txt", "results/report.txt"):
        assert written[path] == sha256(out / path), path
    assert document["input_parameters"] == {} or isinstance(document["input_parameters"], dict)
    assert document["specification"]["workflow"]["type"] == "serial"

    table = own_client(platform, "provenance", "-w", name).stdout
    assert "STEP" in table and "DIGEST" in table
    for step in ("generate", "fit", "plot", "report"):
        assert step in table
    assert f"results/fit.json@{written['results/fit.json'][:8]}" in table

    # through the REST API, and never for another user
    assert platform.api("GET", f"/api/workflows/{name}/provenance").json()["jobs"] == jobs
    other = platform.create_user(f"other{uuid.uuid4().hex[:6]}@example.org")
    for what in ("provenance", "ro-crate"):
        refused = requests.get(f"{platform.url}/api/workflows/{document['workflow_id']}/{what}",
                               params={"access_token": other}, timeout=60)
        assert refused.status_code in (403, 404) and "message" in refused.json(), what
    missing = own_client(platform, "provenance", "-w", "nosuchrun", check=False)
    assert missing.returncode == 1 and "nosuchrun" in missing.stderr


def test_same_outputs_as_every_backend(platform, example_run):
    """The local (host, sandboxed) run's outputs have the reference digests, which the Slurm,
    podman and Kubernetes modules check too (tests/same_result.py)."""
    name, _, out = example_run
    check_outputs(out)
    jobs = platform.api("GET", f"/api/workflows/{name}/provenance").json()["jobs"]
    check_provenance_outputs(jobs, out)
    assert {job["runtime"] for job in jobs} == {"host in a bubblewrap sandbox (image not used)"}
    assert {job["image_digest"] for job in jobs} == {None}


def _crate(platform, name, tmp_path, validator_cache) -> tuple[dict, zipfile.ZipFile]:
    target = tmp_path / f"{name}.crate.zip"
    own_client(platform, "export", "-w", name, "-o", str(target))
    passed, report = validate(target, validator_cache)
    assert passed, report
    archive = zipfile.ZipFile(target)
    return json.loads(archive.read("ro-crate-metadata.json")), archive


def _typed(metadata: dict, kind: str) -> list[dict]:
    return [e for e in metadata["@graph"]
            if kind == e.get("@type") or kind in (e.get("@type") or [])]


def test_serial_run_exports_a_valid_provenance_run_crate(platform, example_run, tmp_path,
                                                         validator_cache):
    name, work, out = example_run
    metadata, archive = _crate(platform, name, tmp_path, validator_cache)
    names = set(archive.namelist())
    assert {"ro-crate-metadata.json", "reana.yaml", "code/generate.py", "data/calibration.csv",
            "results/fit.json", "results/plot.txt", "results/report.txt"} <= names
    assert "results/events.csv" not in names  # exchanged between jobs only: described
    assert archive.read("results/report.txt") == (out / "results" / "report.txt").read_bytes()
    actions = _typed(metadata, "CreateAction")
    assert len(actions) == 5  # the run and each of its four jobs
    run = next(a for a in actions if a["@id"].startswith("#run-"))
    assert run["instrument"] == {"@id": "reana.yaml"}
    assert {"@id": "results/report.txt"} in run["result"]
    jobs = [a for a in actions if a["@id"].startswith("#job-")]
    fit = next(a for a in jobs if a["instrument"] == {"@id": "#tool-fit"})
    assert {"@id": "#workspace/results/events.csv"} in fit["object"]
    assert {"@id": "results/fit.json"} in fit["result"]
    assert len(_typed(metadata, "ControlAction")) == 4
    assert len(_typed(metadata, "OrganizeAction")) == 1
    # without the cached context the validator cannot work offline: the cache is what counts
    passed, _ = validate(tmp_path / f"{name}.crate.zip", tmp_path / "empty_cache")
    assert not passed


@pytest.mark.skipif(not HELLOWORLD.exists(), reason=f"{HELLOWORLD} is not there")
def test_cwl_run_exports_a_valid_provenance_run_crate(platform, client_python, tmp_path,
                                                      validator_cache):
    demo = tmp_path / "helloworld"
    shutil.copytree(HELLOWORLD, demo, ignore=shutil.ignore_patterns(".git"))
    name = f"hwcwl{uuid.uuid4().hex[:6]}"
    platform.client(client_python, "run", "-w", name, "-f", "reana-cwl.yaml", cwd=demo)
    assert platform.wait_status(name, seconds=180)["status"] == "finished"
    metadata, archive = _crate(platform, name, tmp_path, validator_cache)
    assert "outputs/greetings.txt" in archive.namelist()
    jobs = [a for a in _typed(metadata, "CreateAction") if a["@id"].startswith("#job-")]
    assert len(jobs) == 1 and jobs[0]["result"]
    # the engine declares the step's File inputs: their digests are the job's inputs
    assert {"@id": "code/helloworld.py"} in jobs[0]["object"], jobs[0]
    assert {"@id": "data/names.txt"} in jobs[0]["object"], jobs[0]


def _provenance(platform, name) -> list[dict]:
    response = platform.api("GET", f"/api/workflows/{name}/provenance")
    assert response.status_code == 200, response.text
    return response.json()["jobs"]


def test_cache_on_restart_runs_no_job_and_then_only_what_changed(platform, tmp_path):
    work = tmp_path / "three"
    work.mkdir()
    (work / "reana.yaml").write_text(THREE_STEPS)
    (work / "a.txt").write_text("alpha\n")
    (work / "b.txt").write_text("beta\n")
    name = f"three{uuid.uuid4().hex[:6]}"
    own_client(platform, "run", "-w", name, cwd=work)
    assert platform.wait_status(name)["status"] == "finished"
    first = tmp_path / "first"
    own_client(platform, "download", "-w", name, "-o", str(first), cwd=work)

    own_client(platform, "restart", "-w", name, "-o", "CACHE=on", cwd=work)
    assert platform.wait_status(f"{name}.1.1")["status"] == "finished"
    jobs = _provenance(platform, f"{name}.1.1")
    assert [j["job_name"] for j in jobs] == ["left", "right", "join"]
    assert all(j["cached"] and j["runtime"] == "cache" for j in jobs), json.dumps(jobs, indent=1)
    again = tmp_path / "again"
    own_client(platform, "download", "-w", f"{name}.1.1", "-o", str(again), cwd=work)
    for path in ("r/left.txt", "r/right.txt", "r/joined.txt"):
        assert (again / path).read_bytes() == (first / path).read_bytes(), path
    logs = own_client(platform, "logs", "-w", f"{name}.1.1").stdout
    assert logs.count("[reana] cached:") == 3

    # a new run (a fresh workspace) of the same analysis: outputs restored from the cache
    fresh = f"fresh{uuid.uuid4().hex[:6]}"
    own_client(platform, "run", "-w", fresh, "-o", "CACHE=on", cwd=work)
    assert platform.wait_status(fresh)["status"] == "finished"
    assert all(j["cached"] for j in _provenance(platform, fresh))
    restored = tmp_path / "restored"
    own_client(platform, "download", "-w", fresh, "-o", str(restored), cwd=work)
    for path in ("r/left.txt", "r/right.txt", "r/joined.txt"):
        assert (restored / path).read_bytes() == (first / path).read_bytes(), path

    (work / "b.txt").write_text("gamma\n")
    own_client(platform, "upload", "-w", name, "b.txt", cwd=work)
    own_client(platform, "restart", "-w", name, "-o", "CACHE=on", cwd=work)
    assert platform.wait_status(f"{name}.1.2")["status"] == "finished"
    cached = {j["job_name"]: j["cached"] for j in _provenance(platform, f"{name}.1.2")}
    assert cached == {"left": True, "right": False, "join": False}
    third = tmp_path / "third"
    own_client(platform, "download", "-w", f"{name}.1.2", "-o", str(third), cwd=work)
    assert (third / "r/left.txt").read_bytes() == (first / "r/left.txt").read_bytes()
    assert (third / "r/right.txt").read_text().startswith("ammag\n")
    assert (third / "r/joined.txt").read_bytes() != (first / "r/joined.txt").read_bytes()

    # without CACHE=on (REANA's default) every job runs
    own_client(platform, "restart", "-w", name, cwd=work)
    assert platform.wait_status(f"{name}.1.3")["status"] == "finished"
    assert not any(j["cached"] for j in _provenance(platform, f"{name}.1.3"))
