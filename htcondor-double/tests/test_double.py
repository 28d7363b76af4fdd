"""The HTCondor double through its command-line tools, as a backend (or a user) drives them.

Each module gets a private schedd (its own state folder and socket, 2 CPUs); the
tools run as subprocesses with ``REANA_HTCONDOR_SOCKET`` pointing at it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def schedd(tmp_path_factory):
    state = tmp_path_factory.mktemp("htcondor")
    socket_path = str(state / "schedd.sock")
    package_root = str(Path(__file__).resolve().parents[1])  # also without `make install`
    env = dict(os.environ, REANA_HTCONDOR_SOCKET=socket_path,
               PYTHONPATH=os.pathsep.join(filter(None, [package_root,
                                                        os.environ.get("PYTHONPATH")])))

    def start():
        proc = subprocess.Popen([sys.executable, "-m", "htcondor_double.schedd", "--state",
                                 str(state), "--cpus", "2", "--kill-grace", "1"], env=env)
        deadline = time.monotonic() + 20
        while not os.path.exists(socket_path):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        return proc

    handle = {"proc": start(), "env": env, "state": state, "start": start}
    yield handle
    handle["proc"].terminate()
    handle["proc"].wait(10)


def tool(schedd, name, *args, cwd=None, check=True, stdin=None):
    proc = subprocess.run([sys.executable, "-m", "htcondor_double.cli", name, *args],
                          env=schedd["env"], cwd=cwd, capture_output=True, text=True,
                          input=stdin, timeout=30, check=False)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def submit(schedd, folder: Path, text: str) -> str:
    (folder / "job.sub").write_text(text)
    out = tool(schedd, "condor_submit", "-terse", "job.sub", cwd=folder).stdout
    return out.split(".")[0]


def ads(schedd, name, cluster, *extra):
    out = tool(schedd, name, "-json", *extra, cluster).stdout
    return json.loads(out) if out.strip() else []


def wait_history(schedd, cluster, seconds=30):
    deadline = time.monotonic() + seconds
    while not (found := ads(schedd, "condor_history", cluster)):
        assert time.monotonic() < deadline, ads(schedd, "condor_q", cluster)
        time.sleep(0.1)
    return found[0]


def wait_lines(path: Path, count: int, seconds=30):
    """Wait until the job wrote ``count`` lines (it really runs, not only marked Running)."""
    deadline = time.monotonic() + seconds
    while not path.exists() or len(path.read_text().splitlines()) < count:
        assert time.monotonic() < deadline, path
        time.sleep(0.05)


def wait_status(schedd, cluster, status, seconds=30):
    deadline = time.monotonic() + seconds
    while True:
        found = ads(schedd, "condor_q", cluster) or ads(schedd, "condor_history", cluster)
        if found and found[0]["JobStatus"] == status:
            return found[0]
        assert time.monotonic() < deadline, found
        time.sleep(0.1)


def script(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/bash\n" + body)
    path.chmod(0o755)


@pytest.mark.parametrize(("text", "words"), [
    ("executable = run.sh\nrequest_cpu = 1\nqueue\n", "'request_cpu = 1' is not a submit command"),
    ("executable = run.sh\nuniverse = grid2\nqueue\n", "I don't know about the 'grid2' universe"),
    ("executable = missing.sh\nqueue\n", "Executable file"),
    ("executable = run.sh\n", "no queue statement"),
    ("executable = run.sh\n+MaxRuntime = (3 +\nqueue\n", "Parse error in expression"),
    ("executable = run.sh\nrequest_memory = lots\nqueue\n", "request_memory=lots is invalid"),
    ("executable = run.sh\nshould_transfer_files = MAYBE\nqueue\n", "should_transfer_files"),
    ("executable = run.sh\n+JobFlavour = \"coffeebreak\"\nqueue\n", "JobFlavour"),
    ("universe = container\nexecutable = run.sh\nqueue\n", "container_image"),
])
def test_bad_descriptions_are_refused(schedd, tmp_path, text, words):
    script(tmp_path, "run.sh", "true\n")
    (tmp_path / "job.sub").write_text(text)
    proc = tool(schedd, "condor_submit", "job.sub", cwd=tmp_path, check=False)
    assert proc.returncode == 1
    assert words in proc.stderr
    assert "ERROR" in proc.stderr


def test_job_runs_with_arguments_environment_and_exit_code(schedd, tmp_path):
    script(tmp_path, "run.sh",
           'echo "[$1] [$2] $GREETING $_CONDOR_SCRATCH_DIR"; echo e >&2; exit 3\n')
    cluster = submit(schedd, tmp_path, """\
# a comment
Universe   = vanilla
executable = run.sh
arguments  = "one 'two words'"
environment = "GREETING='hello there'"
output = out.$(ClusterId).txt
error  = err.$(Cluster).txt
should_transfer_files = NO
request_cpus = 1
request_memory = 1 GB
accounting_group = group_u_REANA.batch
+JobFlavour = "espresso"
queue
""")
    ad = wait_history(schedd, cluster)
    assert ad["JobStatus"] == 4 and ad["ExitCode"] == 3 and ad["ExitBySignal"] is False
    assert ad["RequestMemory"] == 1024 and ad["MaxRuntime"] == 1200
    assert ad["AcctGroup"] == "group_u_REANA.batch" and ad["JobFlavour"] == "espresso"
    assert (tmp_path / f"out.{cluster}.txt").read_text() == (
        f"[one] [two words] hello there {tmp_path}\n")
    assert (tmp_path / f"err.{cluster}.txt").read_text() == "e\n"
    assert tool(schedd, "condor_q", "-json", cluster).stdout == ""  # nothing: prints nothing


def test_file_transfer_sends_inputs_and_brings_back_outputs(schedd, tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "in.txt").write_text("3\n1\n")
    script(tmp_path, "run.sh", 'sort -n data/in.txt > sorted.txt; pwd > where.txt\n')
    cluster = submit(schedd, tmp_path, """\
executable = run.sh
should_transfer_files = YES
when_to_transfer_output = ON_EXIT
transfer_input_files = data
transfer_output_files = sorted.txt, where.txt
transfer_output_remaps = "where.txt = results/where-$(Cluster).txt"
output = out.txt
queue 1
""")
    assert wait_history(schedd, cluster)["ExitCode"] == 0
    assert (tmp_path / "sorted.txt").read_text() == "1\n3\n"
    scratch = (tmp_path / "results" / f"where-{cluster}.txt").read_text().strip()
    assert scratch != str(tmp_path) and not Path(scratch).exists()  # its own sandbox, removed


def test_rm_removes_a_running_job(schedd, tmp_path):
    script(tmp_path, "run.sh", "echo $$ > pid; sleep 60\n")
    cluster = submit(schedd, tmp_path, "executable = run.sh\nqueue\n")
    wait_status(schedd, cluster, 2)
    deadline = time.monotonic() + 10
    while not (tmp_path / "pid").exists() or not (tmp_path / "pid").read_text().strip():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    pid = int((tmp_path / "pid").read_text())
    assert "have been marked for removal" in tool(schedd, "condor_rm", cluster).stdout
    ad = wait_history(schedd, cluster)
    assert ad["JobStatus"] == 3
    assert ad["RemoveReason"].startswith("via condor_rm (by user ")
    assert not Path(f"/proc/{pid}").exists()
    again = tool(schedd, "condor_rm", cluster, check=False)
    assert again.returncode == 1 and "Couldn't find/remove" in again.stderr


def test_hold_release_and_eviction(schedd, tmp_path):
    script(tmp_path, "run.sh", "echo start >> starts\n[ $(wc -l < starts) -ge 3 ] || sleep 60\n")
    cluster = submit(schedd, tmp_path, "executable = run.sh\nqueue\n")
    wait_lines(tmp_path / "starts", 1)
    tool(schedd, "condor_hold", "-reason", "maintenance", cluster)
    ad = wait_status(schedd, cluster, 5)
    assert ad["HoldReasonCode"] == 1 and ad["HoldReason"] == "maintenance"
    tool(schedd, "condor_release", cluster)
    wait_lines(tmp_path / "starts", 2)
    tool(schedd, "condor_vacate_job", cluster)  # eviction: back to Idle, then runs again
    ad = wait_history(schedd, cluster)
    assert ad["JobStatus"] == 4 and ad["ExitCode"] == 0
    assert ad["NumJobStarts"] == 3
    assert (tmp_path / "starts").read_text().count("start") == 3


def test_max_runtime_removes_the_job(schedd, tmp_path):
    script(tmp_path, "run.sh", "sleep 30\n")
    cluster = submit(schedd, tmp_path, "executable = run.sh\n+MaxRuntime = 1\nqueue\n")
    ad = wait_history(schedd, cluster)
    assert ad["JobStatus"] == 3
    assert "SYSTEM_PERIODIC_REMOVE" in ad["RemoveReason"] and "MaxRuntime" in ad["RemoveReason"]


def test_memory_over_request_is_held(schedd, tmp_path):
    script(tmp_path, "run.sh", f"exec {sys.executable} -c 'import time; x = bytearray(300 << 20); "
                               "x[::4096] = b\"y\" * len(x[::4096]); time.sleep(30)'\n")
    cluster = submit(schedd, tmp_path, "executable = run.sh\nrequest_memory = 64\nqueue\n")
    ad = wait_status(schedd, cluster, 5)
    assert ad["HoldReasonCode"] == 34
    assert "memory limit of 64 megabytes" in ad["HoldReason"]
    tool(schedd, "condor_rm", cluster)


def test_slots_limit_running_jobs_and_constraints_select(schedd, tmp_path):
    script(tmp_path, "run.sh", "sleep 60\n")
    clusters = [submit(schedd, tmp_path, "executable = run.sh\nrequest_cpus = 1\nqueue\n")
                for _ in range(3)]
    wait_status(schedd, clusters[1], 2)
    time.sleep(0.5)  # a few scheduling periods: the third job must stay Idle
    constraint = " || ".join(f"ClusterId == {c}" for c in clusters)
    found = json.loads(tool(schedd, "condor_q", "-json", "-attributes", "ClusterId,JobStatus",
                            "-constraint", constraint).stdout)
    assert sorted(ad["JobStatus"] for ad in found) == [1, 2, 2]
    assert all(set(ad) == {"ClusterId", "JobStatus"} for ad in found)
    for cluster in clusters:
        tool(schedd, "condor_rm", cluster)


def test_queue_survives_a_schedd_restart(schedd, tmp_path):
    script(tmp_path, "run.sh", "echo run >> runs; sleep 2\n")
    cluster = submit(schedd, tmp_path, "executable = run.sh\nqueue\n")
    wait_lines(tmp_path / "runs", 1)
    schedd["proc"].kill()
    schedd["proc"].wait(10)
    os.unlink(schedd["env"]["REANA_HTCONDOR_SOCKET"])
    schedd["proc"] = schedd["start"]()
    ad = wait_history(schedd, cluster)  # the running job was put back to Idle and ran again
    assert ad["JobStatus"] == 4 and ad["NumJobStarts"] == 2
    assert (tmp_path / "runs").read_text() == "run\nrun\n"
    assert int(submit(schedd, tmp_path, "executable = run.sh\nqueue\n")) > int(cluster)


def test_tools_without_a_schedd_fail_as_htcondor_does(schedd, tmp_path):
    env = dict(schedd["env"], REANA_HTCONDOR_SOCKET=str(tmp_path / "none.sock"))
    proc = subprocess.run([sys.executable, "-m", "htcondor_double.cli", "condor_q"], env=env,
                          capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 1
    assert "Can't find address of local schedd" in proc.stderr
