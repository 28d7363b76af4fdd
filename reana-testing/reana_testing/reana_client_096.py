"""The real reana-client 0.9.6, in a venv of its own (its old pins never touch ``.venv``).

Created once under a file lock, so parallel test workers (and the test suites of
several packages) share it; ``make test`` creates it before pytest starts
(``python -m reana_testing.reana_client_096``), so no test waits for pip.
The venv is complete only once its ``.complete`` marker exists: an interrupted
install is removed and made again by the next caller.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLIENT_VENV = Path(os.environ.get("REANA_CLIENT_096_VENV",
                                  ROOT / ".ci" / "venvs" / "reana-client-0.9.6"))
CLIENT_PYTHON = CLIENT_VENV / "bin" / "python"


class ClientUnavailable(RuntimeError):
    """pip could not install reana-client 0.9.6 (its message says why)."""


def _works() -> bool:
    return CLIENT_PYTHON.exists() and subprocess.run(
        [str(CLIENT_PYTHON), "-c", "import reana_client.cli"], capture_output=True,
    ).returncode == 0


def ensure_client_venv() -> Path:
    """The venv holding reana-client 0.9.6, made when missing or incomplete."""
    CLIENT_VENV.parent.mkdir(parents=True, exist_ok=True)
    marker = CLIENT_VENV / ".complete"
    with open(CLIENT_VENV.parent / f"{CLIENT_VENV.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and _works():
            return CLIENT_VENV
        shutil.rmtree(CLIENT_VENV, ignore_errors=True)
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(CLIENT_VENV)], check=True)
        install = subprocess.run(
            [str(CLIENT_PYTHON), "-m", "pip", "install", "-q", "reana-client==0.9.6"],
            capture_output=True, text=True,
        )
        if install.returncode != 0 or not _works():
            shutil.rmtree(CLIENT_VENV, ignore_errors=True)
            raise ClientUnavailable(
                f"reana-client 0.9.6 could not be installed: {install.stderr[-500:]}")
        marker.touch()
    return CLIENT_VENV


def main() -> int:
    try:
        print(f"reana-client 0.9.6 in {ensure_client_venv()}")
    except ClientUnavailable as error:
        # the tests that need it skip (or fail with REANA_REQUIRE_SERVICES=1) with this reason
        print(error, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
