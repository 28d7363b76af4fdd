"""``make bench``: every benchmark, its verdict on stdout, ``benchmarks/results/latest.json``.

The whole run happens inside one CPU accounting (:mod:`bench_cpu`: a control
group where one can be made, else process accounting; the output says which),
with a PostgreSQL and a RabbitMQ of its own (:mod:`bench_services`), so that
every CPU figure counts every process the platform runs for it. In order:

1. the platform on PostgreSQL + RabbitMQ (scripts/up.sh): start → first job
   running, idle CPU and memory, per-job overhead end to end through the API,
   throughput of 20 concurrent runs, listing (10,000 and 50,000 runs, the
   project's and reana-client 0.9.6's ``list``), the status consumer, admission, the web
   UI (first page of 10,000 runs in Chromium, size of its assets: ui_bench.py);
2. the embedded profile: idle CPU and start → first job running;
3. the peers on the same no-op chain: Snakemake 9 and cwltool;
4. the smaller benchmarks (scripts printing one JSON line): client start-up,
   Slurm and HTCondor status lag, provenance, the CWL conformance result.

Each figure is the median of its repetitions with their spread, beside its
target; ``--strict`` exits 1 when a target is missed. The machine's other load
is measured in every window and flagged (``BUSY``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform as host
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_cpu import CpuAccounting  # noqa: E402
from bench_report import Results  # noqa: E402
from bench_services import Services  # noqa: E402

PLATFORM_STEPS = ("latency", "idle", "overhead", "jobs", "list", "status", "admission", "ui")
SCRIPTS = {
    "client": "client_startup.py",
    "slurm": "slurm_status_lag.py",
    "htcondor": "htcondor_status_lag.py",
    "provenance": "provenance_overhead.py",
    "conformance": "cwl_conformance.py",
    "cwl-engine": "cwl_job_overhead.py",
}
EXTRA_SCRIPTS = {"snakemake-engine": "snakemake_overhead.py", "job-controller": "job_overhead.py"}
"""Engine-level benchmarks run only when named with ``--only`` (not in the 15-minute run)."""
SCRIPT_FIGURES = {
    "client_startup_ms": "ms", "client_status_cpu_ms": "ms", "slurm_status_lag_ms": "ms",
    "htcondor_status_lag_ms": "ms", "provenance_overhead_ms": "ms",
    "cwl_conformance_passed": "tests", "snakemake_job_overhead_ms": "ms",
    "cwl_job_overhead_ms": "ms", "cwl_cwltool_job_overhead_ms": "ms",
    "cwl_job_overhead_over_cwltool_ms": "ms",
}
"""Keys of the scripts' JSON that are figures (the rest goes to the details)."""


def log(message: str) -> None:
    print(f"[bench] {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def commit() -> dict:
    """The commit measured, and whether the working tree differed from it."""
    def git(*args):
        return subprocess.run(["git", "-C", str(HERE.parent), *args], capture_output=True,
                              text=True).stdout.strip()

    return {"commit": git("rev-parse", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def step(results: Results, name: str, action) -> None:
    began = time.monotonic()
    log(f"{name} ...")
    try:
        action()
    except Exception as error:  # noqa: BLE001 - report it, go on with the others
        traceback.print_exc(file=sys.stderr)
        results.errors[name] = str(error)[:500]
    log(f"{name} done in {time.monotonic() - began:.1f} s")


def platform_steps(results: Results, accounting: CpuAccounting, services: Services,
                   folder: Path, wanted: set[str], quick: bool) -> None:
    from bench_data import idle, listing, status_messages
    from bench_platform import Platform
    from bench_runs import admission, job_overhead, jobs_per_second, submit_to_running
    from ui_bench import ui

    reps = 1 if quick else 3
    platform = Platform(folder / "home", accounting, services)
    platform.configure_this_process()
    try:
        began = time.monotonic()
        platform.start()
        log(f"platform up in {time.monotonic() - began:.1f} s at {platform.url}")
        steps = {
            "latency": lambda: submit_to_running(platform, results, 10 if quick else 70, reps),
            "idle": lambda: idle(platform, results, repetitions=reps),
            "overhead": lambda: job_overhead(platform, results, 50 if quick else 200, reps),
            "jobs": lambda: jobs_per_second(platform, results, 20, 10 if quick else 50, reps),
            "list": lambda: listing(platform, results, 1000 if quick else 10_000,
                                    5000 if quick else 50_000, reps),
            "status": lambda: status_messages(platform, results, 2000 if quick else 10_000,
                                              20, reps),
            "admission": lambda: admission(platform, results, 50 if quick else 400, 16, reps),
            "ui": lambda: ui(platform, results, 1000 if quick else 10_000, reps),
        }
        for name in PLATFORM_STEPS:
            if name in wanted:
                step(results, name, steps[name])
    finally:
        platform.stop()


def embedded_steps(results: Results, accounting: CpuAccounting, folder: Path,
                   quick: bool) -> None:
    from bench_data import idle
    from bench_platform import Platform
    from bench_runs import submit_to_running

    platform = Platform(folder / "embedded", accounting, None)
    platform.configure_this_process()
    try:
        platform.start()
        reps = 1 if quick else 3
        step(results, "embedded idle",
             lambda: idle(platform, results, prefix="embedded_", repetitions=reps))
        step(results, "embedded latency", lambda: submit_to_running(
            platform, results, 5 if quick else 20, reps, prefix="embedded_"))
    finally:
        platform.stop()


def run_script(results: Results, name: str) -> None:
    """A benchmark script printing one JSON object on its last line; its figures merged."""
    proc = subprocess.run([sys.executable, str(HERE / name)], capture_output=True, text=True,
                          timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"{name} failed ({proc.returncode}): {proc.stderr[-1500:]}")
    lines = [line for line in proc.stdout.strip().splitlines() if line.strip()]
    measured = json.loads(lines[-1]) if lines else {}
    for key, value in measured.items():
        if key in SCRIPT_FIGURES and isinstance(value, int | float):
            results.add(key, float(value), SCRIPT_FIGURES[key], note=f"{name}, one run")
        else:
            results.details[key] = value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma list of steps: "
                        f"{','.join(PLATFORM_STEPS)},embedded,peers,"
                        f"{','.join(SCRIPTS)},{','.join(EXTRA_SCRIPTS)} (default: all "
                        "but the engine-level extras)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--quick", action="store_true",
                        help="one repetition, small sizes (a check of the benchmark itself; "
                             "its figures are not comparable and it writes no latest.json)")
    parser.add_argument("--shared-services", action="store_true",
                        help="the machine's PostgreSQL and RabbitMQ instead of private ones "
                             "(their CPU is then not counted)")
    parser.add_argument("--output", type=Path, help="where the report goes (default: "
                        "results/latest.json; with --quick or --only results/partial.json)")
    args = parser.parse_args(argv)
    wanted = set(filter(None, args.only.split(","))) or {
        *PLATFORM_STEPS, "embedded", "peers", *SCRIPTS}
    results = Results()
    began = time.monotonic()
    accounting = CpuAccounting()
    accounting.enter("outside/driver")
    folder = Path(tempfile.mkdtemp(prefix="reana-bench-"))
    folder.chmod(0o755)  # the private PostgreSQL runs as its own user
    services = None
    log(f"CPU accounting: {accounting.describe()}")
    try:
        if wanted & set(PLATFORM_STEPS):
            services = Services(folder / "services", accounting,
                                private=not args.shared_services)
            services.start()
            log(f"services: {services.describe()}")
            platform_steps(results, accounting, services, folder, wanted, args.quick)
            services.stop()
        if "embedded" in wanted:
            embedded_steps(results, accounting, folder, args.quick)
        if "peers" in wanted:
            from bench_peers import peers

            step(results, "peers", lambda: peers(accounting, folder / "peers", results,
                                                 50 if args.quick else 200,
                                                 1 if args.quick else 3))
        for name, script in {**SCRIPTS, **EXTRA_SCRIPTS}.items():
            if name in wanted:
                step(results, name, lambda script=script: run_script(results, script))
    finally:
        if services is not None:
            services.stop()
        accounting.close()
        shutil.rmtree(folder, ignore_errors=True)
    report = {
        **commit(),
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_s": round(time.monotonic() - began),
        "machine": {"cpus": os.cpu_count(), "python": host.python_version(),
                    "kernel": host.release()},
        "cpu_accounting": accounting.describe(),
        "services": services.describe() if services else None,
        "steps": sorted(wanted),
        "figures": results.figures,
        "missed": results.missed(),
        "errors": results.errors,
        "details": results.details,
    }
    print(f"REANA benchmarks at {report['commit'][:12]}{' (+changes)' if report['dirty'] else ''}"
          f", {report['measured_at']}, {report['duration_s']} s; CPU: {report['cpu_accounting']}"
          f"; services: {report['services']}")
    print(results.table())
    busy = [k for k, f in results.figures.items() if f.get("busy")]
    if busy:
        print(f"BUSY: other processes used more than 0.2 cores while {len(busy)} figures were "
              "measured: their wall-clock values are pessimistic.")
    partial = args.quick or args.only
    output = args.output or HERE / "results" / ("partial.json" if partial else "latest.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"saved to {output}")
    missed = results.missed()
    if missed:
        print(f"missed: {', '.join(missed)}")
    return 1 if args.strict and (missed or results.errors) else 0


if __name__ == "__main__":
    sys.exit(main())
