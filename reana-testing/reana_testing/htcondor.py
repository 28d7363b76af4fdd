"""Test support for the HTCondor backend: is the HTCondor double up (``make htcondor-up``).

The double's schedd runs as a system daemon with the ``condor_*`` tools in
``/usr/local/bin`` (``scripts/services/htcondor.sh``), started by these helpers
when they can (as root). Without it the tests skip with the reason; with
``REANA_REQUIRE_SERVICES=1`` (CI) they fail instead. SSH mode uses the login
node of the Slurm tests (sshd on 127.0.0.1:2222, user ``reanaslurm``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

from reana_testing.slurm import REPO_ROOT, SSHLogin, _skip_or_fail, require_sshd


def htcondor_answers() -> bool:
    """True when ``condor_q`` reaches the double's schedd."""
    if shutil.which("condor_q") is None:
        return False
    try:
        proc = subprocess.run(["condor_q", "-allusers", "-json"], capture_output=True,
                              timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def require_htcondor() -> None:
    """Skip (or in CI fail) unless the HTCondor double answers; start it if we can."""
    if not htcondor_answers() and os.geteuid() == 0:
        subprocess.run([str(REPO_ROOT / "scripts" / "services" / "htcondor.sh"), "up"],
                       capture_output=True, timeout=60, check=False)
    if not htcondor_answers():
        _skip_or_fail("the HTCondor double is not running (start it with `make htcondor-up` "
                      "as root)")


def require_htcondor_ssh_login() -> SSHLogin:
    require_htcondor()
    return require_sshd()


def condor_ads(tool: str, cluster: str, *attributes: str) -> list[dict]:
    """What ``condor_q``/``condor_history`` say about one cluster (as root: every owner)."""
    argv = [tool, "-json", cluster]
    if attributes:
        argv[2:2] = ["-attributes", ",".join(attributes)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True).stdout
    return json.loads(out) if out.strip() else []


def condor_job(cluster: str) -> dict:
    """The job's ad from the queue, else from the history ({} when neither knows it)."""
    ads = condor_ads("condor_q", cluster) or condor_ads("condor_history", cluster)
    return ads[0] if ads else {}
