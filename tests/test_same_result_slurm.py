"""The example analysis on the real test Slurm: the same outputs as everywhere (issue 19).

examples/resonance-fit runs with the project's client on a platform whose default compute
backend is ``slurm`` (``sbatch`` on this host); its outputs have the reference digests
(tests/same_result.py) and its provenance records where Slurm ran each step.
"""

from __future__ import annotations

import subprocess

import pytest
from reana_testing.slurm import require_slurm

from tests.conftest import start_platform, stop_platform
from tests.same_result import run_example

pytestmark = [pytest.mark.slow, pytest.mark.slurm, pytest.mark.timeout(900)]


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


def test_example_on_slurm_gives_the_reference_outputs(platform, tmp_path):
    jobs = run_example(platform, tmp_path, "fitslurm")
    # the environment differences: Slurm's node, and how the step ran there
    nodes = subprocess.run(["sinfo", "-h", "-o", "%N"], capture_output=True, text=True,
                           check=True).stdout.split()
    for job in jobs:
        assert job["compute_backend"] == "slurm"
        assert job["node"] in nodes, job["node"]
        assert job["runtime"].startswith("slurm: running"), job["runtime"]
