"""The double's HTCondor command-line tools, with HTCondor's options, output and exit codes.

``condor_submit [-terse] [file|-]``; ``condor_q`` and ``condor_history`` with ``-json``,
``-attributes a,b``, ``-constraint expr``, ``-allusers``, ``-limit n`` (history) and
cluster[.proc] ids (without ids or a constraint ``condor_q`` shows the caller's jobs);
``condor_rm``/``condor_hold [-reason r]``/``condor_release``/``condor_vacate_job`` with ids,
``-constraint`` or ``-all``. ``-json`` prints nothing when nothing matches, as HTCondor
does; expressions print as ``"\\/Expr(...)\\/"``. Exit code 1 and HTCondor's messages on
errors (``ERROR: Can't find address of local schedd`` when the schedd is down).
Standard library only: the tools also run as other users, through SSH, with Debian's python3.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time

from htcondor_double.schedd import default_socket

STATUS_LETTERS = {1: "I", 2: "R", 3: "X", 4: "C", 5: "H", 6: ">", 7: "S"}


def _call(request: dict) -> dict:
    path = default_socket()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(60)
            conn.connect(path)
            conn.sendall(json.dumps(request).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError:
        print("ERROR: Can't find address of local schedd", file=sys.stderr)
        raise SystemExit(1) from None
    answer = json.loads(data)
    if "error" in answer:
        print("\n" + answer["error"], file=sys.stderr)
        raise SystemExit(1)
    return answer


def _options(argv: list[str], flags: set[str], valued: set[str]):
    """HTCondor-style options (single dash, unambiguous prefixes not supported)."""
    found, rest, i = {}, [], 0
    while i < len(argv):
        arg = argv[i]
        name = arg.lstrip("-").lower()
        if arg.startswith("-") and arg != "-" and name in flags:
            found[name] = True
        elif arg.startswith("-") and arg != "-" and name in valued:
            if i + 1 >= len(argv):
                print(f"ERROR: {arg} requires another argument", file=sys.stderr)
                raise SystemExit(1)
            found[name] = argv[i + 1]
            i += 1
        elif arg.startswith("-") and arg != "-":
            print(f"ERROR: unknown option {arg}", file=sys.stderr)
            raise SystemExit(1)
        else:
            rest.append(arg)
        i += 1
    return found, rest


def _json_value(value):
    if isinstance(value, dict) and "Expr" in value:
        return f"/Expr({value['Expr']})/"
    return value


def _print_ads(ads: list[dict], attributes: str | None, as_json: bool) -> None:
    if attributes:
        wanted = [name.strip() for name in attributes.split(",") if name.strip()]
        ads = [{name: ad[name] for name in wanted if name in ad} for ad in ads]
    if as_json:
        if ads:
            text = json.dumps([{k: _json_value(v) for k, v in sorted(ad.items())}
                               for ad in ads], indent=2)
            print(text.replace('"/Expr(', '"\\/Expr(').replace(')/"', ')\\/"'))
        return
    print(" ID        OWNER          SUBMITTED     RUN_TIME ST PRI SIZE CMD")
    for ad in ads:
        submitted = time.strftime("%m/%d %H:%M", time.localtime(ad.get("QDate", 0)))
        print(f"{ad.get('ClusterId')}.{ad.get('ProcId')}".ljust(10),
              str(ad.get("Owner", "")).ljust(14), submitted.ljust(13),
              "0+00:00:00", STATUS_LETTERS.get(ad.get("JobStatus"), "?"),
              str(ad.get("JobPrio", 0)).rjust(3), "0.0", ad.get("Cmd", ""))


def condor_submit(argv=None) -> int:
    options, rest = _options(sys.argv[1:] if argv is None else argv, {"terse", "verbose"},
                             {"file", "batch-name"})
    source = options.get("file") or (rest[0] if rest else "-")
    if source == "-":
        text = sys.stdin.read()
    else:
        try:
            with open(source) as handle:
                text = handle.read()
        except OSError as error:
            print(f"ERROR: Failed to open command file ({error.strerror})", file=sys.stderr)
            return 1
    if options.get("batch-name"):
        text = f"batch_name = {options['batch-name']}\n" + text
    if not options.get("terse"):
        print("Submitting job(s).")
    answer = _call({"op": "submit", "text": text, "cwd": os.getcwd(), "env": dict(os.environ)})
    cluster, count = answer["cluster"], answer["count"]
    if options.get("terse"):
        print(f"{cluster}.0 - {cluster}.{count - 1}")
    else:
        print(f"{count} job(s) submitted to cluster {cluster}.")
    return 0


def _query(op: str, argv) -> int:
    options, ids = _options(sys.argv[1:] if argv is None else argv,
                            {"json", "allusers", "nobatch", "long"},
                            {"attributes", "af", "constraint", "limit", "match"})
    request = {"op": op, "ids": ids, "constraint": options.get("constraint", ""),
               "allusers": bool(options.get("allusers"))}
    limit = options.get("limit") or options.get("match")
    if limit:
        request["limit"] = int(limit)
    _print_ads(_call(request)["ads"], options.get("attributes") or options.get("af"),
               bool(options.get("json")))
    return 0


def condor_q(argv=None) -> int:
    return _query("q", argv)


def condor_history(argv=None) -> int:
    return _query("history", argv)


def _act(op: str, verb: str, argv) -> int:
    options, ids = _options(sys.argv[1:] if argv is None else argv, {"all"},
                            {"constraint", "reason"})
    if not ids and not options.get("constraint") and not options.get("all"):
        print(f"ERROR: no job to {op} (give cluster[.proc] ids, -constraint or -all)",
              file=sys.stderr)
        return 1
    constraint = options.get("constraint", "")
    if options.get("all") and not constraint:
        constraint = "ClusterId > 0"
    answer = _call({"op": op, "ids": ids, "constraint": constraint,
                    "reason": options.get("reason", "")})
    results, failed = answer["results"], False
    for item in ids:
        cluster, _, proc = item.partition(".")
        mine = [r for r in results if r[0] == int(cluster) and (not proc or r[1] == int(proc))]
        if mine and all(done for _, _, done in mine):
            print(f"Job {item} {verb}" if proc else f"All jobs in cluster {item} have been {verb}")
        else:
            failed = True
            what = f"job {item}" if proc else f"all jobs in cluster {item}"
            print(f"Couldn't find/{op} {what}", file=sys.stderr)
    if constraint:
        if results and all(done for _, _, done in results):
            print(f"All jobs matching constraint ({constraint}) have been {verb}")
        else:
            failed = True
            print(f"Couldn't find/{op} all jobs matching constraint ({constraint})",
                  file=sys.stderr)
    return 1 if failed else 0


def condor_rm(argv=None) -> int:
    return _act("remove", "marked for removal", argv)


def condor_hold(argv=None) -> int:
    return _act("hold", "held", argv)


def condor_release(argv=None) -> int:
    return _act("release", "released", argv)


def condor_vacate_job(argv=None) -> int:
    return _act("vacate", "vacated", argv)


TOOLS = {"condor_submit": condor_submit, "condor_q": condor_q,
         "condor_history": condor_history, "condor_rm": condor_rm, "condor_hold": condor_hold,
         "condor_release": condor_release, "condor_vacate_job": condor_vacate_job}


if __name__ == "__main__":  # python3 -m htcondor_double.cli <tool> [args]
    raise SystemExit(TOOLS[sys.argv[1]](sys.argv[2:]))
