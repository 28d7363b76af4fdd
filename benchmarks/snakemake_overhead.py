"""snakemake_job_overhead_ms: per-job cost of Snakemake runs through the platform.

A Snakefile of N rules in a chain (each rule's input is the previous rule's
output, so jobs run one at a time; each job only writes the time it started)
runs twice in the same benchmark run:

- through the platform: ``run-snakemake-workflow`` (the engine process a run
  starts) with a real job controller process (local backend) and real messaging;
- locally: Snakemake 9's own ``snakemake --cores 1`` on the same Snakefile.

A job's cycle is the time between the starts of two consecutive jobs (read from
the files they wrote), so start-up costs (Python, Snakemake's import, the DAG)
do not count; the median over the chain is robust to the other load of a
shared machine. ``snakemake_job_overhead_ms`` is the platform's cycle over a bare
spawn of the same job command; the target is to stay within 2x of Snakemake's
own cycle (``snakemake_local_job_ms``). Uses PostgreSQL and RabbitMQ when
reachable, else the embedded profile. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from job_overhead import bench_user, isolated_services, run_engine
from reana_testing.engine import b64json

ENGINE = "from reana_workflow_engine_snakemake.cli import run_snakemake_workflow as r; r()"


JOB_COMMAND = "date +%s.%N > {output}"
"""Each job writes when it started; a bare spawn of it is the baseline."""


def chain_snakefile(rules: int) -> str:
    """``rules`` rules, each waiting for the previous one's output."""
    lines = [f'rule all:\n    input: "chain/{rules - 1}.done"\n']
    lines.append(f'rule step0:\n    output: "chain/0.done"\n    shell: "{JOB_COMMAND}"\n')
    for index in range(1, rules):
        lines.append(f'rule step{index}:\n    input: "chain/{index - 1}.done"\n'
                     f'    output: "chain/{index}.done"\n    shell: "{JOB_COMMAND}"\n')
    return "\n".join(lines)


def cycles_ms(workspace: Path, rules: int) -> list[float]:
    """Times between the starts of consecutive jobs of the chain."""
    starts = [float((workspace / f"chain/{index}.done").read_text()) for index in range(rules)]
    return [(later - earlier) * 1000 for earlier, later in zip(starts, starts[1:], strict=False)]


def bare_job_ms(count: int, folder: Path) -> list[float]:
    """A bare ``bash -c`` spawn of the job's command, waited for."""
    target = folder / "bare.done"
    command = JOB_COMMAND.replace("{output}", str(target))
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        subprocess.run(["bash", "-c", command], check=True)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def fresh_workspace(root: Path, rules: int) -> Path:
    workspace = root / f"ws-{rules}-{time.monotonic_ns()}"
    workspace.mkdir(parents=True)
    (workspace / "Snakefile").write_text(chain_snakefile(rules))
    return workspace


def local_cycles(root: Path, rules: int) -> list[float]:
    """Job cycles of ``snakemake --cores 1`` on a fresh workspace."""
    workspace = fresh_workspace(root, rules)
    snakemake = shutil.which("snakemake", path=str(Path(sys.executable).parent)) or "snakemake"
    subprocess.run([snakemake, "--cores", "1", "--quiet", "all", "-s", "Snakefile"],
                   cwd=workspace, check=True, capture_output=True)
    return cycles_ms(workspace, rules)


def platform_cycles(root: Path, rules: int, session, user) -> list[float]:
    """Job cycles of the engine process running the chain through a job controller."""
    from reana_testing.job_controller import create_workflow

    workflow = create_workflow(session, user, root / "shared", name=f"smk{rules}")
    workspace = Path(workflow.workspace_path)
    (workspace / "Snakefile").write_text(chain_snakefile(rules))
    run_engine(root, workflow, ENGINE, "--workflow-file", "Snakefile",
               "--workflow-parameters", b64json({}), "--operational-options", b64json({}))
    return cycles_ms(workspace, rules)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rules", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reana-bench-smk-") as tmp, \
            isolated_services(Path(tmp)) as (database, broker):
        result = measure(Path(tmp), args.rules)
    result.update({"snakemake_overhead_database": database, "snakemake_overhead_broker": broker})
    print(json.dumps(result))
    return 0


def measure(root: Path, rules: int) -> dict:
    session, user = bench_user("bench-snakemake@example.org")
    try:
        bare_before = bare_job_ms(50, root)
        local = statistics.median(local_cycles(root, rules))
        through_platform = statistics.median(platform_cycles(root, rules, session, user))
        bare = statistics.median(bare_before + bare_job_ms(50, root))
    finally:
        session.close()
    return {
        "snakemake_job_overhead_ms": round(through_platform - bare, 2),
        "snakemake_platform_job_ms": round(through_platform, 2),
        "snakemake_local_job_ms": round(local, 2),
        "snakemake_overhead_vs_local": round((through_platform - bare) / local, 2),
        "snakemake_bare_spawn_ms": round(bare, 2),
        "snakemake_rules": rules,
    }


if __name__ == "__main__":
    sys.exit(main())
