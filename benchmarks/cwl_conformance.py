"""``cwl_conformance_passed``: CWL v1.2 conformance tests passed through reana-cwl-runner.

Read from ``benchmarks/results/cwl-conformance.json``, the result of the last
``make cwl-conformance`` (stock cwltest over the 378 tests on a platform of its
own, 10-60 min on 2 cores, so not re-run here), with its commit and date, next to
the target (362, what ``cwltool --no-container`` passes) and, when
``make cwl-conformance-cwltool`` was run, cwltool's own count on this machine.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
TARGET = 362


def read(name: str) -> dict | None:
    try:
        return json.loads((RESULTS / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def main() -> int:
    runner, cwltool = read("cwl-conformance.json"), read("cwl-conformance-cwltool.json")
    if runner is None:
        print("[cwl-conformance] no benchmarks/results/cwl-conformance.json: run "
              "`make cwl-conformance` first", file=sys.stderr)
        print(json.dumps({"cwl_conformance_passed": None, "cwl_conformance_target": TARGET,
                          "cwl_conformance_verdict": "not measured"}))
        return 0
    complete = runner.get("total") == 378
    met = (complete and runner["passed"] >= TARGET and not runner["failed_required_tests"])
    result = {
        "cwl_conformance_passed": runner["passed"],
        "cwl_conformance_total": runner["total"],
        "cwl_conformance_target": TARGET,
        "cwl_conformance_required": f"{runner['required_passed']}/{runner['required_total']}",
        "cwl_conformance_unsupported": runner["unsupported"],
        "cwl_conformance_commit": runner.get("commit"),
        "cwl_conformance_date": runner.get("date"),
        "cwl_conformance_verdict": "met" if met else ("missed" if complete else "partial run"),
    }
    if cwltool is not None:
        result["cwl_conformance_cwltool_passed"] = cwltool["passed"]
        result["cwl_conformance_cwltool_total"] = cwltool["total"]
    print(f"[cwl-conformance] reana-cwl-runner passed {runner['passed']}/{runner['total']} "
          f"(required {result['cwl_conformance_required']}) at {runner.get('commit')} on "
          f"{runner.get('date')}; target {TARGET} and every required test: "
          f"{result['cwl_conformance_verdict']}"
          + (f"; cwltool --no-container: {cwltool['passed']}/{cwltool['total']}"
             if cwltool else ""), file=sys.stderr)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
