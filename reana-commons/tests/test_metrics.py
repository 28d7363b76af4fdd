"""The metrics' definitions: bounded labels, one exposition, and a Grafana dashboard that
asks only for metrics that exist; multiprocess aggregation across real processes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from reana_commons import metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "reana-dashboard.json"
ALLOWED_LABELS = {"service", "endpoint", "method", "status", "outcome", "reason", "phase",
                  "compute_backend", "cause"}
SERVER_COLLECTED = {"reana_runs", "reana_queue_depth"}


def _defined() -> dict:
    return {m._name: m for m in vars(metrics).values()
            if hasattr(m, "_labelnames") and hasattr(m, "_name")}


def test_labels_are_few_and_bounded():
    for name, metric in _defined().items():
        assert set(metric._labelnames) <= ALLOWED_LABELS, name
        assert name.startswith("reana_")


def test_the_dashboard_asks_for_existing_metrics_only():
    dashboard = json.loads(DASHBOARD.read_text())
    names = set()
    for metric in _defined().values():
        base = metric._name
        names |= {base, f"{base}_total", f"{base}_bucket", f"{base}_count", f"{base}_sum"}
    names |= SERVER_COLLECTED
    used = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used |= set(re.findall(r"\b(reana_[a-z_]+)", target["expr"]))
    assert used and used <= names, used - names
    assert {m for m in names if m.endswith(("_bucket", "_total"))} & used


CHILD = """
import sys
from reana_commons import metrics
metrics.SUBMISSIONS.labels("admitted", "").inc(int(sys.argv[1]))
metrics.record_memory("test")
"""


def test_processes_sharing_a_directory_add_up(tmp_path):
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "m"))
    for count in (2, 3):
        subprocess.run([sys.executable, "-c", CHILD, str(count)], env=env, check=True)
    reader = ("from reana_commons import metrics; import sys; "
              "sys.stdout.write(metrics.exposition()[0].decode())")
    text = subprocess.run([sys.executable, "-c", reader], env=env, check=True,
                          capture_output=True, text=True).stdout
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(text) for s in f.samples}
    assert samples[("reana_submissions_total", (("outcome", "admitted"), ("reason", "")))] == 5
