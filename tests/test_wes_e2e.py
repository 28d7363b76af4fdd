"""The stock GA4GH ``wes-client`` (PyPI ``wes-service`` 5) against a live platform (`make up`).

It sends its credentials only as HTTP Basic in the host (``WES_API_HOST=user:TOKEN@host``):
``--info``; a CWL workflow whose tool and input file are attachments, waited for to
COMPLETE, its outputs printed (download URLs that serve the result); ``--list``, ``--get``,
``--log``; and a cancel (the library's ``WESClient.cancel``, the CLI has no flag) of a
running run, which REANA's API then shows stopped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.conftest import ROOT, start_platform, stop_platform

DATA = ROOT / "reana-server" / "tests" / "data" / "wes"
WES_CLIENT = Path(sys.executable).parent / "wes-client"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not WES_CLIENT.exists(), reason="wes-client (wes-service) not installed"),
]

SLEEPER = """\
cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sleep, "300"]
inputs: []
outputs: []
"""


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    live = start_platform(tmp_path_factory.mktemp("wes") / "reana-home", "embedded")
    yield live
    stop_platform(live)


def wes_env(platform) -> dict:
    host = urlsplit(platform.url).netloc
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REANA_", "WES_"))}
    env.update({"WES_API_HOST": f"jane:{platform.token}@{host}", "WES_API_PROTO": "http",
                # only for `--log` and the log fetched after a run (plain requests.get calls)
                "WES_API_AUTH": f"Bearer {platform.token}"})
    return env


def wes_client(platform, *args, cwd=None, timeout=240):
    result = subprocess.run([str(WES_CLIENT), *args], cwd=cwd, env=wes_env(platform),
                            capture_output=True, text=True, timeout=timeout)
    return result


def test_wes_client_runs_a_cwl_workflow_to_complete(platform, tmp_path):
    info = wes_client(platform, "--info")
    assert info.returncode == 0, info.stderr
    service = json.loads(info.stdout)
    assert "v1.2" in service["workflow_type_versions"]["CWL"]["workflow_type_version"]

    work = tmp_path / "wf"
    shutil.copytree(DATA, work)
    run = wes_client(platform, "--attachments=tools/wc.cwl,data/names.txt", "wc.cwl",
                     "job.json", cwd=work)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "State is COMPLETE" in run.stderr
    outputs = json.loads(run.stdout)
    counted = outputs["counted"]
    assert counted["class"] == "File" and counted["basename"] == "count.txt"
    downloaded = requests.get(counted["location"], params={"access_token": platform.token},
                              timeout=30)
    assert downloaded.status_code == 200 and downloaded.text.startswith("3 ")
    run_id = next(line.rsplit(" ", 1)[-1] for line in run.stderr.splitlines()
                  if "Workflow run id is" in line)

    listed = wes_client(platform, "--list")
    assert listed.returncode == 0, listed.stderr
    runs = json.loads(listed.stdout)["runs"]
    assert {"run_id": run_id, "state": "COMPLETE"}.items() <= runs[0].items()

    got = wes_client(platform, f"--get={run_id}")
    assert got.returncode == 0, got.stderr
    log = json.loads(got.stdout)
    assert log["state"] == "COMPLETE" and log["outputs"]["counted"]["basename"] == "count.txt"
    assert log["request"]["workflow_type"] == "CWL"
    tasks = requests.get(log["task_logs_url"], auth=("jane", platform.token), timeout=30).json()
    (task,) = tasks["task_logs"]
    assert task["name"] == "count" and task["exit_code"] == 0
    logs = wes_client(platform, f"--log={run_id}")
    assert logs.returncode == 0 and "cwltool" in logs.stdout

    # The same run through REANA's API: an ordinary finished run of the user.
    status = platform.status(run_id)
    assert status["status"] == "finished" and status["name"].startswith("wc")


def test_wes_client_cancels_a_running_run(platform, tmp_path):
    (tmp_path / "sleep.cwl").write_text(SLEEPER)
    (tmp_path / "job.json").write_text("{}")
    submitted = wes_client(platform, "--no-wait", "sleep.cwl", "job.json", cwd=tmp_path)
    assert submitted.returncode == 0, submitted.stderr
    run_id = submitted.stdout.strip().splitlines()[-1]
    platform.wait_status(run_id, statuses=("running",), seconds=120)
    deadline = time.monotonic() + 60
    while not requests.get(f"{platform.url}/ga4gh/wes/v1/runs/{run_id}/tasks",
                           auth=("jane", platform.token), timeout=30).json()["task_logs"]:
        assert time.monotonic() < deadline, "the sleep job never appeared"
        time.sleep(0.5)
    code = ("import os, sys; from wes_client.util import WESClient; "
            "c = WESClient({'auth': {}, 'proto': 'http', 'host': os.environ['WES_API_HOST']}); "
            "print(c.cancel(sys.argv[1])['run_id'])")
    canceled = subprocess.run([sys.executable, "-c", code, run_id], env=wes_env(platform),
                              capture_output=True, text=True, timeout=120)
    assert canceled.returncode == 0, canceled.stderr
    assert canceled.stdout.strip() == run_id
    assert platform.wait_status(run_id, statuses=("stopped",), seconds=60)["status"] == "stopped"
    state = requests.get(f"{platform.url}/ga4gh/wes/v1/runs/{run_id}/status",
                         auth=("jane", platform.token), timeout=30).json()
    assert state == {"run_id": run_id, "state": "CANCELED"}


SNAKEFILE = """\
configfile: "config.yaml"

rule all:
    input: "results/greeting.txt"

rule greet:
    input: "data/names.txt"
    output: "results/greeting.txt"
    shell: "sed 's/^/Hello {config[greeting]} /' {input} > {output}"
"""
REANA_YAML = """\
version: 0.9.0
inputs:
  files: [data/names.txt]
  parameters: {greeting: hi}
workflow:
  type: serial
  file: workflow/steps.yaml
outputs:
  files: [results/greeting.txt]
"""
SERIAL_STEPS = """\
steps:
  - environment: docker.io/library/bash:5.2
    commands:
      - mkdir -p results && sed "s/^/${greeting} /" data/names.txt > results/greeting.txt
"""


def _submit(platform, fields: dict, files: dict) -> str:
    response = requests.post(
        f"{platform.url}/ga4gh/wes/v1/runs", auth=("jane", platform.token), timeout=60,
        data={k: json.dumps(v) if isinstance(v, dict) else v for k, v in fields.items()},
        files=[("workflow_attachment", (name, content)) for name, content in files.items()])
    assert response.status_code == 200, response.text
    return response.json()["run_id"]


def _wait_wes(platform, run_id: str, seconds: float = 180) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        body = requests.get(f"{platform.url}/ga4gh/wes/v1/runs/{run_id}",
                            auth=("jane", platform.token), timeout=30).json()
        if body["state"] not in ("QUEUED", "INITIALIZING", "RUNNING"):
            return body
        assert time.monotonic() < deadline, body["state"]
        time.sleep(0.5)


def test_snakemake_and_reana_yaml_runs_complete(platform):
    names = b"Jane\nJohn\n"
    smk = _submit(platform, {"workflow_type": "SMK", "workflow_type_version": "1.0",
                             "workflow_url": "Snakefile",
                             "workflow_params": {"input": "config.yaml"}},
                  {"Snakefile": SNAKEFILE, "config.yaml": "greeting: smk\n",
                   "data/names.txt": names})
    reana = _submit(platform, {"workflow_type": "REANA", "workflow_type_version": "0.9.0",
                               "workflow_url": "reana.yaml",
                               "workflow_params": {"greeting": "yo"},
                               "tags": {"workflow_name": "wesreana"}},
                    {"reana.yaml": REANA_YAML, "workflow/steps.yaml": SERIAL_STEPS,
                     "data/names.txt": names})
    expected = {smk: "Hello smk Jane\nHello smk John\n", reana: "yo Jane\nyo John\n"}
    for run_id, content in expected.items():
        log = _wait_wes(platform, run_id)
        assert log["state"] == "COMPLETE", (log, platform.api(
            "GET", f"/api/workflows/{run_id}/logs").text[-2000:])
        if run_id == reana:
            url = log["outputs"]["results/greeting.txt"]
        else:
            url = f"{platform.url}/api/workflows/{run_id}/workspace/results/greeting.txt"
        got = requests.get(url, params={"access_token": platform.token}, timeout=30)
        assert got.text == content
    assert platform.status("wesreana")["status"] == "finished"
