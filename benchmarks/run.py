"""Run every benchmark, print the numbers and save them to ``benchmarks/results/latest.json``.

Each benchmark is a script in this folder that prints one JSON object on its
last line of output; this driver runs them one after the other (they share
2 cores, so never in parallel) and merges their keys.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    "platform_bench.py",
    "job_overhead.py",
    "client_startup.py",
    "slurm_status_lag.py",
    "htcondor_status_lag.py",
    "snakemake_overhead.py",
    "cwl_job_overhead.py",
    "cwl_conformance.py",
    "provenance_overhead.py",
    "ui_bench.py",
]


def run_one(script: Path) -> dict:
    """Run one benchmark script; its last stdout line is a JSON object."""
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=1800
    )
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        print(f"[bench] {script.name} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
        return {}
    lines = [line for line in proc.stdout.strip().splitlines() if line.strip()]
    result = json.loads(lines[-1]) if lines else {}
    print(f"[bench] {script.name} ({elapsed:.1f} s): {json.dumps(result)}")
    return result


def main() -> int:
    results: dict = {}
    for name in BENCHMARKS:
        script = HERE / name
        if not script.exists():
            print(f"[bench] {name}: not present, skipped")
            continue
        results.update(run_one(script))
    out = {
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
        "results": results,
    }
    target = HERE / "results" / "latest.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print(f"[bench] saved to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
