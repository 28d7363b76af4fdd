"""Snakemake workflows end to end: reana-client 0.9.6 against `make up` (embedded profile).

helloworld's and worldpopulation's ``reana-snakemake.yaml`` run to finished and pass
their ``tests/snakemake`` feature files (``reana-client test``); a restart re-runs only
what Snakemake finds out of date; a multi-rule Snakefile written here (wildcards,
``expand``, a scatter of independent jobs, an HTML report) finishes, and the same
workflow with a failing rule fails with the rule's stderr in the logs; ``run:`` and
``script:`` rules run as jobs (Snakemake itself in the job).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import DEMOS, HELLOWORLD, ROOT, start_platform, stop_platform

WORLDPOPULATION = DEMOS / "reana-demo-worldpopulation"
OUR_CLIENT = ROOT / ".venv" / "bin" / "reana-client"
RUN_SECONDS = 180

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    platform = start_platform(tmp_path_factory.mktemp("snakemake") / "reana-home", "embedded")
    yield platform
    stop_platform(platform)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def copy_demo(demo: Path, tmp_path: Path) -> Path:
    if not demo.exists():
        pytest.skip(f"{demo} is not there")
    copy = tmp_path / demo.name
    shutil.copytree(demo, copy, ignore=shutil.ignore_patterns(".git"))
    return copy


def feature_tests(platform, folder: Path, name: str) -> subprocess.CompletedProcess:
    """Our ``reana-client test`` on the demo's tests/snakemake feature files."""
    features = sorted(str(p.relative_to(folder)) for p in (folder / "tests/snakemake").glob("*"))
    args = [arg for feature in features for arg in ("-n", feature)]
    env = {"PATH": "/usr/bin:/bin", "REANA_SERVER_URL": platform.url,
           "REANA_ACCESS_TOKEN": platform.token}
    return subprocess.run([str(OUR_CLIENT), "test", "-w", name, *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=120)


def run_logs(platform, name: str) -> str:
    """The run's engine logs and its jobs' logs, as ``reana-client logs`` shows them."""
    body = json.loads(platform.api("GET", f"/api/workflows/{name}/logs").json()["logs"])
    return body["workflow_logs"] + "".join(
        job.get("logs") or "" for job in body["job_logs"].values())


def progress_counts(body: dict) -> tuple[int, int, int]:
    progress = body["progress"]
    return (progress["total"]["total"], progress["finished"]["total"],
            progress["failed"]["total"])


def test_helloworld_runs_passes_its_tests_and_restarts_what_is_out_of_date(
        platform, client_python, tmp_path):
    folder = copy_demo(HELLOWORLD, tmp_path)
    name = unique("smkhello")
    platform.client(client_python, "run", "-w", name, "-f", "reana-snakemake.yaml", cwd=folder)
    body = platform.wait_status(name, seconds=RUN_SECONDS)
    assert body["status"] == "finished", platform.client(
        client_python, "logs", "-w", name, cwd=folder).stdout
    assert progress_counts(body) == (1, 1, 0)
    tested = feature_tests(platform, folder, name)  # they check results/greetings.txt too
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "All 7 scenarios passed." in tested.stdout, tested.stdout

    # A new parameter value makes the rule out of date (its params changed): it runs again.
    platform.client(client_python, "restart", "-w", f"{name}.1", "-p", "sleeptime=1",
                    cwd=folder)
    body = platform.wait_status(f"{name}.1.1", seconds=RUN_SECONDS)
    assert body["status"] == "finished", body
    assert progress_counts(body) == (1, 1, 0)
    assert "--sleeptime 1" in run_logs(platform, f"{name}.1.1")
    # Nothing changed since: Snakemake has nothing to do.
    platform.client(client_python, "restart", "-w", f"{name}.1", "-p", "sleeptime=1",
                    cwd=folder)
    body = platform.wait_status(f"{name}.1.2", seconds=RUN_SECONDS)
    assert body["status"] == "finished", body
    assert progress_counts(body) == (0, 0, 0)
    assert "Nothing to be done" in run_logs(platform, f"{name}.1.2")


def _worldpopulation_dependencies() -> str | None:
    """Why worldpopulation cannot run its notebook on this host (None: it can). Jobs find
    papermill where scripts/up.sh puts it: the platform's venv first on PATH."""
    venv_bin = str(Path(sys.executable).parent)
    papermill = shutil.which("papermill", path=os.pathsep.join((venv_bin, os.environ["PATH"])))
    if papermill is None:
        return "papermill is not installed on this host (worldpopulation runs its notebook)"
    interpreter = Path(papermill).read_text(errors="replace").splitlines()[0].removeprefix("#!")
    check = subprocess.run([*interpreter.split(), "-c", "import pandas, matplotlib, ipykernel"],
                           capture_output=True, text=True)
    if check.returncode != 0:
        return f"papermill's Python lacks pandas/matplotlib/ipykernel: {check.stderr[-200:]}"
    return None


def test_worldpopulation_runs_and_passes_its_tests(platform, client_python, tmp_path):
    missing = _worldpopulation_dependencies()
    if missing:
        pytest.skip(missing)
    folder = copy_demo(WORLDPOPULATION, tmp_path)
    name = unique("smkworld")
    platform.client(client_python, "run", "-w", name, "-f", "reana-snakemake.yaml", cwd=folder)
    body = platform.wait_status(name, seconds=RUN_SECONDS * 2)
    assert body["status"] == "finished", platform.client(
        client_python, "logs", "-w", name, cwd=folder).stdout
    assert progress_counts(body) == (1, 1, 0)
    files = platform.client(client_python, "ls", "-w", name, cwd=folder).stdout
    assert "results/plot.png" in files
    tested = feature_tests(platform, folder, name)
    # The plot's checksum depends on the matplotlib version: the one scenario allowed to fail.
    failed = [line for line in tested.stdout.splitlines() if line.endswith(": failed")]
    assert failed in ([], ["Tested The workflow generates the final plot: failed"]), tested.stdout


SNAKEFILE = """\
SAMPLES = config["samples"].split(",")

rule all:
    input: "results/report.txt"

rule count:
    input: "data/{sample}.txt"
    output: "results/counts/{sample}.txt"
    container: "docker://docker.io/library/ubuntu:24.04"
    resources: kubernetes_memory_limit="128Mi"
    shell: "sleep 1; wc -w < {input} > {output}; date +%s.%N >> {output}"

rule total:
    input: expand("results/counts/{sample}.txt", sample=SAMPLES)
    output: "results/total.txt"
    shell: "for f in {input}; do head -1 $f; done | paste -sd+ | bc > {output}"

rule report:
    input: "results/total.txt"
    output: "results/report.txt"
    params: strict=config["strict"]
    log: "logs/report.log"
    shell:
        "if [ {params.strict} = yes ]; then echo 'report: strict mode refuses' >&2; exit 4; fi; "
        "echo words=$(cat {input}) > {output} 2> {log}"
"""

REANA_YAML = """\
version: 0.9.0
inputs:
  files: [Snakefile, data/a.txt, data/b.txt, data/c.txt, data/d.txt]
  parameters:
    input: config.yaml
workflow:
  type: snakemake
  file: Snakefile
outputs:
  files: [results/report.txt]
"""


def _analysis(tmp_path: Path) -> Path:
    folder = tmp_path / "wordcount"
    (folder / "data").mkdir(parents=True)
    (folder / "Snakefile").write_text(SNAKEFILE)
    (folder / "config.yaml").write_text("samples: a,b,c,d\nstrict: 'no'\n")
    (folder / "reana.yaml").write_text(REANA_YAML)
    for index, sample in enumerate("abcd"):
        (folder / "data" / f"{sample}.txt").write_text(" ".join(["word"] * (index + 1)) + "\n")
    return folder


def test_multi_rule_snakefile_with_a_scatter_and_a_report(platform, client_python, tmp_path):
    folder = _analysis(tmp_path)
    name = unique("smkwords")
    platform.client(client_python, "run", "-w", name, "-o", "report=results/run-report.html",
                    cwd=folder)
    body = platform.wait_status(name, seconds=RUN_SECONDS)
    assert body["status"] == "finished", platform.client(
        client_python, "logs", "-w", name, cwd=folder).stdout
    assert progress_counts(body) == (6, 6, 0)  # 4 counts, total, report ("all" runs nowhere)
    out = tmp_path / "out"
    counts = [f"results/counts/{sample}.txt" for sample in "abcd"]
    platform.client(client_python, "download", "-w", name, "results/report.txt",
                    "results/run-report.html", *counts, "-o", str(out), cwd=folder)
    assert (out / "results/report.txt").read_text() == "words=10\n"
    assert "<html" in (out / "results/run-report.html").read_text()[:2000].lower()
    # The four counts are independent jobs that ran at the same time: each slept 1 s before
    # writing when it ended, and they all ended within that second.
    ends = [float((out / count).read_text().split()[1]) for count in counts]
    assert max(ends) - min(ends) < 1.0, ends


def test_a_failing_rule_fails_the_run_with_its_stderr(platform, client_python, tmp_path):
    folder = _analysis(tmp_path)
    name = unique("smkstrict")
    platform.client(client_python, "run", "-w", name, "-p", "strict=yes", cwd=folder)
    body = platform.wait_status(name, seconds=RUN_SECONDS)
    assert body["status"] == "failed", body
    assert progress_counts(body) == (6, 5, 1)
    logs = run_logs(platform, name)
    assert "Error in rule report:" in logs
    assert "report: strict mode refuses" in logs
    assert "Workflow failed: WorkflowError" in logs


def test_target_and_jobs_options_with_the_projects_client(platform, tmp_path):
    """reana-client 0.9.6 accepts only ``report`` for snakemake; ours also TARGET and jobs."""
    folder = _analysis(tmp_path)
    name = unique("smktarget")
    env = {"PATH": "/usr/bin:/bin", "REANA_SERVER_URL": platform.url,
           "REANA_ACCESS_TOKEN": platform.token}
    ran = subprocess.run([str(OUR_CLIENT), "run", "-w", name, "-o", "TARGET=total",
                          "-o", "jobs=2"], cwd=folder, env=env, capture_output=True, text=True,
                         timeout=120)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    body = platform.wait_status(name, seconds=RUN_SECONDS)
    assert body["status"] == "finished", body
    assert progress_counts(body) == (5, 5, 0)  # the 4 counts and total, not the report
    files = platform.api("GET", f"/api/workflows/{name}/workspace").json()["items"]
    names = {item["name"] for item in files}
    assert "results/total.txt" in names and "results/report.txt" not in names


PYTHON_RULES = """\
rule all:
    input: "results/shouted.txt"

rule greet:
    output: "results/greeting.txt"
    run:
        with open(output[0], "w") as stream:
            stream.write(f"hello {config['who']}\\n")

rule shout:
    input: "results/greeting.txt"
    output: "results/shouted.txt"
    script: "scripts/shout.py"
"""


def test_run_and_script_rules_run_as_jobs(platform, client_python, tmp_path):
    """A run: and a script: rule are jobs too: Snakemake itself runs each in its job (the
    jobs see the platform's venv, as the demos' notebook step does)."""
    folder = tmp_path / "python-rules"
    (folder / "scripts").mkdir(parents=True)
    (folder / "Snakefile").write_text(PYTHON_RULES)
    (folder / "scripts/shout.py").write_text(
        "text = open(snakemake.input[0]).read()\n"
        "open(snakemake.output[0], 'w').write(text.upper())\n")
    (folder / "reana.yaml").write_text(
        "version: 0.9.0\ninputs:\n  files: [Snakefile, scripts/shout.py]\n"
        "  parameters: {who: world}\nworkflow:\n  type: snakemake\n  file: Snakefile\n")
    name = unique("smkpython")
    # reana-client 0.9.6's own parameter check reads every rule's shell command and crashes
    # on the others (TypeError, "expected string ... got 'NoneType'"): its users skip it.
    platform.client(client_python, "run", "-w", name, "--skip-validation", cwd=folder)
    body = platform.wait_status(name, seconds=RUN_SECONDS)
    assert body["status"] == "finished", run_logs(platform, name)
    assert progress_counts(body) == (2, 2, 0)
    platform.client(client_python, "download", "-w", name, "results/shouted.txt",
                    "-o", str(tmp_path / "out"), cwd=folder)
    assert (tmp_path / "out/results/shouted.txt").read_text() == "HELLO WORLD\n"
    jobs = json.loads(platform.api("GET", f"/api/workflows/{name}/logs").json()["logs"])
    assert sorted(job["job_name"] for job in jobs["job_logs"].values()) == ["greet", "shout"]
