"""The Snakemake engine against a real job controller process and real messaging."""

from __future__ import annotations

SNAKEFILE = """\
SAMPLES = ["a", "b", "c"]

rule all:
    input: "results/summary.txt"

rule shout:
    input: "data/{sample}.txt"
    output: "results/upper/{sample}.txt"
    container: "docker://docker.io/library/bash:5.2"
    resources:
        kubernetes_memory_limit="256Mi"
    threads: 2
    shell: "tr a-z A-Z < {input} > {output}"

rule summary:
    input: expand("results/upper/{sample}.txt", sample=SAMPLES)
    output: "results/summary.txt"
    params: greeting=config["greeting"]
    log: "logs/summary.log"
    shell: "(echo {params.greeting}; cat {input}) > {output} 2> {log}"
"""


def _prepare(platform):
    platform.write("Snakefile", SNAKEFILE)
    for sample in "abc":
        platform.write(f"data/{sample}.txt", f"sample {sample}\n")


def test_runs_every_rule_through_the_job_controller(platform):
    _prepare(platform)
    code, err, messages = platform.run_engine(parameters={"greeting": "hi"})
    assert code == 0, err
    summary = (platform.workspace / "results/summary.txt").read_text()
    assert summary == "hi\nSAMPLE A\nSAMPLE B\nSAMPLE C\n"
    assert [m["status"] for m in messages][0] == 1 and messages[-1]["status"] == 2
    assert [m["seq"] for m in messages] == list(range(1, len(messages) + 1))
    totals = [t for t in (platform.progress_of(m, "total") for m in messages) if t]
    assert totals[-1] == {"total": 4, "job_ids": []}  # 3 shout + 1 summary; "all" runs nowhere
    running = platform.job_ids(messages, "running")
    assert sorted(running) == sorted(platform.job_ids(messages, "finished"))
    jobs = platform.jobs()
    assert sorted(jobs[j]["job_name"] for j in running) == ["shout", "shout", "shout", "summary"]
    shout = next(jobs[j] for j in running if jobs[j]["job_name"] == "shout")
    assert shout["docker_img"] == "docker.io/library/bash:5.2"
    assert shout["cmd"].startswith(f"cd {platform.workspace} && tr a-z A-Z < data/")
    logs = platform.logs(messages)
    assert "| snakemake.logging | MainThread | INFO | Building DAG of jobs..." in logs
    assert "| snakemake.logging | MainThread | INFO | 5 of 5 steps (100%) done" in logs
