"""Plumbing of the benchmarks (statistics, verdict, CPU accounting); nothing here is timed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from bench_cpu import CpuAccounting, Window  # noqa: E402
from bench_report import TARGETS, Results  # noqa: E402
from bench_stats import percentile, slope, spread  # noqa: E402


def test_percentile_is_nearest_rank():
    samples = [float(v) for v in range(1, 201)]  # 1..200, shuffled order must not matter
    assert percentile(list(reversed(samples)), 0.99) == 198.0
    assert percentile(samples, 0.50) == 100.0
    assert percentile([7.0], 0.99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_spread_is_the_median_with_its_extremes():
    assert spread([3.0, 1.0, 2.0]) == {"value": 2.0, "min": 1.0, "max": 3.0, "n": 3}
    assert slope(1.0, 3.0, 199) == pytest.approx(2 / 199)


def test_the_verdict_marks_each_target_met_or_missed_beside_its_spread():
    results = Results()
    busy = {"others_cores": 0.5, "busy": True, "loadavg": [3.0, 3.1]}
    quiet = {"others_cores": 0.01, "busy": False, "loadavg": [0.1, 0.1]}
    results.add("admission_per_s", [300.0, 280.0, 310.0], "runs/s", [quiet, quiet])
    results.add("list_10k_p99_ms", [51.0], "ms", [busy])
    results.add("idle_rss_mb_max", 80.0, "MB")
    results.add("snakemake_job_overhead_ms_peer", [20.0, 22.0, 21.0], "ms")
    results.add("job_overhead_ms", [25.0, 24.0, 26.0], "ms")
    results.errors["status"] = "boom"
    lines = {line.split()[0]: line for line in results.table().splitlines()[1:]}
    assert lines["admission_per_s"].split()[1:4] == ["300", "280–310", "(3)"]
    assert " ok " in lines["admission_per_s"] and "BUSY" not in lines["admission_per_s"]
    assert "MISSED" in lines["list_10k_p99_ms"] and "others 0.50 cores BUSY" in \
        lines["list_10k_p99_ms"]
    assert " ok " in lines["idle_rss_mb_max"]  # the bound itself meets "<="
    # a peer's figure measured in the same run is the target
    assert "(21)" in lines["job_overhead_ms"] and "MISSED" in lines["job_overhead_ms"]
    assert "not measured" in lines["jobs_per_s_wall"]
    assert "ERROR status: boom" in results.table()
    assert set(results.missed()) >= {"list_10k_p99_ms", "job_overhead_ms", "jobs_per_s_wall"}
    assert "admission_per_s" not in results.missed()
    assert set(TARGETS) >= {"jobs_per_s_wall", "cpu_ms_per_job", "create_start_server_cpu_ms",
                            "embedded_idle_cpu_pct", "submit_to_running_ms_p99"}


BURN = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"


@pytest.mark.parametrize("force_process", [False, True], ids=["cgroup", "process"])
def test_cpu_accounting_counts_exited_children(force_process):
    """A child that burns 0.3 s of CPU and exits is counted, whichever accounting (process
    accounting through its parent, which reaps it)."""
    accounting = CpuAccounting(force_process=force_process)
    parent = None
    try:
        if not force_process and not accounting.exact:
            pytest.skip("no control group can be made here")
        parent = subprocess.Popen(
            [sys.executable, "-c", "import subprocess, sys, time; time.sleep(0.3); "
             f"subprocess.run([sys.executable, '-c', {BURN!r}]); print('done', flush=True); "
             "time.sleep(60)"],
            stdout=subprocess.PIPE, text=True, preexec_fn=accounting.joiner("platform/test"))
        accounting.follow("platform/test", parent.pid)
        window = Window(accounting)
        assert parent.stdout.readline().strip() == "done"
        closed = window.close()
        assert closed["parts_s"]["test"] >= 0.25
        assert closed["platform_s"] >= 0.25
        assert closed["client_s"] < closed["platform_s"]
    finally:
        if parent is not None:
            parent.kill()
            parent.wait()
        accounting.close()
