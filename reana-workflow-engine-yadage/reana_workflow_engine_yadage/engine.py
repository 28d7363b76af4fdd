"""Run one yadage workflow: yadage schedules, the job controller runs every packtivity.

yadage's steering (``steering_ctx``) builds the workflow from the workflow file
(or the specification given as JSON) and the ``init`` data, and adage's loop
unfolds the DAG and submits every stage whose inputs are ready, so independent
stages run in parallel. Packtivities go to :class:`.JobControllerBackend`, the
run's progress and state file come from :class:`.ProgressTracker`. The loop runs
in the main thread, as REANA's engine does: the demos' feature files look for
yadage's lines with ``MainThread`` in them.
"""

from __future__ import annotations

import logging
import os

from yadage.backends.packtivitybackend import PacktivityBackend
from yadage.steering_api import steering_ctx

from reana_workflow_engine_yadage.backend import JobControllerBackend
from reana_workflow_engine_yadage.options import init_data, resolve_options
from reana_workflow_engine_yadage.specification import load_workflow, validate_workflow
from reana_workflow_engine_yadage.tracker import ProgressTracker
from reana_workflow_engine_yadage.visualization import adage_trackers, write_stage_graph

LOGGER_NAME = "reana-workflow-engine-yadage"
CAPTURED_LOGGERS = ("yadage", "adage", "packtivity")
"""Libraries whose INFO lines join the run's logs (the demos' feature files read them)."""
UPDATE_INTERVAL_SECONDS = float(os.environ.get("REANA_YADAGE_UPDATE_INTERVAL", "0.1"))
"""Pause between two ticks of adage's loop (REANA: 15 s; job ends arrive by long-poll)."""
METADIR = "_yadage"
ADAGE_LOOP_CRASH = "some weird exception caught in adage process loop"


class _DropLoopTraceback(logging.Filter):
    """adage logs every exception leaving its loop with a traceback; the run reports it once."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != ADAGE_LOOP_CRASH


def capture_library_logs(reporter) -> None:
    for name in CAPTURED_LOGGERS:
        logger = reporter.attach_logger(name)
        if name == "adage":
            logger.addFilter(_DropLoopTraceback())


def workflow_of(run, toplevel: str) -> dict:
    """The workflow: the JSON specification if one was given, else the workflow file."""
    specification = run.specification or {}
    if "stages" in specification:
        return validate_workflow(specification)
    if not run.workflow_file:
        raise ValueError("A yadage run needs a workflow file or a specification.")
    return load_workflow(run.workflow_file, toplevel, str(run.workspace))


def failure_reason(backend: JobControllerBackend, error: BaseException) -> str:
    """Why the run failed: each failed stage with its job's logs, else yadage's error."""
    failures = backend.failures()
    if not failures:
        return f"Workflow failed: {error}"
    parts = [
        f"Stage {backend.stage_names.get(job_id, '?')} (job {job_id}) failed: {reason}"
        for job_id, reason in failures.items()
    ]
    return "Workflow failed.\n" + "\n".join(parts)


def unscheduled_stages(workflow) -> list[str]:
    """Stages whose dependencies were never met (their rules were never applied)."""
    names = []
    for rule in workflow.rules:
        stage = getattr(getattr(rule, "rule", None), "name", None) or str(rule)
        offset = getattr(rule, "offset", "") or ""
        names.append(f"{offset}/{stage}".lstrip("/"))
    return sorted(names)


def prepublish_each_node_once(controller) -> None:
    """Make yadage's controller prepublish a node once, not on every tick.

    ``YadageController.sync_expected`` recomputes the expected outputs of every node
    of the DAG on every tick (packtivity's jq-based data model: ~0.1 s of CPU per node),
    so a 100-step scatter spent most of its time there. A node's prepublished outputs
    depend only on its spec, parameters and state, which never change: compute each once.
    """
    if "YADAGE_IGNORE_PREPUBLISHING" in os.environ or controller.disable_prepublishing:
        return
    done: set[str] = set()

    def sync_expected() -> None:
        dag = controller.adageobj.dag
        for identifier in dag.nodes():
            if identifier in done:
                continue
            node = dag.getNode(identifier)
            node.expected_result = controller.prepublishing_backend.prepublish(
                node.task.spec, node.task.parameters.json(), node.task.state)
            done.add(identifier)

    controller.sync_expected = sync_expected


def run_yadage(run) -> bool:
    """Run the workflow of ``run`` (an ``EngineRun``); True when it finished."""
    reporter = run.reporter
    capture_library_logs(reporter)
    reporter.running()
    workspace = str(run.workspace)
    options = resolve_options(workspace, run.options)
    workflow = workflow_of(run, options.toplevel)
    initdata = init_data(options, run.parameters, workspace)
    run.jobs_ready()

    backend = JobControllerBackend(run)
    metadir = os.path.join(workspace, METADIR)
    tracker = ProgressTracker(reporter, metadir)
    steering = None
    try:
        with steering_ctx(
            dataarg=workspace,
            workflow_json=workflow,
            initdata=initdata,
            toplevel=options.toplevel,
            dataopts={"initdir": options.initdir},
            backend=PacktivityBackend(packtivity_backend=backend, backendopts={}),
            accept_metadir=options.accept_metadir,
            # adage's default trackers shell out to ImageMagick: ours draw the same files.
            visualize=False,
            updateinterval=UPDATE_INTERVAL_SECONDS,
        ) as steering:
            steering.adage_argument(additional_trackers=[tracker, *adage_trackers(metadir)])
            prepublish_each_node_once(steering.controller)
    except RuntimeError as error:
        if "meta directory" in str(error) and steering is None:
            raise RuntimeError(
                f"The workspace already holds a yadage run ({METADIR}/); run it again with "
                "the operational option accept_metadir=true to reuse it.") from error
        run.stop_jobs()
        reporter.failed(failure_reason(backend, error),
                        failed_jobs=list(backend.failures()))
        return False
    except BaseException:
        run.stop_jobs()  # e.g. a submission the job controller refused: no job left behind
        raise
    finally:
        if steering is not None:
            write_stage_graph(metadir, steering.workflow, run.log)
    never = unscheduled_stages(steering.workflow)
    if never:
        # yadage ends "successfully" when a stage's dependencies can never be met (e.g. a
        # stage reading from init while the run has no parameters): say so, and fail.
        reporter.failed(
            f"Workflow failed: stage(s) {', '.join(never)} never ran: their dependencies "
            "were never met" + ("" if initdata else " (the run has no init parameters)") + ".")
        return False
    reporter.finished()
    return True
