"""slurm_status_lag_ms: from a Slurm job's end to its job status in the DB (``slurm``
backend, local mode, on the test Slurm of ``make slurm-up``; see batch_status_lag.py)."""

from __future__ import annotations

import sys

from batch_status_lag import Backend, run


def _available() -> str | None:
    from reana_testing.slurm import slurm_node_state

    if slurm_node_state().rstrip("*") in ("idle", "mix", "alloc"):
        return None
    return "test Slurm not running (make slurm-up)"


SLURM = Backend(key="slurm", compute_backend="slurm",
                interval_variable="REANA_SLURM_MONITOR_INTERVAL",
                hostname_variable="SLURM_HOSTNAME", available=_available)

if __name__ == "__main__":
    sys.exit(run(SLURM))
