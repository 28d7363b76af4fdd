"""cwl_job_overhead_ms: per-step overhead of a CWL workflow through the platform, next to cwltool.

A chain of N no-op CommandLineTool steps (``true`` with one JavaScript argument,
each step after the previous one) runs twice per runner, with N = 1 and N = 100:
the difference over 99 steps is the cost of one step without the start-up costs.
The runners, in the same benchmark run:

- the platform: ``run-cwl-workflow`` (a process, as a run manager starts it) against
  a real job-controller process (local backend) with real messaging;
- ``cwltool --no-container`` on the same documents (cwltool's own per-step cost).

Each per-step cost minus a bare ``bash -c true`` spawn is the overhead; the target
is the platform's overhead within cwltool's own plus 10 ms. Uses PostgreSQL and
RabbitMQ when reachable, else the embedded profile. Prints one JSON line.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from job_overhead import bare_spawn_ms, isolated_services, run_engine  # noqa: E402
from reana_testing.engine import b64json  # noqa: E402

STEPS = 100
TARGET_MARGIN_MS = 10.0
ENGINE_MAIN = "from reana_workflow_engine_cwl.cli import run_cwl_workflow as r; r()"


def chain(steps: int) -> dict:
    """A packed workflow of ``steps`` no-op tools, each waiting for the previous one."""
    tool = {
        "id": "#noop.cwl", "class": "CommandLineTool",
        "requirements": [{"class": "InlineJavascriptRequirement"}],
        "baseCommand": "true",
        "inputs": [{"id": "#noop.cwl/n", "type": "int"}],
        "arguments": ["$(inputs.n + 1)"],
        "outputs": [{"id": "#noop.cwl/next", "type": "int",
                     "outputBinding": {"outputEval": "$(inputs.n + 1)"}}],
    }
    main = {"id": "#main", "class": "Workflow",
            "requirements": [{"class": "InlineJavascriptRequirement"}],
            "inputs": [{"id": "#main/n", "type": "int"}],
            "outputs": [{"id": "#main/last", "type": "int",
                         "outputSource": f"#main/s{steps - 1}/next"}],
            "steps": []}
    for index in range(steps):
        source = "#main/n" if index == 0 else f"#main/s{index - 1}/next"
        main["steps"].append({"id": f"#main/s{index}", "run": "#noop.cwl",
                              "in": [{"id": f"#main/s{index}/n", "source": source}],
                              "out": [f"#main/s{index}/next"]})
    return {"cwlVersion": "v1.2", "$graph": [main, tool]}


def platform_seconds(home: Path, steps: int) -> float:
    """Wall time of one run of the chain through the engine and a job controller."""
    from reana_db.database import new_session
    from reana_db.users import create_user
    from reana_testing.job_controller import create_workflow

    session = new_session()
    user, _token = create_user(session, f"cwl-bench-{steps}@example.org")
    session.commit()
    workflow = create_workflow(session, user, home / "shared", name=f"cwl{steps}")
    session.close()
    return run_engine(home, workflow, ENGINE_MAIN, "--workflow-json", b64json(chain(steps)),
                      "--workflow-parameters", b64json({"n": 0}), "--operational-options",
                      b64json({}))


def cwltool_seconds(folder: Path, steps: int) -> float:
    """Wall time of ``cwltool --no-container`` on the same chain."""
    folder.mkdir(parents=True)
    (folder / "workflow.json").write_text(json.dumps(chain(steps)))
    (folder / "inputs.json").write_text(json.dumps({"n": 0}))
    cwltool = Path(sys.executable).parent / "cwltool"
    started = time.perf_counter()
    subprocess.run([str(cwltool), "--no-container", "--quiet", "--outdir", str(folder / "out"),
                    f"{folder / 'workflow.json'}#main", str(folder / "inputs.json")],
                   cwd=folder, check=True, capture_output=True, timeout=900)
    return time.perf_counter() - started


def per_step_ms(one: float, many: float, steps: int) -> float:
    return (many - one) * 1000 / (steps - 1)


def measure(home: Path) -> dict:
    from reana_db.database import get_engine
    from reana_db.models import Base

    Base.metadata.create_all(get_engine())
    bare_before = bare_spawn_ms(50)
    cwltool_step = per_step_ms(cwltool_seconds(home / "cwltool-1", 1),
                               cwltool_seconds(home / "cwltool-n", STEPS), STEPS)
    platform_step = per_step_ms(platform_seconds(home, 1), platform_seconds(home, STEPS), STEPS)
    bare = sorted(bare_before + bare_spawn_ms(50))[50]
    platform_overhead = platform_step - bare
    cwltool_overhead = cwltool_step - bare
    verdict = "met" if platform_overhead <= cwltool_overhead + TARGET_MARGIN_MS else "missed"
    print(f"[cwl] per step: platform {platform_step:.1f} ms, cwltool --no-container "
          f"{cwltool_step:.1f} ms, bare spawn {bare:.1f} ms -> overhead {platform_overhead:.1f} "
          f"vs {cwltool_overhead:.1f} ms (target: cwltool's + {TARGET_MARGIN_MS:g} ms): "
          f"{verdict}", file=sys.stderr)
    return {
        "cwl_job_overhead_ms": round(platform_overhead, 1),
        "cwl_cwltool_job_overhead_ms": round(cwltool_overhead, 1),
        # the target: no more than cwltool's own per-step overhead plus 10 ms
        "cwl_job_overhead_over_cwltool_ms": round(platform_overhead - cwltool_overhead, 1),
        "cwl_step_ms_platform": round(platform_step, 1),
        "cwl_step_ms_cwltool": round(cwltool_step, 1),
        "cwl_job_overhead_target": verdict,
    }


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="reana-cwl-bench-") as tmp, \
            isolated_services(Path(tmp)) as (database, broker):
        result = measure(Path(tmp))
    result.update({"cwl_job_overhead_database": database, "cwl_job_overhead_broker": broker})
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
