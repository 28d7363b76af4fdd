"""Bad input and failing jobs end the run failed, with Snakemake's words and the job's stderr."""

from __future__ import annotations


def _end(messages: list[dict]) -> dict:
    ends = [m for m in messages if m["status"] in (2, 3)]
    assert len(ends) == 1, ends
    assert ends[0] is messages[-1]
    return ends[0]


def test_a_failing_rule_fails_the_run_with_its_stderr(platform):
    platform.write("Snakefile", """\
        rule all:
            input: "ok.txt", "bad.txt"

        rule ok:
            output: "ok.txt"
            shell: "echo fine > {output}"

        rule bad:
            output: "bad.txt"
            shell: "echo 'something went wrong' >&2; exit 3"
        """)
    code, err, messages = platform.run_engine()
    assert code == 1, err
    end = _end(messages)
    assert end["status"] == 3
    failed = platform.job_ids(messages, "failed")
    assert len(failed) == 1 and platform.jobs()[failed[0]]["job_name"] == "bad"
    logs = platform.logs(messages)
    assert "| snakemake.logging |" in logs and "Error in rule bad:" in logs
    assert f"Rule bad: job {failed[0]} failed with exit code 3." in logs
    assert "something went wrong" in logs
    reason = end["logs"].split("Workflow failed: ", 1)[1]
    assert reason.startswith("WorkflowError:\nAt least one job did not complete successfully.")
    assert f"Rule bad: job {failed[0]} failed with exit code 3." in reason
    assert reason.rstrip().endswith("something went wrong")
    assert (platform.workspace / "ok.txt").exists()
    # As REANA 0.9 does, the report is written at the end of a failed run too (what ran).
    assert "<html" in (platform.workspace / "report.html").read_text()[:2000].lower()
    assert "Snakemake report written to report.html" in logs


def test_a_snakefile_syntax_error_fails_the_run_with_snakemakes_message(platform):
    platform.write("Snakefile", """\
        rule all:
            input: "a.txt"

        rule broken
            output: "a.txt"
            shell: "touch {output}"
        """)
    code, err, messages = platform.run_engine()
    assert code == 1, err
    end = _end(messages)
    assert end["status"] == 3
    assert "Workflow failed: SyntaxError in file" in end["logs"]
    assert "Snakefile\", line 3:\nExpected name or colon after rule" in end["logs"]
    assert "Traceback" not in end["logs"].split("Workflow failed:")[-1][:30]


def test_a_missing_config_key_fails_the_run(platform):
    platform.write("Snakefile", """\
        rule all:
            output: "a.txt"
            shell: "echo {config[nope]} > {output}"
        """)
    code, err, messages = platform.run_engine(parameters={"other": "1"})
    assert code == 1, err
    end = _end(messages)
    assert "Workflow failed:" in end["logs"] and "nope" in end["logs"]


def test_a_missing_snakefile_fails_the_run(platform):
    """(Other unusable inputs: test_submission.py; SIGTERM: the engine conformance suite.)"""
    code, err, messages = platform.run_engine(snakefile="workflow/Snakefile")
    assert code == 1, err
    assert [m["status"] for m in messages] == [1, 3]
    assert "Snakefile workflow/Snakefile does not exist in the workspace." in \
        _end(messages)["logs"]


def test_a_failing_run_rule_fails_the_run_with_its_traceback(snakemake_in_jobs, platform):
    platform.write("Snakefile", """\
        rule all:
            input: "a.txt"

        rule python_block:
            output: "a.txt"
            run:
                raise ValueError("no data for " + config["x"])
        """)
    code, err, messages = platform.run_engine(parameters={"x": "zeta"}, timeout=120)
    assert code == 1, err
    end = _end(messages)
    assert "Rule python_block: job " in end["logs"] and "failed with exit code 1" in end["logs"]
    assert "ValueError in file" in end["logs"] and "no data for zeta" in end["logs"], end["logs"]
    (job,) = platform.jobs().values()
    assert job["job_name"] == "python_block" and job["status"] == "failed"
