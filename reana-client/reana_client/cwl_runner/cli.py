"""The ``reana-cwl-runner`` command (cwltest calls ``<runner> --outdir=DIR --quiet tool [job]``)."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

USAGE_EXAMPLE = """\
environment: REANA_SERVER_URL and REANA_ACCESS_TOKEN name the platform and the user.

exit codes: 0 success, 1 failure (permanentFail, bad input), 33 unsupported requirement.

example:
  reana-cwl-runner --outdir out tests/cat1-testcli.cwl tests/cat-job.json
"""


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(
        prog="reana-cwl-runner",
        description="Run a CWL tool or workflow on a REANA platform, as cwltool runs it locally: "
        "the output object is printed on stdout, its files are downloaded into --outdir.",
        epilog=USAGE_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parse.add_argument("--outdir", default=".", help="where the outputs go (default: .)")
    parse.add_argument("--quiet", action="store_true", help="print errors only on stderr")
    parse.add_argument("--basedir", help="folder relative job locations are resolved against "
                       "(default: the job file's folder)")
    parse.add_argument("--workflow-name", default=None,
                       help="name of the run (default: cwl-<tool file name>)")
    parse.add_argument("--timeout", type=float, default=None,
                       help="give up (exit 1) when the run has not ended after this many seconds")
    parse.add_argument("--version", action="version", version="reana-cwl-runner 0.9.6")
    parse.add_argument("tool", help="CWL tool or workflow file (optionally file#process)")
    parse.add_argument("job", nargs="?", help="job (input object) file, YAML or JSON")
    return parse


def run_name(tool: str) -> str:
    stem = Path(tool.partition("#")[0]).name.rsplit(".", 1)[0]
    return "cwl-" + (re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-") or "tool")


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    sys.exit(execute(args))


def execute(args: argparse.Namespace) -> int:
    from reana_client.api.client import APIError, ServerUnreachable
    from reana_client.cwl_runner.documents import RunnerError

    def say(text: str) -> None:
        if not args.quiet:
            print(f"[reana-cwl-runner] {text}", file=sys.stderr, flush=True)

    try:
        return _run(args, say)
    except RunnerError as error:
        print(f"reana-cwl-runner: {error}", file=sys.stderr)
        return error.code
    except ServerUnreachable as error:
        print(f"reana-cwl-runner: cannot reach the platform at "
              f"{os.environ.get('REANA_SERVER_URL')}: {error}", file=sys.stderr)
        return 1
    except APIError as error:
        print(f"reana-cwl-runner: the platform refused: {error}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:  # local files, an unreadable answer
        print(f"reana-cwl-runner: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("reana-cwl-runner: interrupted", file=sys.stderr)
        return 1


def _run(args, say) -> int:
    from reana_client.cwl_runner.documents import RunnerError, prepare
    from reana_client.cwl_runner.platform import UNSUPPORTED_MARKER, Platform, print_output

    server_url = (os.environ.get("REANA_SERVER_URL") or "").strip()
    token = (os.environ.get("REANA_ACCESS_TOKEN") or "").strip()
    if not server_url or not token:
        raise RunnerError("REANA_SERVER_URL and REANA_ACCESS_TOKEN must be set.")
    prepared = prepare(args.tool, args.job, args.basedir)
    platform = Platform(server_url, token, say)
    platform.create(args.workflow_name or run_name(args.tool), prepared,
                    Path(args.tool.partition("#")[0]).name)
    platform.upload(prepared.uploads)
    platform.start()
    status = platform.wait(args.timeout)
    if status == "finished":
        print_output(platform.outputs(Path(args.outdir).resolve()))
        return 0
    logs = platform.logs()
    if not args.quiet or status == "failed":
        sys.stderr.write(logs if logs.endswith("\n") or not logs else logs + "\n")
    if UNSUPPORTED_MARKER in logs:
        print(f"reana-cwl-runner: run {platform.name} uses an unsupported requirement",
              file=sys.stderr)
        return 33
    print(f"reana-cwl-runner: run {platform.name} {status}", file=sys.stderr)
    return 1
