"""Test support for the Slurm backend: is the real test Slurm up, and its SSH login node.

The test Slurm is started by ``make slurm-up`` (``scripts/services/slurm.sh``),
its SSH login node (sshd on 127.0.0.1:2222, user ``reanaslurm``) by
``scripts/services/sshd.sh``, which these helpers also run when they can (as
root). When Slurm is absent the tests skip with the reason; with
``REANA_REQUIRE_SERVICES=1`` (CI) they fail instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SSH_STATE = Path(os.environ.get("REANA_SLURM_SSH_STATE", "/var/lib/reana-slurm/ssh"))
SSH_USER = os.environ.get("REANA_SLURM_SSH_USER", "reanaslurm")
SSH_HOST, SSH_PORT = "127.0.0.1", 2222
SLURMCTLD_PORT = 6817


@dataclass(frozen=True)
class SSHLogin:
    """How to reach the test login node."""

    host: str
    port: int
    user: str
    private_key: str

    @property
    def home(self) -> str:
        import pwd

        return pwd.getpwnam(self.user).pw_dir


def _skip_or_fail(message: str) -> None:
    import pytest

    if os.environ.get("REANA_REQUIRE_SERVICES") == "1":
        pytest.fail(message + " and REANA_REQUIRE_SERVICES=1")
    pytest.skip(message)


def slurm_node_state() -> str:
    """``sinfo``'s state of the test node, or '' when Slurm does not answer."""
    if shutil.which("sinfo") is None or not _port_open("127.0.0.1", SLURMCTLD_PORT):
        return ""  # asking sinfo would wait for its 10 s message timeout
    try:
        proc = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True,
                              timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return proc.stdout.split()[0] if proc.returncode == 0 and proc.stdout.split() else ""


def require_slurm() -> None:
    """Skip (or in CI fail) unless the test Slurm answers with a usable node."""
    state = slurm_node_state()
    if state.rstrip("*") not in ("idle", "mix", "alloc"):
        _skip_or_fail(f"the test Slurm is not running (sinfo: {state or 'no answer'}; "
                      "start it with `make slurm-up` as root)")


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), 1):
            return True
    except OSError:
        return False


def require_ssh_login() -> SSHLogin:
    """The test login node, started with ``scripts/services/sshd.sh up`` if needed (root)."""
    require_slurm()
    return require_sshd()


def require_sshd() -> SSHLogin:
    """The test login node's sshd (also the HTCondor double's submit node), started if needed."""
    key = SSH_STATE / "client_ed25519"
    if not _port_open(SSH_HOST, SSH_PORT) or not key.is_file():
        script = REPO_ROOT / "scripts" / "services" / "sshd.sh"
        if os.geteuid() == 0 and script.is_file():
            subprocess.run([str(script), "up"], capture_output=True, timeout=60, check=False)
            deadline = time.monotonic() + 10
            while not _port_open(SSH_HOST, SSH_PORT) and time.monotonic() < deadline:
                time.sleep(0.1)
    if not _port_open(SSH_HOST, SSH_PORT) or not key.is_file():
        _skip_or_fail(f"no test SSH login node on {SSH_HOST}:{SSH_PORT} with key {key} "
                      "(start it with `scripts/services/sshd.sh up` as root)")
    return SSHLogin(SSH_HOST, SSH_PORT, SSH_USER, key.read_text())


def slurm_job_state(slurm_id: str) -> str:
    """What Slurm itself says about a job (squeue, else sacct), e.g. ``CANCELLED``."""
    out = subprocess.run(["squeue", "-h", "--states=all", "-j", slurm_id, "-O", "State"],
                         capture_output=True, text=True, timeout=10, check=False).stdout.strip()
    if out:
        return out.split()[0]
    out = subprocess.run(["sacct", "-X", "-n", "-P", "-o", "State", "-j", slurm_id],
                         capture_output=True, text=True, timeout=10, check=False).stdout.strip()
    return out.split()[0] if out else ""


def slurm_jobs(job_name: str) -> list[tuple[str, str]]:
    """``(job id, state)`` of the Slurm jobs the platform named ``reana-<job_name>``.

    slurmctld's view first (squeue keeps ended jobs for MinJobAge), accounting (sacct, written
    asynchronously by slurmdbd) for older ones.
    """
    name = f"reana-{job_name}"
    out = subprocess.run(["squeue", "-h", "--states=all", "-n", name, "-O", "JobID:|,State"],
                         capture_output=True, text=True, timeout=30, check=False).stdout
    if not out.strip():
        out = subprocess.run(["sacct", "-X", "-n", "-P", "-o", "JobID,State", "--name", name,
                              "-S", "now-1hour"],
                             capture_output=True, text=True, timeout=30, check=False).stdout
    rows = [line.split("|") for line in out.splitlines() if "|" in line]
    return [(row[0].strip(), row[1].split()[0]) for row in rows]  # "CANCELLED by 0" -> CANCELLED


def slurm_states(job_name: str, expected: list[str], seconds: float = 60) -> list[str]:
    """The Slurm states of ``job_name``'s jobs, waiting a little for ``expected``."""
    deadline = time.monotonic() + seconds
    while True:
        states = [state for _, state in slurm_jobs(job_name)]
        if states == expected or time.monotonic() > deadline:
            return states
        time.sleep(0.2)
