"""Run one Snakemake workflow through the job controller (Snakemake 9's API).

Snakemake decides what runs (its DAG, what is out of date on a restart, the
targets); the ``reana`` executor plugin sends each job to the run's job
controller. Snakemake's log lines go to the run's logs; a failure ends the run
with Snakemake's own explanation and the failing jobs' log tails.
"""

from __future__ import annotations

import signal
from pathlib import Path

from snakemake.api import SnakemakeApi
from snakemake.scheduling.greedy import SchedulerSettings as GreedySchedulerSettings
from snakemake.settings.types import (
    ConfigSettings,
    DAGSettings,
    ExecutionSettings,
    OutputSettings,
    RemoteExecutionSettings,
    ResourceSettings,
    SchedulingSettings,
    StorageSettings,
)
from snakemake_interface_executor_plugins.settings import SharedFSUsage

from reana_workflow_engine_snakemake import executor, logs
from reana_workflow_engine_snakemake.inputs import (
    WorkflowInputs,
    parameters_file,
    workflow_inputs,
)
from reana_workflow_engine_snakemake.progress import RunProgress
from reana_workflow_engine_snakemake.watcher import JobWatcher

LOGGER_NAME = "reana-workflow-engine-snakemake"
SHARED_WITH_JOBS = frozenset(SharedFSUsage.all()) - {
    SharedFSUsage.SOFTWARE_DEPLOYMENT, SharedFSUsage.SOFTWARE_DEPLOYMENT_CACHE,
    SharedFSUsage.SOURCE_CACHE}
"""What the engine shares with its jobs: the workspace (sources, outputs, Snakemake's
metadata), not the engine's home (its source cache) nor its software."""


def run_workflow(run) -> bool:
    """Run ``run`` (an :class:`~reana_commons.engine.harness.EngineRun`); True when finished."""
    run.reporter.running()
    inputs = workflow_inputs(run)
    run.jobs_ready()
    watcher = JobWatcher(run)
    session = executor.EngineSession(run, watcher, RunProgress(run.reporter),
                                     sigterm_handler=signal.getsignal(signal.SIGTERM))
    try:
        return _execute(run, inputs, session)
    finally:
        watcher.close()


def _execute(run, inputs: WorkflowInputs, session: executor.EngineSession) -> bool:
    plugin = executor.register()
    output_settings = OutputSettings(printshellcmds=True, nocolor=True)
    with SnakemakeApi(output_settings) as api:
        bridge = logs.attach(api, run.log, output_settings, session.progress)
        dag_api = None
        try:
            workflow_api = api.workflow(
                resource_settings=ResourceSettings(nodes=inputs.jobs),
                config_settings=_config_settings(inputs),
                storage_settings=StorageSettings(notemp=True, shared_fs_usage=SHARED_WITH_JOBS),
                snakefile=inputs.snakefile,
                workdir=Path(inputs.workspace),
            )
            dag_api = workflow_api.dag(DAGSettings(targets=inputs.targets,
                                                   force_incomplete=True))
            dag_api.execute_workflow(
                executor=plugin,
                executor_settings=executor.ExecutorSettings(session=session),
                execution_settings=ExecutionSettings(lock=False),
                remote_execution_settings=RemoteExecutionSettings(),
                # The ILP scheduler's solver costs more per round than it saves here:
                # every job gets its own compute slot.
                scheduling_settings=SchedulingSettings(scheduler="greedy"),
                scheduler_settings=GreedySchedulerSettings(),
            )
        except Exception as error:  # noqa: BLE001 - Snakemake's errors end the run failed
            api.print_exception(error)
            reason = failure_reason(error, bridge.last_error, session)
            if dag_api is not None and inputs.report is not None:
                # As REANA 0.9: the report of what ran, also when a job failed.
                _write_report(run, dag_api, inputs.report)
            # The failed jobs' ids went out when they failed (RunProgress.job_failed).
            run.reporter.failed(reason)
            return False
        if inputs.report is not None:
            _write_report(run, dag_api, inputs.report)
    run.reporter.finished()
    return True


def _config_settings(inputs: WorkflowInputs) -> ConfigSettings:
    """The run's config: config files, then the parameters. Jobs that are Snakemake itself
    get the parameters as a config file (no ``--config k=v``: single letters are refused)."""
    extra = parameters_file(inputs)
    return ConfigSettings(config=inputs.config,
                          configfiles=[*inputs.configfiles, *([extra] if extra else [])],
                          config_args="")


def _write_report(run, dag_api, path: Path) -> None:
    """Snakemake's HTML report of the ended run (a failure to write it is only logged)."""
    from snakemake.report.html_reporter import ReportSettings

    name = path.relative_to(run.workspace)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        dag_api.create_report(reporter="html", report_settings=ReportSettings(path=path))
    except Exception as error:  # noqa: BLE001 - the workflow itself finished
        run.log.error("Error generating workflow HTML report %s: %s", name, error)
        return
    run.log.info("Snakemake report written to %s", name)


def failure_reason(error: Exception, snakemake_text: str | None, session) -> str:
    """The run's failure as users read it: Snakemake's message, then each failed job."""
    text = (snakemake_text or str(error) or type(error).__name__).strip()
    lines = [f"Workflow failed: {text}"]
    lines += session.failures
    return "\n".join(lines)
