"""The yadage engine end to end in-process: scheduling, jobs, progress, state files, failures."""

from __future__ import annotations

import json
import shutil

WORKFLOW = "workflow/workflow.yaml"


def _intervals_overlap(jobs: list[dict]) -> bool:
    ordered = sorted(jobs, key=lambda job: job["started"])
    return any(b["started"] < a["ended"] for a, b in zip(ordered, ordered[1:], strict=False))


def test_multistage_workflow_runs_its_stages_as_jobs(finished):
    multistage = finished
    workspace = multistage.workspace
    assert (workspace / "merge/merged.txt").read_text() == (
        "Hello jane!\nHello joe!\nHello ada!\nJANE\nJOE\nADA\n")
    jobs = list(multistage.jobs.jobs.values())
    assert sorted(job["job_name"] for job in jobs) == [
        "greet_0", "greet_1", "greet_2", "merge", "shout"]
    assert {job["docker_img"] for job in jobs} == {"docker.io/library/busybox:1.36"}
    greet = [job for job in jobs if job["job_name"].startswith("greet")]
    # A script step is piped into its interpreter; users see the script itself.
    assert all("|base64 -d|sh" in job["cmd"] for job in greet)
    assert all(job["prettified_cmd"].startswith("sleep 1\n") for job in greet)
    assert all(job["cmd"].startswith(f"cd {workspace} && ") for job in jobs)
    # The scatter's three jobs and the independent stage ran at the same time.
    assert _intervals_overlap([job for job in jobs if job["job_name"] != "merge"])


def test_progress_grows_and_every_job_is_reported(finished):
    multistage = finished
    messages = multistage.messages
    assert messages[0]["status"] == 1 and messages[-1]["status"] == 2
    assert [m["seq"] for m in messages] == list(range(1, len(messages) + 1))
    totals = [item["total"] for item in multistage.progress("total")]
    assert totals == sorted(totals) and totals[-1] == 5, totals
    ids = set(multistage.jobs.jobs)
    assert multistage.job_ids("finished") == ids
    assert multistage.job_ids("running") <= ids
    assert not multistage.job_ids("failed")


def test_engine_log_has_yadage_lines_from_the_main_thread(finished):
    logs = finished.logs
    for line in ("yadage.creators | MainThread | INFO | initializing workflow",
                 "yadage.wflowview | MainThread | INFO | added </init:0|defined|unknown>",
                 "yadage.wflowview | MainThread | INFO | added </greet:1|defined|unknown>",
                 "adage.node | MainThread | INFO | node ready </init:0|success|known>",
                 "adage | MainThread | INFO | workflow completed successfully.",
                 "adage | MainThread | INFO | execution valid. (in terms of execution order)",
                 "reana-workflow-engine-yadage | MainThread | INFO | Submitted job "):
        assert line in logs, line


def test_state_and_dag_files_go_to_the_workspace(finished):
    multistage = finished
    metadir = multistage.workspace / "_yadage"
    track = json.loads((metadir / "yadage_workflow_track.json").read_text())
    assert track["progress"]["finished"]["total"] == 5
    assert track["progress"]["running"]["total"] == 0
    stages = {node["stage"]: node for node in track["dag"]["nodes"]}
    assert set(stages) == {"init", "greet", "shout", "merge"}
    assert all(node["state"] == "finished" for node in track["dag"]["nodes"])
    assert stages["merge"]["job_id"] in multistage.jobs.jobs
    merge_id = stages["merge"]["id"]
    assert sum(1 for _, target in track["dag"]["edges"] if target == merge_id) == 4
    assert (metadir / "yadage_snapshot_workflow.json").exists()
    assert (metadir / "yadage_workflow_instance.dot").read_text().startswith("digraph G {")
    if shutil.which("dot"):  # Graphviz (scripts/services/packages.txt)
        assert (metadir / "yadage_workflow_instance.png").read_bytes()[:4] == b"\x89PNG"
        assert (metadir / "yadage_workflow_instance.pdf").read_bytes()[:4] == b"%PDF"
        # adage's animated DAG, as REANA's engine leaves it (visualize=True)
        from PIL import Image

        with Image.open(metadir / "adage/workflow.gif") as gif:
            assert gif.format == "GIF" and gif.n_frames > 1
            durations = []
            for index in range(gif.n_frames):  # Pillow merges repeated frames
                gif.seek(index)
                durations.append(gif.info["duration"])
        assert sum(durations) == 41 * 500  # adage's 41 frames, convert -delay 50
        assert not list((metadir / "adage").glob(".frames-*"))
    snapshots = (metadir / "adage/adagesnap.txt").read_text()
    assert snapshots.startswith("========== ADAGE LOG BEGIN at ")
    assert "========== ADAGE LOG END at " in snapshots and "name: merge " in snapshots


def test_a_failing_step_fails_the_run_with_its_stderr(multistage, parameters):
    parameters = dict(parameters, fail_on="joe")
    assert multistage.run(WORKFLOW, parameters) == 1
    end = multistage.messages[-1]
    assert end["status"] == 3
    failed_job = next(j for j in multistage.jobs.jobs.values() if j["job_name"] == "greet_1")
    assert "Stage greet_1 (job " in end["logs"]
    assert "exit code 7" in end["logs"] and "cannot greet joe" in end["logs"]
    assert multistage.job_ids("failed") == {failed_job["job_id"]}
    # yadage runs what does not depend on the failure, and nothing that does.
    names = sorted(j["job_name"] for j in multistage.jobs.jobs.values())
    assert names == ["greet_0", "greet_1", "greet_2", "shout"]
    assert "Traceback" not in multistage.logs
    assert "some weird exception" not in multistage.logs


def test_init_files_and_parameters(multistage, parameters):
    (multistage.workspace / "init.yaml").write_text(
        "names: [x, y]\nnamesfile: data/names.txt\nfail_on: nobody\npause: 0\n")
    options = {"initfiles": ["init.yaml"]}
    assert multistage.run(WORKFLOW, {"names": ["zoe"]}, options) == 0, multistage.logs
    assert (multistage.workspace / "merge/merged.txt").read_text().startswith("Hello zoe!\nJANE")


def test_initdir_and_toplevel_resolve_in_the_workspace(multistage, parameters):
    workspace = multistage.workspace
    (workspace / "inputs").mkdir()
    (workspace / "data/names.txt").rename(workspace / "inputs/names.txt")
    options = {"initdir": "inputs", "toplevel": "workflow"}
    parameters = dict(parameters, namesfile="names.txt")
    assert multistage.run("workflow.yaml", parameters, options) == 0, multistage.logs
    assert (workspace / "shout/shouted.txt").read_text() == "JANE\nJOE\nADA\n"


def test_specification_given_as_json(engine):
    specification = {"stages": [{
        "name": "only", "dependencies": ["init"],
        "scheduler": {"scheduler_type": "singlestep-stage",
                      "parameters": {"outputfile": "{workdir}/out.txt",
                                     "word": {"step": "init", "output": "word"}},
                      "step": {"process": {"process_type": "string-interpolated-cmd",
                                           "cmd": "echo {word} > {outputfile}"},
                               "publisher": {"publisher_type": "frompar-pub",
                                             "outputmap": {"outputfile": "outputfile"}},
                               "environment": {"environment_type": "docker-encapsulated",
                                               "image": "busybox",
                                               "resources": [{"compute_backend": "slurmcern"},
                                                             {"slurm_time": "5"}]}}}}]}
    assert engine.run(specification=specification, parameters={"word": "json"}) == 0, engine.logs
    assert (engine.workspace / "only/out.txt").read_text() == "json\n"
    (job,) = engine.jobs.jobs.values()
    assert job["docker_img"] == "busybox:latest"
    assert job["compute_backend"] == "slurmcern" and job["slurm_time"] == "5"

    # Without init parameters yadage never schedules a stage reading from init; it would
    # end "successfully" having run nothing.
    again = type(engine)(engine.workspace)
    assert again.run(specification=specification, options={"accept_metadir": True}) == 1
    assert again.messages[-1]["logs"].endswith(
        "\nWorkflow failed: stage(s) only never ran: their dependencies were never met "
        "(the run has no init parameters).\n")
    assert not again.jobs.jobs


def test_an_existing_yadage_directory_needs_accept_metadir(multistage, parameters):
    (multistage.workspace / "_yadage").mkdir()  # what an earlier run (a restart's parent) left
    assert multistage.run(WORKFLOW, parameters) == 1
    assert "run it again with the operational option accept_metadir=true" in \
        multistage.messages[-1]["logs"]
    assert not multistage.jobs.jobs
    again = type(multistage)(multistage.workspace)
    assert again.run(WORKFLOW, parameters, {"accept_metadir": "true"}) == 0, again.logs


def test_a_command_using_an_unknown_parameter_fails_the_run_saying_so(multistage, parameters):
    workflow = multistage.workspace / WORKFLOW
    workflow.write_text(workflow.read_text().replace('tr a-z A-Z < "{namesfile}"',
                                                     'tr a-z A-Z < "{namesfile}" ${HOME}'))
    assert multistage.run(WORKFLOW, parameters) == 1
    assert multistage.messages[-1]["logs"].endswith(
        "Workflow failed: stage shout: its command uses {HOME}, which is not one of its "
        "parameters (namesfile, outputfile); write {{ and }} for literal braces\n")
    assert not any(job["job_name"] == "shout" for job in multistage.jobs.jobs.values())


def test_each_node_is_prepublished_once(multistage, parameters, monkeypatch):
    from packtivity.syncbackends import defaultsyncbackend

    calls: list[str] = []
    original = defaultsyncbackend.prepublish

    def counting(self, spec, parameters, state):
        calls.append(repr(state))
        return original(self, spec, parameters, state)

    monkeypatch.setattr(defaultsyncbackend, "prepublish", counting)
    assert multistage.run(WORKFLOW, parameters) == 0, multistage.logs
    assert (multistage.workspace / "merge/merged.txt").read_text().startswith("Hello jane!")
    # init, greet_0..2, shout, merge: once each (yadage itself redoes all of them every tick)
    assert len(calls) == len(set(calls)) == 6, calls


def test_workflow_resources_reach_every_job(multistage, parameters, monkeypatch):
    """workflow.resources of reana.yaml (REANA's engine environment): every packtivity's job
    gets the CVMFS repositories and Kerberos, as with REANA's engines."""
    monkeypatch.setenv("REANA_WORKFLOW_KERBEROS", "True")
    monkeypatch.setenv("REANA_MOUNT_CVMFS", "['atlas.cern.ch', 'sft.cern.ch']")
    assert multistage.run(WORKFLOW, parameters) == 0, multistage.logs
    jobs = list(multistage.jobs.jobs.values())
    assert len(jobs) == 5
    assert {job["cvmfs_mounts"] for job in jobs} == {"['atlas.cern.ch', 'sft.cern.ch']"}
    assert all(job["kerberos"] is True for job in jobs)
