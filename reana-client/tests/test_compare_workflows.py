"""Workflow and workspace commands: our client against reana-client 0.9.6 on the same runs."""

from __future__ import annotations

import json
import re


def assert_same(mine, theirs, args, swap=None):
    """Same exit code, stdout and stderr (``swap`` maps their run name to ours)."""

    def norm(text):
        for old, new in (swap or {}).items():
            text = text.replace(old, new)
        return text

    assert mine.exit_code == theirs.exit_code, (args, mine.output, theirs.output)
    if args and args[0] == "upload":  # REANA uploads in set order; we sort
        mine.stdout = "".join(sorted(mine.stdout.splitlines(True)))
        theirs.stdout = "".join(sorted(theirs.stdout.splitlines(True)))
    assert mine.stdout == norm(theirs.stdout), args
    assert mine.stderr.strip() == norm(theirs.stderr).strip(), args


def test_create_and_workspace_commands(ours, reference, helloworld):
    mine = ours("create", "-w", "hw", cwd=helloworld)
    assert mine.exit_code == 0, mine.output
    [theirs] = reference([["create", "-w", "hw"]], cwd=helloworld)
    assert "hw.1" in mine.stdout and "hw.2" in theirs.stdout
    assert_same(mine, theirs, "create", swap={"hw.2": "hw.1"})

    per_run = [
        ["upload"],
        ["upload", "code/helloworld.py"],
        ["ls"],
        ["ls", "--json"],
        ["ls", "-h"],
        ["ls", "--url"],
        ["ls", "data/*"],
        ["ls", "--filter", "name=names"],
        ["ls", "--format", "name,size"],
        ["du"],
        ["du", "-s"],
        ["du", "-h"],
        ["du", "--filter", "name=data"],
        ["status"],
        ["status", "--json"],
        ["status", "-v"],
        ["status", "--format", "name,status"],
        ["retention-rules-list"],
        ["retention-rules-list", "--json"],
        ["mv", "data/names.txt", "data/people.txt"],
        ["ls", "data"],
        ["rm", "data/*.txt"],
        ["rm", "nothing-here"],
        ["prune"],
        ["start", "-o", "NOPE=1"],
        ["logs", "--filter", "nope=1"],
    ]
    theirs = reference([[*c, "-w", "hw.2"] for c in per_run], cwd=helloworld)
    for args, ref in zip(per_run, theirs, strict=True):
        got = ours(*args, "-w", "hw.1", cwd=helloworld)
        got.stdout, ref.stdout = _mask(got.stdout, "1"), _mask(ref.stdout, "2")
        assert_same(got, ref, args, swap={"hw.2": "hw.1"})

    shared = [
        ["list"],
        ["list", "-v"],
        ["list", "--json"],
        ["list", "--format", "name,run_number,status=created"],
        ["list", "--filter", "name=hw"],
        ["list", "-w", "hw"],
        ["list", "--sort", "run_number"],
        ["list", "--include-progress", "--include-workspace-size", "-h"],
        ["diff", "hw.1", "hw.2"],
        ["diff", "hw.1", "hw.2", "--brief"],
        ["delete", "-w", "hw.2"],
        ["list", "--all"],
        ["list", "--show-deleted-runs", "--json"],
    ]
    theirs = reference(shared[:10], cwd=helloworld)
    for args, ref in zip(shared[:10], theirs, strict=True):
        assert_same(ours(*args, cwd=helloworld), ref, args)
    [deleted] = reference(shared[10:11])
    assert deleted.exit_code == 0, deleted.output
    mine = ours("delete", "-w", "hw.1")
    assert_same(mine, deleted, "delete", swap={"hw.2": "hw.1"})
    theirs = reference(shared[11:], env={"REANA_WORKON": "hw.1"})
    for args, ref in zip(shared[11:], theirs, strict=True):
        assert_same(ours(*args, env={"REANA_WORKON": "hw.1"}), ref, args)


def _mask(text: str, run: str) -> str:
    """Blank what differs between two runs of the same workflow: times, UUIDs, run number."""
    import re

    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", "<time>", text)
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<id>", text)
    text = re.sub(rf"^hw(\s+){run}(\s)", r"hw\g<1><run>\g<2>", text, flags=re.M)
    return text.replace(f'"run_number": "{run}"', '"run_number": "<run>"').replace(
        f"hw.{run}", "hw.<run>"
    )


def test_validate_matches_reana_client(ours, reference, helloworld):
    bad = helloworld / "bad.yaml"
    bad.write_text(
        "workflow:\n  type: serial\n  specification:\n    steps:\n      - commands: [ls]\n"
    )
    unused = helloworld / "unused.yaml"
    spec = (
        (helloworld / "reana.yaml")
        .read_text()
        .replace("sleeptime: 0", "sleeptime: 0\n    extra: 1")
    )
    unused.write_text(spec)
    commands = [
        ["validate"],
        ["validate", "-f", "unused.yaml"],
        ["validate", "--server-capabilities"],
        ["validate", "--pull"],
    ]
    theirs = reference(commands, cwd=helloworld)
    for args, ref in zip(commands, theirs, strict=True):
        assert_same(ours(*args, cwd=helloworld), ref, args)
    mine = ours("validate", "-f", "bad.yaml", cwd=helloworld)
    assert mine.exit_code == 1
    assert "environment" in mine.output and json is not None


SNAKEMAKE_REPORT = re.compile(
    r"^(\[WARNING\] )?Building DAG of jobs\.\.\.\n"
    r"((\[WARNING\] )?Job stats:\n(.*\n)*?total +\d+(\n|$)\n?)?",
    re.M,
)


def test_create_other_engines_stores_what_reana_client_sends(ours, reference, helloworld, platform):
    """cwl, snakemake and yadage runs: same output, and the server stores the same specification."""
    from reana_client.api.client import SpecClient

    client = SpecClient(platform.url)
    for kind in ("cwl", "snakemake", "yadage"):
        spec_file = f"reana-{kind}.yaml"
        commands = [["create", "-w", kind, "-f", spec_file], ["validate", "-f", spec_file]]
        theirs = reference(commands, cwd=helloworld)
        for result in theirs:  # Snakemake's own report of its dry run is not the client's output
            result.stdout = SNAKEMAKE_REPORT.sub("", result.stdout)
            result.stderr = SNAKEMAKE_REPORT.sub("", result.stderr)
        mine = [ours(*args, cwd=helloworld) for args in commands]
        assert theirs[0].exit_code == 0, theirs[0].output
        assert_same(mine[0], theirs[0], kind, swap={f"{kind}.1": f"{kind}.2"})
        assert_same(mine[1], theirs[1], ["validate", kind])
        stored = [
            client.call(
                "get_workflow_specification",
                workflow_id_or_name=f"{kind}.{run}",
                access_token=platform.token,
            )["specification"]
            for run in (1, 2)
        ]
        assert stored[0] == stored[1], kind
        assert stored[0]["workflow"]["type"] == kind
        if kind != "yadage":
            assert stored[0]["workflow"]["specification"], kind
