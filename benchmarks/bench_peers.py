"""The peers, in the same benchmark run: Snakemake 9 and cwltool on the same no-op chain.

Each peer runs a chain of ``steps`` no-op jobs (each after the previous one)
and a chain of 1; the slope between them is its per-job wall time and CPU,
start-up (Python, imports, parsing) cancelling out, as for the platform's
``job_overhead_ms``. Each peer's processes are counted in a part of the
benchmark's accounting of their own (``outside/peer-...``), so their CPU is
measured the same way as the platform's. The overhead is the slope minus a
bare spawn of the job's command.

- Snakemake: ``snakemake --cores 1`` on a Snakefile of rules, each with the
  previous rule's output as input and ``touch {output}`` as its shell command.
- cwltool: ``cwltool --no-container`` on a packed workflow of CommandLineTool
  steps running ``true`` (an ``int`` passed on by a parameter reference, no
  JavaScript), each step fed by the previous one.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench_cpu import CpuAccounting, Window
from bench_report import Results
from bench_runs import bare_spawn_ms
from bench_stats import MIN_REPETITIONS, percentile, slope

BIN = Path(sys.executable).parent


def snakefile(steps: int) -> str:
    lines = [f'rule all:\n    input: "chain/{steps - 1}.done"\n',
             'rule step0:\n    output: "chain/0.done"\n    shell: "touch {output}"\n']
    for index in range(1, steps):
        lines.append(f'rule step{index}:\n    input: "chain/{index - 1}.done"\n'
                     f'    output: "chain/{index}.done"\n    shell: "touch {{output}}"\n')
    return "\n".join(lines)


def cwl_chain(steps: int) -> dict:
    tool = {
        "id": "#noop.cwl", "class": "CommandLineTool", "baseCommand": "true",
        "inputs": [{"id": "#noop.cwl/n", "type": "int"}],
        "outputs": [{"id": "#noop.cwl/next", "type": "int",
                     "outputBinding": {"outputEval": "$(inputs.n)"}}],
    }
    main = {"id": "#main", "class": "Workflow", "inputs": [{"id": "#main/n", "type": "int"}],
            "outputs": [{"id": "#main/last", "type": "int",
                         "outputSource": f"#main/s{steps - 1}/next"}], "steps": []}
    for index in range(steps):
        source = "#main/n" if index == 0 else f"#main/s{index - 1}/next"
        main["steps"].append({"id": f"#main/s{index}", "run": "#noop.cwl",
                              "in": [{"id": f"#main/s{index}/n", "source": source}],
                              "out": [f"#main/s{index}/next"]})
    return {"cwlVersion": "v1.2", "$graph": [main, tool]}


def _prepare(peer: str, folder: Path, steps: int) -> list[str]:
    folder.mkdir(parents=True)
    if peer == "snakemake":
        (folder / "Snakefile").write_text(snakefile(steps))
        return [str(BIN / "snakemake"), "--cores", "1", "--quiet", "all", "-s", "Snakefile"]
    (folder / "workflow.json").write_text(json.dumps(cwl_chain(steps)))
    (folder / "inputs.json").write_text(json.dumps({"n": 0}))
    return [str(BIN / "cwltool"), "--no-container", "--quiet", "--outdir", str(folder / "out"),
            f"{folder / 'workflow.json'}#main", str(folder / "inputs.json")]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_peer(accounting: CpuAccounting, peer: str, folder: Path,
             steps: int) -> tuple[float, float, dict]:
    """Wall seconds and CPU seconds of one run of the peer; the machine's window."""
    command = _prepare(peer, folder, steps)
    part = f"outside/peer-{peer}"
    window = Window(accounting)
    cpu_before = accounting.usage(part) if accounting.exact else _children_cpu()
    began = time.perf_counter()
    subprocess.run(command, cwd=folder, check=True, capture_output=True, timeout=900,
                   preexec_fn=accounting.joiner(part))
    wall = time.perf_counter() - began
    cpu = (accounting.usage(part) if accounting.exact else _children_cpu()) - cpu_before
    return wall, cpu, window.close()


def bare_touch_ms(folder: Path, count: int = 50) -> float:
    """A bare ``bash -c 'touch FILE'`` spawn (Snakemake's job command)."""
    target = folder / "bare.done"
    samples = []
    for _ in range(count):
        began = time.perf_counter()
        subprocess.run(["bash", "-c", f"touch {target}"], check=True)
        samples.append((time.perf_counter() - began) * 1000)
    return percentile(samples, 0.5)


def peers(accounting: CpuAccounting, folder: Path, results: Results, steps: int = 200,
          repetitions: int = MIN_REPETITIONS) -> None:
    """``<peer>_job_overhead_ms_peer`` and ``<peer>_cpu_ms_per_job_peer`` for both peers."""
    folder.mkdir(parents=True, exist_ok=True)
    bare = {"snakemake": bare_touch_ms(folder), "cwltool": bare_spawn_ms()}
    for peer in ("snakemake", "cwltool"):
        run_peer(accounting, peer, folder / f"{peer}-warm", 2)  # imports in the page cache
        overheads, cycles, cpus, windows = [], [], [], []
        for rep in range(repetitions):
            wall_1, cpu_1, window_1 = run_peer(accounting, peer, folder / f"{peer}-1-{rep}", 1)
            wall_n, cpu_n, window_n = run_peer(accounting, peer, folder / f"{peer}-n-{rep}",
                                               steps)
            cycle = slope(wall_1, wall_n, steps - 1) * 1000
            cycles.append(cycle)
            overheads.append(cycle - bare[peer])
            cpus.append(slope(cpu_1, cpu_n, steps - 1) * 1000)
            windows += [window_1, window_n]
        results.add(f"{peer}_job_overhead_ms_peer", overheads, "ms", windows,
                    note=f"per-job slope of a {steps}-job chain over 1 job, minus a bare "
                         f"spawn ({bare[peer]:.1f} ms)")
        results.add(f"{peer}_job_cycle_ms_peer", cycles, "ms", windows)
        results.add(f"{peer}_cpu_ms_per_job_peer", cpus, "ms", windows,
                    note="CPU of every process of the peer, same slope")
