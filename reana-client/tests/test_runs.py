"""Commands that need real runs, on the whole platform (``make up``), against reana-client 0.9.6."""

from __future__ import annotations

import re
import time

import pytest

from .conftest import HELLOWORLD, invoke_ours, invoke_reference

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hello_dir(tmp_path_factory):
    import shutil

    if not HELLOWORLD.exists():
        pytest.skip(f"helloworld demo not found at {HELLOWORLD}")
    target = tmp_path_factory.mktemp("runs") / "helloworld"
    shutil.copytree(HELLOWORLD, target)
    return target


def wait_for(platform, workflow, statuses=("finished", "failed", "stopped"), timeout=180):
    """Poll the run's status until it is one of ``statuses``."""
    from reana_client.api.client import SpecClient

    client = SpecClient(platform.url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.call(
            "get_workflow_status", workflow_id_or_name=workflow, access_token=platform.token
        )["status"]
        if status in statuses:
            return status
        time.sleep(0.5)
    raise AssertionError(f"{workflow} still {status} after {timeout} s")


STATUS_AFTER_START = re.compile(r"(has been queued|is pending|is running|has finished)$", re.M)


def same(mine, theirs, what, swap=()):
    def norm(text):
        text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", "<time>", text)
        text = STATUS_AFTER_START.sub("<status after start>", text)
        for old, new in swap:
            text = text.replace(old, new)
        return text

    assert mine.exit_code == theirs.exit_code, (what, mine.output, theirs.output)
    assert norm(mine.stdout) == norm(theirs.stdout), what
    assert norm(mine.stderr).strip() == norm(theirs.stderr).strip(), what


def test_runs_commands_match_reana_client(platform, reference_python, hello_dir):
    def ours(*args, **kw):
        return invoke_ours(platform, *args, cwd=hello_dir, **kw)

    def reference(commands, **kw):
        return invoke_reference(reference_python, platform, commands, cwd=hello_dir, **kw)

    mine = ours("run", "-w", "rn", "--follow")
    assert mine.exit_code == 0, mine.output
    assert "rn.1 has finished" in mine.stdout
    assert re.search(r"^rn\.1 (running|finished): \d/1 steps finished", mine.stdout, re.M)
    listing = mine.stdout.split("==> Listing workflow output files...\n")[1]
    assert f"{platform.url}/api/workflows/rn.1/workspace/results/greetings.txt" in listing
    [theirs] = reference([["run", "-w", "rn"]])
    assert theirs.exit_code == 0, theirs.output
    follow_lines = re.compile(
        r"^(rn\.1 \w+: .*steps finished.*|==> SUCCESS: rn\.1 has finished"
        r"|==> Listing workflow output files...|http://.*/workspace/.*)$"
    )
    mine_lines = sorted(
        STATUS_AFTER_START.sub("<status>", line)
        for line in mine.stdout.splitlines()
        if not follow_lines.match(line)
    )
    theirs_lines = theirs.stdout.replace("rn.2", "rn.1").splitlines()
    assert mine_lines == sorted(STATUS_AFTER_START.sub("<status>", x) for x in theirs_lines)
    assert wait_for(platform, "rn.2") == "finished"

    read_only = [
        ["status", "-w", "rn.1"],
        ["status", "-w", "rn.1", "-v"],
        ["status", "-w", "rn.1", "--json"],
        ["logs", "-w", "rn.1"],
        ["logs", "-w", "rn.1", "--json"],
        ["logs", "-w", "rn.1", "--filter", "status=finished"],
        ["logs", "-w", "rn.1", "--filter", "step=nope"],
        ["ls", "-w", "rn.1"],
        ["ls", "-w", "rn.1", "--url"],
        ["du", "-w", "rn.1", "-s", "-h"],
        ["download", "-w", "rn.1", "-o", "-"],
        ["download", "-w", "rn.1", "results", "-o", "-"],
        ["download", "-w", "rn.1", "nope.txt"],
        ["list", "-v"],
        ["list", "--include-progress", "--include-duration", "--format", "name,progress"],
        ["diff", "rn.1", "rn.2", "--brief"],
        ["retention-rules-list", "-w", "rn.1"],
        ["open", "-w", "rn.1"],
        ["close", "-w", "rn.1"],
    ]
    theirs = reference(read_only)
    for args, ref in zip(read_only, theirs, strict=True):
        same(ours(*args), ref, args)

    restart = ours("restart", "-w", "rn.1")
    [ref_restart] = reference([["restart", "-w", "rn.2"]])
    same(restart, ref_restart, "restart", swap=[("rn.2.1", "rn.1.1")])
    assert STATUS_AFTER_START.search(restart.stdout.strip()) and "rn.1.1" in restart.stdout
    assert wait_for(platform, "rn.1.1") == "finished"
    assert wait_for(platform, "rn.2.1") == "finished"

    out = hello_dir / "downloaded"
    download = ours("download", "-w", "rn.1", "-o", str(out))
    assert download.exit_code == 0, download.output
    assert (out / "results" / "greetings.txt").read_text().startswith("Hello Jane Doe!")

    deleted = ours("delete", "-w", "rn", "--include-all-runs")
    [ref_deleted] = reference([["delete", "-w", "rn", "--include-all-runs"]])
    same(deleted, ref_deleted, "delete --include-all-runs")
    assert "All workflows named 'rn' have been deleted." in deleted.stdout


def test_stop_a_running_workflow(platform, reference_python, hello_dir):
    def ours(*args, **kw):
        return invoke_ours(platform, *args, cwd=hello_dir, **kw)

    for _ in range(2):
        created = ours("run", "-w", "slow", "-p", "sleeptime=30")
        assert created.exit_code == 0, created.output
    for name in ("slow.1", "slow.2"):
        wait_for(platform, name, statuses=("running",), timeout=120)
    mine = ours("stop", "-w", "slow.1", "--force")
    [theirs] = invoke_reference(
        reference_python, platform, [["stop", "-w", "slow.2", "--force"]], cwd=hello_dir
    )
    same(mine, theirs, "stop", swap=[("slow.2", "slow.1")])
    assert "slow.1 has been stopped" in mine.stdout
    assert wait_for(platform, "slow.1") == "stopped"
    refused = ours("stop", "-w", "slow.1")
    assert refused.exit_code == 1 and "Graceful stop not implement yet" in refused.output


def test_follow_exit_status_of_a_failing_run(platform, hello_dir):
    spec = (
        (hello_dir / "reana.yaml")
        .read_text()
        .replace('python "${helloworld}"', 'python "${helloworld}" --no-such-flag')
    )
    (hello_dir / "failing.yaml").write_text(spec)
    result = invoke_ours(
        platform, "run", "-f", "failing.yaml", "-w", "broken", "--follow", cwd=hello_dir
    )
    assert result.exit_code == 1, result.output
    assert "broken.1 has failed" in result.stderr


def test_gherkin_tests_of_a_finished_run(platform, hello_dir):
    def ours(*args, **kw):
        return invoke_ours(platform, *args, cwd=hello_dir, **kw)

    assert ours("run", "-w", "tested", "--follow").exit_code == 0
    passed = ours("test", "-w", "tested")
    assert passed.exit_code == 0, passed.output
    assert passed.stdout.count(": passed") == 6
    assert "All 6 scenarios passed." in passed.stdout

    feature = hello_dir / "tests" / "serial" / "workspace-files.feature"
    feature.write_text(feature.read_text().replace("Hello Joe Bloggs!", "Hello Nobody!"))
    failed = ours("test", "-w", "tested", "-n", str(feature.relative_to(hello_dir)))
    assert failed.exit_code == 1
    assert "Tested The people are correctly greeted: failed" in failed.stdout
    assert 'And the file "results/greetings.txt" should contain "Hello Nobody!"' in failed.stdout
    assert "does not contain 'Hello Nobody!'" in failed.stdout
    assert "1 of 4 scenarios failed." in failed.stderr

    not_finished = ours("test", "-w", "nosuchrun")
    assert not_finished.exit_code == 1
    assert "Could not find workflow ``nosuchrun``." in not_finished.stderr


def test_start_matches_reana_client(platform, reference_python, hello_dir):
    """``start`` on created runs (parameters, unknown parameters, a finished run) as 0.9.6."""

    def ours(*args, **kw):
        return invoke_ours(platform, *args, cwd=hello_dir, **kw)

    def reference(commands, **kw):
        return invoke_reference(reference_python, platform, commands, cwd=hello_dir, **kw)

    prepared = reference([["create", "-w", "st"], ["upload", "-w", "st.1"]])
    assert all(result.exit_code == 0 for result in prepared), prepared
    for args in (["create", "-w", "st"], ["upload", "-w", "st.2"]):
        assert ours(*args).exit_code == 0
    first = [["start", "-w", "st.1", "-p", "sleeptime=0", "-p", "nope=1"]]
    [theirs] = reference(first)
    mine = ours("start", "-w", "st.2", "-p", "sleeptime=0", "-p", "nope=1")
    same(mine, theirs, "start", swap=[("st.1", "st.2")])
    assert wait_for(platform, "st.1") == wait_for(platform, "st.2") == "finished"
    again = [["start", "-w", "st.1"], ["start", "-w", "st.1", "-o", "FROM=nope"]]
    theirs = reference(again)
    for args, ref in zip(again, theirs, strict=True):
        args = [arg.replace("st.1", "st.2") for arg in args]
        same(ours(*args), ref, args, swap=[("st.1", "st.2")])
