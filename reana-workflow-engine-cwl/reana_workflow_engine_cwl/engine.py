"""Run one CWL workflow with cwltool, each CommandLineTool job through the job controller.

Layout in the workspace (REANA's): ``cwl/workflow.json`` and ``cwl/inputs.json``
(the documents cwltool runs), ``cwl/outdir/`` and ``cwl/tmpdir/`` (the jobs'
working folders), ``outputs/`` (the workflow's outputs, moved there at the end),
``cwl/outputs.json`` (the final output object, also in the run's logs).
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

from cwltool.argparser import arg_parser
from cwltool.context import LoadingContext, RuntimeContext
from cwltool.main import main as cwltool_main

from reana_workflow_engine_cwl import documents, job_runner
from reana_workflow_engine_cwl.executor import RemoteJobExecutor, parallel_jobs
from reana_workflow_engine_cwl.progress import JobProgress

LOGGER_NAME = "reana-workflow-engine-cwl"
UNSUPPORTED_EXIT = 33
UNSUPPORTED_REASON = "Workflow failed: it uses a CWL feature this platform does not support."
"""The run's failure reason when cwltool exits 33; reana-cwl-runner exits 33 when it sees it."""
FINAL_OUTPUT = "FinalOutput{}FinalOutput"
"""How the final output object appears in the run's logs (REANA's CWL engine's marker)."""

job_runner.install()


def target_of(run) -> str | None:
    """The TARGET option (``--target`` once the server translated it), or None."""
    value = run.option("--target") or run.option("TARGET")
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value) if value else None


def prepare(run, cwl_dir: Path) -> tuple[list[str], JobProgress]:
    """Write the run's documents; cwltool's arguments and the run's progress."""
    workspace = Path(run.workspace)
    spec = documents.absolute_locations(run.specification or {}, workspace)
    targets: list[str] = []
    target = target_of(run)
    if target:
        spec, targets = documents.target_outputs(spec, target)
    inputs = documents.input_object(run.parameters, spec, workspace)
    cwl_dir.mkdir(parents=True, exist_ok=True)
    (cwl_dir / "workflow.json").write_text(documents.dumps(spec), encoding="utf-8")
    (cwl_dir / "inputs.json").write_text(documents.dumps(inputs), encoding="utf-8")
    argv = ["--outdir", str(workspace / "outputs"),
            "--tmpdir-prefix", f"{cwl_dir / 'tmpdir'}/",
            "--tmp-outdir-prefix", f"{cwl_dir / 'outdir'}/",
            "--no-container", "--relax-path-checks", "--disable-color"]
    for name in targets:
        argv += ["--target", name]
    argv += [f"{cwl_dir / 'workflow.json'}#main", str(cwl_dir / "inputs.json")]
    progress = JobProgress(run.reporter, documents.expected_jobs(spec, targets))
    return argv, progress


def keep_loaded_schemas() -> None:
    """cwltool's schema set-up, keeping the standard schemas already loaded.

    Without a callback, ``cwltool.main`` drops its cached schemas and parses them
    again (a second or more of CPU per run); the zygote loads them once
    (:func:`reana_workflow_engine_cwl.cli.preload`) for every run it forks. No
    custom schema (``--enable-ext``) is used, so the cached ones are the standard ones.
    """


def run_workflow(run) -> bool:
    """The engine: run ``run``'s CWL workflow to its end (True: finished)."""
    cwl_dir = Path(run.workspace) / "cwl"
    parallel = parallel_jobs(run.option("--parallel") or run.option("PARALLEL"))
    argv, progress = prepare(run, cwl_dir)
    progress.start()
    run.jobs_ready()
    run.reporter.attach_logger("cwltool")
    submitter = job_runner.JobSubmitter(
        run, progress, run.option("--default-container") or job_runner.DEFAULT_IMAGE)
    args = arg_parser().parse_args(argv)
    loading = LoadingContext(vars(args))
    loading.construct_tool_object = job_runner.tool_factory(submitter)
    runtime = RuntimeContext(vars(args))
    stdout = io.StringIO()
    code = cwltool_main(args=args, stdout=stdout, logger_handler=logging.NullHandler(),
                        executor=RemoteJobExecutor(parallel), loadingContext=loading,
                        runtimeContext=runtime, custom_schema_callback=keep_loaded_schemas)
    output = stdout.getvalue().strip()
    if output:
        (cwl_dir / "outputs.json").write_text(output + "\n", encoding="utf-8")
        run.log.info(FINAL_OUTPUT.format(json.dumps(json.loads(output), ensure_ascii=False)))
    if code == 0:
        run.reporter.finished()
        return True
    if code == UNSUPPORTED_EXIT:
        reason = UNSUPPORTED_REASON
    else:
        reason = "Workflow failed: cwltool reports it did not succeed (see the lines above)."
    run.fail(reason)
    return False
