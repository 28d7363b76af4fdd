"""htcondor_status_lag_ms: from an HTCondor job's end to its job status in the DB
(``htcondorcern`` backend, local mode, file transfer, on the HTCondor double of
``make htcondor-up``: its exit handling and output transfer, one ``condor_q`` +
``condor_history``, unpacking the outputs; see batch_status_lag.py)."""

from __future__ import annotations

import sys

from batch_status_lag import Backend, run


def _available() -> str | None:
    from reana_testing.htcondor import htcondor_answers

    return None if htcondor_answers() else "HTCondor double not running (make htcondor-up)"


HTCONDOR = Backend(key="htcondor", compute_backend="htcondorcern",
                   interval_variable="REANA_HTCONDOR_MONITOR_INTERVAL",
                   hostname_variable="HTCONDOR_HOSTNAME", available=_available)

if __name__ == "__main__":
    sys.exit(run(HTCONDOR))
