"""``make cwl-conformance``: the CWL v1.2 conformance suite through reana-cwl-runner.

Starts a platform of its own (``scripts/up.sh`` with a fresh REANA_HOME and free
ports, so a user's ``make up`` is not touched), runs the stock ``cwltest`` over
``conformance_tests.yaml`` with ``--tool reana-cwl-runner``, stops the platform
and writes the result (counts, failing tests, required ones, commit, date) to
``benchmarks/results/cwl-conformance.json``, which ``make bench`` reads.

``--tool cwltool`` runs the same cwltest invocation with ``cwltool --no-container``
(no platform) and writes ``cwl-conformance-cwltool.json``: the reference count
on this machine. Exit code 0 when the target holds (at least ``--target`` passed
and every ``required`` test passed), 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SHARED = Path(os.environ.get("REANA_SHARED", ROOT.parent / "shared"))
SUITE = Path(os.environ.get("CWL_CONFORMANCE_SUITE", SHARED / "reference" / "cwl-v1.2"))
RESULTS = ROOT / "benchmarks" / "results"
TARGET = 362


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def commit() -> str:
    def git(*args):
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True,
                              text=True).stdout.strip()

    head = git("rev-parse", "--short=12", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return head + ("-dirty" if dirty else "")


def start_platform(home: Path) -> dict:
    """``scripts/up.sh`` on the embedded profile in ``home``; the runner's environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REANA_", "RABBIT_MQ"))}
    env.update({"REANA_HOME": str(home), "REANA_SERVER_PORT": str(free_port()),
                "REANA_WORKFLOW_CONTROLLER_PORT": str(free_port())})
    result = subprocess.run([str(ROOT / "scripts/up.sh")], env=env, capture_output=True,
                            text=True, timeout=600)
    if result.returncode != 0:
        stop_platform(env)
        raise SystemExit(f"The platform did not start:\n{result.stdout}\n{result.stderr}")
    for line in (home / "env").read_text().splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = value
    return env


def stop_platform(env: dict) -> None:
    subprocess.run([str(ROOT / "scripts/down.sh")], env=env, capture_output=True, timeout=300)


def run_cwltest(tool: str, env: dict, jobs: int, timeout: int, junit: Path,
                only: str | None) -> int:
    command = [str(BIN / "cwltest"), "--test", "conformance_tests.yaml", "--tool", tool,
               "-j", str(jobs), "--timeout", str(timeout), "--junit-xml", str(junit)]
    if only:
        command += ["-n", only]
    if tool == "cwltool":
        command += ["--", "--no-container"]
    print("$ " + " ".join(command), file=sys.stderr, flush=True)
    return subprocess.run(command, cwd=SUITE, env=env).returncode


def summarise(junit: Path) -> dict:
    """Counts and test ids from cwltest's junit report (ids and tags are in its attributes)."""
    passed, failed, unsupported, failed_required, required = [], [], [], [], []
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = case.get("file") or case.get("name")
        tags = [t.strip() for t in (case.get("class") or "required").split(",")]
        if "required" in tags:
            required.append(name)
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(name)
            if "required" in tags:
                failed_required.append(name)
        elif case.find("skipped") is not None:
            unsupported.append(name)
        else:
            passed.append(name)
    return {
        "total": len(passed) + len(failed) + len(unsupported),
        "passed": len(passed), "failed": len(failed), "unsupported": len(unsupported),
        "required_total": len(required),
        "required_passed": len(required) - len(failed_required),
        "failed_tests": sorted(failed), "failed_required_tests": sorted(failed_required),
        "unsupported_tests": sorted(unsupported),
    }


def main(argv=None) -> int:
    parse = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parse.add_argument("--tool", choices=("reana-cwl-runner", "cwltool"),
                       default="reana-cwl-runner")
    parse.add_argument("-j", "--jobs", type=int, default=4,
                       help="tests run at once (default 4: runs mostly wait on the platform)")
    parse.add_argument("--timeout", type=int, default=600, help="seconds per test")
    parse.add_argument("-n", dest="only", help="cwltest -n: only these test numbers (1-5,9)")
    parse.add_argument("--output", type=Path, help="result file (default: "
                       "benchmarks/results/cwl-conformance[-cwltool].json)")
    parse.add_argument("--target", type=int, default=TARGET)
    args = parse.parse_args(argv)
    if not (SUITE / "conformance_tests.yaml").is_file():
        print(f"No CWL conformance suite at {SUITE} (set CWL_CONFORMANCE_SUITE).", file=sys.stderr)
        return 2
    suffix = "" if args.tool == "reana-cwl-runner" else "-cwltool"
    output = args.output or RESULTS / f"cwl-conformance{suffix}.json"
    scratch = Path(tempfile.mkdtemp(prefix="reana-cwl-conformance-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REANA_", "RABBIT_MQ"))}
    started, load_before, tested_commit = time.monotonic(), os.getloadavg()[0], commit()
    platform = None
    try:
        if args.tool == "reana-cwl-runner":
            platform = start_platform(scratch / "reana-home")
            env = dict(platform)
        (scratch / "tmp").mkdir()
        env.update({"PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
                    "TMPDIR": str(scratch / "tmp")})
        run_cwltest(args.tool, env, args.jobs, args.timeout, scratch / "junit.xml", args.only)
        if not (scratch / "junit.xml").is_file():
            print("cwltest wrote no report.", file=sys.stderr)
            return 1
        result = summarise(scratch / "junit.xml")
    finally:
        if platform is not None:
            stop_platform(platform)
        shutil.rmtree(scratch, ignore_errors=True)
    result.update({
        "tool": args.tool if args.tool != "cwltool" else "cwltool --no-container",
        "target": args.target, "commit": tested_commit,
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_s": round(time.monotonic() - started),
        "cwltest": f"-j {args.jobs} --timeout {args.timeout}" + (f" -n {args.only}"
                                                                 if args.only else ""),
        "suite": str(SUITE), "load_average": [round(load_before, 1),
                                              round(os.getloadavg()[0], 1)],
    })
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    met = result["passed"] >= args.target and not result["failed_required_tests"]
    print(f"{result['tool']}: {result['passed']}/{result['total']} passed, "
          f"{result['failed']} failed, {result['unsupported']} unsupported; required "
          f"{result['required_passed']}/{result['required_total']}; target {args.target}: "
          f"{'met' if met else 'NOT met'} -> {output}")
    for name in result["failed_tests"]:
        print(f"  failed: {name}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
