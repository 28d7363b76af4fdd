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


def test_config_file_parameters_and_targets(platform):
    """``input`` names the config file; -p parameters override its keys, single letters too."""
    platform.write("Snakefile", """\
        rule all:
            input: "out/greeting.txt", "out/other.txt"

        rule greet:
            output: "out/greeting.txt"
            shell: "echo {config[greeting]} {config[x]} > {output}"

        rule other:
            output: "out/other.txt"
            shell: "echo other > {output}"
        """)
    platform.write("config/inputs.yaml", "greeting: hello\nx: from-file\n")
    code, err, messages = platform.run_engine(
        parameters={"input": "config/inputs.yaml", "x": "overridden"},
        options={"targets": "out/greeting.txt"})
    assert code == 0, err
    assert (platform.workspace / "out/greeting.txt").read_text() == "hello overridden\n"
    assert not (platform.workspace / "out/other.txt").exists()
    assert len(platform.job_ids(messages, "finished")) == 1

    code, err, messages = platform.run_engine(
        parameters={"input": "config/inputs.yaml"}, options={"TARGET": "other"})
    assert code == 0, err
    assert (platform.workspace / "out/other.txt").read_text() == "other\n"
    assert (platform.workspace / "out/greeting.txt").read_text() == "hello overridden\n"


def test_restart_runs_only_what_is_out_of_date_and_writes_the_report(platform):
    _prepare(platform)
    code, err, _messages = platform.run_engine(parameters={"greeting": "hi"})
    assert code == 0, err
    platform.write("data/b.txt", "changed b\n")
    code, err, messages = platform.run_engine(parameters={"greeting": "hi"},
                                              options={"report": "reports/run.html"})
    assert code == 0, err
    assert (platform.workspace / "results/summary.txt").read_text() == \
        "hi\nSAMPLE A\nCHANGED B\nSAMPLE C\n"
    totals = [t for t in (platform.progress_of(m, "total") for m in messages) if t]
    assert totals[-1]["total"] == 2  # shout for b, then summary
    jobs = platform.jobs()
    assert sorted(jobs[j]["job_name"] for j in platform.job_ids(messages, "finished")) == \
        ["shout", "summary"]
    report = (platform.workspace / "reports/run.html").read_text()
    assert report.lstrip().lower().startswith("<!doctype html") and "summary" in report
    assert "Snakemake report written to reports/run.html" in platform.logs(messages)


def test_jobs_option_bounds_the_jobs_running_at_once(platform):
    platform.write("Snakefile", """\
        rule all:
            input: expand("t/{i}.txt", i=range(4))

        rule nap:
            output: "t/{i}.txt"
            shell: "date +%s.%N > {output}; sleep 0.6; date +%s.%N >> {output}"
        """)
    code, err, _messages = platform.run_engine(options={"jobs": "2"})
    assert code == 0, err
    spans = [tuple(map(float, (platform.workspace / f"t/{i}.txt").read_text().split()))
             for i in range(4)]
    overlapping = max(sum(1 for start, end in spans if start <= moment < end)
                      for moment, _ in spans)
    assert overlapping == 2


def test_a_group_of_rules_runs_as_one_job(platform):
    platform.write("Snakefile", """\
        rule all:
            input: "g/b.txt"

        rule ga:
            output: "g/a.txt"
            group: "pair"
            shell: "echo a > {output}"

        rule gb:
            input: "g/a.txt"
            output: "g/b.txt"
            group: "pair"
            shell: "cat {input} > {output}; echo b >> {output}"
        """)
    code, err, messages = platform.run_engine()
    assert code == 0, err
    assert (platform.workspace / "g/b.txt").read_text() == "a\nb\n"
    (job_id,) = platform.job_ids(messages, "finished")
    job = platform.jobs()[job_id]
    assert job["job_name"].startswith("pair")
    assert job["cmd"].endswith("&& ( echo a > g/a.txt ) && ( cat g/a.txt > g/b.txt; echo b >> "
                               "g/b.txt )")
    totals = [t["total"] for t in (platform.progress_of(m, "total") for m in messages) if t]
    assert totals[-1] == 1


def test_workflow_resources_reach_every_job(platform):
    """workflow.resources of reana.yaml, as REANA's engines get them from the run manager
    (REANA_MOUNT_CVMFS, REANA_WORKFLOW_KERBEROS): every job gets them."""
    _prepare(platform)
    code, err, messages = platform.run_engine(
        parameters={"greeting": "hi"},
        env={"REANA_MOUNT_CVMFS": "['atlas.cern.ch']", "REANA_WORKFLOW_KERBEROS": "True"})
    assert code == 0, err
    jobs = platform.jobs()
    assert len(jobs) == 4
    assert {job["cvmfs_mounts"] for job in jobs.values()} == {"['atlas.cern.ch']"}


def test_run_and_script_rules_run_as_snakemake_jobs(snakemake_in_jobs, platform):
    """A rule without a shell command is Snakemake's own remote job (python -m snakemake
    --target-jobs ...) through the job controller, with the run's config (single-letter
    keys too) and the job's log lines."""
    platform.write("Snakefile", """\
        rule all:
            input: "out/b.txt"

        rule first:
            output: "out/a.txt"
            run:
                print("python block of", rule)
                with open(output[0], "w") as stream:
                    stream.write(config["x"] + " " + config["greeting"] + "\\n")

        rule second:
            input: "out/a.txt"
            output: "out/b.txt"
            script: "scripts/upper.py"
        """)
    platform.write("scripts/upper.py", """\
        text = open(snakemake.input[0]).read()
        open(snakemake.output[0], "w").write(text.upper())
        """)
    code, err, messages = platform.run_engine(parameters={"x": "ex", "greeting": "hello"},
                                              timeout=240)
    assert code == 0, err + platform.logs(messages)
    assert (platform.workspace / "out/b.txt").read_text() == "EX HELLO\n"
    jobs = platform.jobs()
    assert sorted(job["job_name"] for job in jobs.values()) == ["first", "second"]
    assert all(job["status"] == "finished" for job in jobs.values())
    totals = [t for t in (platform.progress_of(m, "total") for m in messages) if t]
    assert totals[-1]["total"] == 2
    assert sorted(platform.job_ids(messages, "finished")) == sorted(jobs)
