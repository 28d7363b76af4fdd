"""Whole-platform benchmarks on PostgreSQL + RabbitMQ (issue 4, item 8).

Starts the platform the way `make up` does (scripts/up.sh) with a temporary
``REANA_HOME``, a fresh database and a queue prefix of its own, measures, and
stops it (scripts/down.sh, database dropped, queues deleted):

- ``submit_to_running_ms_p50``/``_p99``: start request → the first job's
  command running (it writes its wall-clock time), ~30 sequential runs, idle platform;
- ``idle_rss_mb``: resident memory of each idle service process, after those runs;
- ``jobs_per_s``: no-op jobs per second across 20 concurrent 50-step serial runs
  (first job start → last job end, from the job table; ``jobs_per_s_wall`` from
  the first start request to the last run finished);
- ``list_10k_p99_ms``: ``GET /api/workflows?type=batch&page=1&size=20`` with
  10,000 runs of the user (bulk-inserted rows), p99 of 200 requests;
- ``status_msgs_per_s``: jobs-status messages applied per second by the
  consumer from a pre-filled queue;
- ``admission_per_s``: runs created and started per second by 16 keep-alive
  clients, with the scheduler stopped (admission only; the runs stay queued).

A human-readable summary goes to stderr; the last stdout line is the JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import requests  # noqa: E402
from bench_data import idle_rss, list_10k, status_messages  # noqa: E402
from bench_platform import Platform  # noqa: E402
from bench_runs import admission, jobs_per_second, submit_to_running  # noqa: E402

TARGETS = {
    "admission_per_s": (">=", 250),
    "submit_to_running_ms_p50": ("<=", 300),
    "submit_to_running_ms_p99": ("<=", 1000),
    "jobs_per_s": (">=", 200),
    "status_msgs_per_s": (">=", 2000),
    "list_10k_p99_ms": ("<=", 50),
    "idle_rss_mb_max": ("<=", 80),
}


def summary(results: dict) -> str:
    """One line per target: value, target, met or missed."""
    lines = ["platform benchmarks (PostgreSQL + RabbitMQ):"]
    for key, (op, target) in TARGETS.items():
        value = results.get(key)
        if value is None:
            lines.append(f"  {key:<28} not measured          target {op} {target}")
            continue
        met = value >= target if op == ">=" else value <= target
        lines.append(f"  {key:<28} {value:>10}   target {op} {target:<6} "
                     f"{'ok' if met else 'MISSED'}")
    if isinstance(results.get("idle_rss_mb"), dict):
        per = ", ".join(f"{k} {v}" for k, v in results["idle_rss_mb"].items())
        lines.append(f"  idle RSS per process (MB): {per}")
    if results.get("jobs_runs_not_finished"):
        lines.append(f"  WARNING: {results['jobs_runs_not_finished']} throughput runs did not "
                     f"finish ({results.get('jobs_runs_not_finished_reason')})")
    if results.get("admission_errors"):
        lines.append(f"  WARNING: {results['admission_errors']} admission errors "
                     f"({results.get('admission_first_error')})")
    for key, value in results.items():
        if key.endswith("_error"):
            lines.append(f"  ERROR {key}: {value}")
    if "admission_scheduler" in results:
        lines.append(f"  admission: scheduler {results['admission_scheduler']}")
    return "\n".join(lines)


def wait_ready(platform: Platform) -> None:
    """The public API answers and the workflow controller's API too."""
    controller = f"http://127.0.0.1:{platform.env['REANA_WORKFLOW_CONTROLLER_PORT']}/healthz"

    def ready() -> bool:
        try:
            return requests.get(controller, timeout=5).status_code == 200
        except requests.RequestException:
            return False

    platform.wait_until(ready, 120, "the workflow controller", 0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-runs", type=int, default=30)
    parser.add_argument("--throughput-runs", type=int, default=20)
    parser.add_argument("--throughput-steps", type=int, default=50)
    parser.add_argument("--list-runs", type=int, default=10_000)
    parser.add_argument("--status-messages", type=int, default=20_000)
    parser.add_argument("--admission-runs", type=int, default=800)
    parser.add_argument("--only", default="", help="comma list: latency,rss,jobs,list,status,"
                        "admission (default: all)")
    args = parser.parse_args()
    wanted = set(filter(None, args.only.split(","))) or {
        "latency", "rss", "jobs", "list", "status", "admission"}
    results: dict = {}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="reana-bench-") as tmp:
        platform = Platform(Path(tmp) / "home")
        platform.configure_this_process()
        try:
            began = time.monotonic()
            platform.start()
            wait_ready(platform)
            print(f"[bench] platform up in {time.monotonic() - began:.1f} s at {platform.url}",
                  file=sys.stderr)
            steps = [
                ("latency", lambda: submit_to_running(platform, args.latency_runs)),
                ("rss", lambda: (time.sleep(2), idle_rss(platform))[1]),
                ("jobs", lambda: jobs_per_second(platform, args.throughput_runs,
                                                 args.throughput_steps)),
                ("list", lambda: list_10k(platform, args.list_runs)),
                ("status", lambda: status_messages(platform, args.status_messages)),
                ("admission", lambda: admission(platform, args.admission_runs)),
            ]
            for name, step in steps:
                if name not in wanted:
                    continue
                began = time.monotonic()
                try:
                    measured = step()
                except Exception as error:  # noqa: BLE001 - report, go on with the others
                    print(f"[bench] {name} failed: {error}", file=sys.stderr)
                    results[f"{name}_error"] = str(error)[:500]
                    continue
                print(f"[bench] {name} ({time.monotonic() - began:.1f} s): "
                      f"{json.dumps(measured)}", file=sys.stderr)
                results.update(measured)
        finally:
            platform.stop()
    results["platform_bench_profile"] = "postgresql+rabbitmq"
    # The machine's 1-minute load average before and after: other work on a shared machine
    # slows every wall-clock number down (the *_cpu_ms_* values are per-operation costs).
    results["platform_bench_loadavg"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
    print(summary(results), file=sys.stderr)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
