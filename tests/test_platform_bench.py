"""Plumbing of benchmarks/platform_bench.py (statistics, summary); nothing here is timed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from bench_stats import percentile  # noqa: E402
from platform_bench import TARGETS, summary  # noqa: E402


def test_percentile_is_nearest_rank():
    samples = [float(v) for v in range(1, 201)]  # 1..200, shuffled order must not matter
    assert percentile(list(reversed(samples)), 0.99) == 198.0
    assert percentile(samples, 0.50) == 100.0
    assert percentile([7.0], 0.99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_summary_marks_each_target_met_or_missed():
    results = {"admission_per_s": 300.0, "list_10k_p99_ms": 51.0, "idle_rss_mb_max": 80.0,
               "idle_rss_mb": {"server": 80.0}, "jobs_runs_not_finished": 2,
               "jobs_runs_not_finished_reason": "failed: engine gone", "status_error": "boom"}
    text = summary(results)
    lines = {line.split()[0]: line for line in text.splitlines()[1:] if line.strip()}
    assert lines["admission_per_s"].endswith("ok")
    assert lines["list_10k_p99_ms"].endswith("MISSED")
    assert lines["idle_rss_mb_max"].endswith("ok")  # the bound itself meets "<="
    assert "not measured" in lines["jobs_per_s"]
    assert "2 throughput runs did not finish (failed: engine gone)" in text
    assert "ERROR status_error: boom" in text
    assert set(TARGETS) >= {"admission_per_s", "submit_to_running_ms_p50",
                            "submit_to_running_ms_p99", "jobs_per_s", "status_msgs_per_s",
                            "list_10k_p99_ms", "idle_rss_mb_max"}
