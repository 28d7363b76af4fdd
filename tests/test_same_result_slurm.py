"""The example analysis on the real test Slurm: the same outputs as everywhere (issue 19).

examples/resonance-fit runs with the project's client on a platform whose default compute
backend is ``slurm`` (``sbatch`` on this host); its outputs have the reference digests
(tests/same_result.py) and its provenance records where Slurm ran each step.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from reana_testing.slurm import require_slurm

from tests.conftest import start_platform, stop_platform
from tests.same_result import EXAMPLE, check_outputs, check_provenance_outputs

pytestmark = [pytest.mark.slow, pytest.mark.slurm, pytest.mark.timeout(900)]
PROJECT_CLIENT = Path(sys.executable).parent / "reana-client"


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    require_slurm()
    live = start_platform(tmp_path_factory.mktemp("same-slurm") / "reana-home", "embedded", {
        "REANA_COMPUTE_BACKENDS": '["local","slurm"]',
        "REANA_DEFAULT_COMPUTE_BACKEND": "slurm",
        "REANA_SLURM_MONITOR_INTERVAL": "0.5",
    })
    yield live
    stop_platform(live)


def _client(platform, *args, cwd=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("REANA_")}
    env.update({"REANA_SERVER_URL": platform.url, "REANA_ACCESS_TOKEN": platform.token})
    result = subprocess.run([str(PROJECT_CLIENT), *args], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result.stdout


def test_example_on_slurm_gives_the_reference_outputs(platform, tmp_path):
    work = tmp_path / "resonance-fit"
    shutil.copytree(EXAMPLE, work)
    name = f"fitslurm{uuid.uuid4().hex[:6]}"
    _client(platform, "run", "-w", name, cwd=work)
    body = platform.wait_status(name, seconds=400)
    assert body["status"] == "finished", body
    out = tmp_path / "out"
    _client(platform, "download", "-w", name, "-o", str(out), cwd=work)
    check_outputs(out)
    jobs = json.loads(_client(platform, "provenance", "-w", name, "--json"))["jobs"]
    check_provenance_outputs(jobs, out)
    # the environment differences: Slurm's node, and how the step ran there
    nodes = subprocess.run(["sinfo", "-h", "-o", "%N"], capture_output=True, text=True,
                           check=True).stdout.split()
    for job in jobs:
        assert job["compute_backend"] == "slurm"
        assert job["node"] in nodes, job["node"]
        assert job["runtime"].startswith("slurm: running"), job["runtime"]
