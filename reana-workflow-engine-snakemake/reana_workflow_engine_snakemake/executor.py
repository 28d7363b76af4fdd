"""The ``reana`` Snakemake executor plugin: every job through the run's job controller.

Registered in-process (:func:`register`) with Snakemake's executor plugin
registry; the engine hands the run's :class:`EngineSession` over in
:class:`ExecutorSettings`. Remote executors get no ``job.prepare()`` from
Snakemake, so :meth:`Executor.run_job` removes stale outputs and creates the
output and log folders itself, in the shared workspace. Every failure path
(refused submission, job failed or stopped, job controller gone) ends in
``report_job_error``, so Snakemake never waits for a job that will not come
back. A rule without a shell command (``run:``, ``script:``...) is sent as
Snakemake's own remote job (``python -m snakemake --target-jobs ...``): the
job's environment needs Snakemake (REANA's default image for Snakemake jobs is
Snakemake's own).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

from reana_commons.engine.jobs import job_request
from snakemake.common import async_run
from snakemake_interface_executor_plugins.executors.base import SubmittedJobInfo
from snakemake_interface_executor_plugins.executors.remote import RemoteExecutor
from snakemake_interface_executor_plugins.registry import ExecutorPluginRegistry
from snakemake_interface_executor_plugins.settings import CommonSettings, ExecutorSettingsBase

from reana_workflow_engine_snakemake.submission import UnsupportedJob, job_spec

PLUGIN_NAME = "reana"
LOG_TAIL_LINES = 20
IDLE_CHECK_SECONDS = 5.0
"""Longest sleep of the status thread when no job ends (a safety net: ends wake it)."""

common_settings = CommonSettings(
    non_local_exec=True,
    implies_no_shared_fs=False,
    job_deploy_sources=False,
    pass_default_storage_provider_args=False,
    pass_default_resources_args=False,
    pass_envvar_declarations_to_cmd=False,
    auto_deploy_default_storage_provider=False,
)


@dataclass
class ExecutorSettings(ExecutorSettingsBase):
    """What the engine passes to its executor: the run's session."""

    session: Any = field(default=None, metadata={
        "help": "The REANA run (set by the engine, not from the command line).",
        "env_var": False, "required": False})


@dataclass
class EngineSession:
    """The run as the executor needs it: the engine run, its job watcher, its progress."""

    run: Any
    """The :class:`reana_commons.engine.harness.EngineRun`."""
    watcher: Any
    """A :class:`reana_workflow_engine_snakemake.watcher.JobWatcher`."""
    progress: Any
    """A :class:`reana_workflow_engine_snakemake.progress.RunProgress`."""
    sigterm_handler: Any = None
    """The engine's SIGTERM handler (stop the jobs, fail the run), put back after Snakemake's
    scheduler replaced it with one that waits for the running jobs to end."""
    failures: list = field(default_factory=list)
    """One text per failed job: rule, job id, exit code, the tail of its logs."""


async def _prepare(job) -> None:
    """What ``job.prepare()`` does for a local job, on the shared workspace."""
    for member in (job.jobs if job.is_group() else [job]):
        await member.remove_existing_output()
        for path in (*member.output, *member.log):
            path.prepare()
        if member.benchmark:
            member.benchmark.prepare()


class Executor(RemoteExecutor):
    """Submits each Snakemake job to the job controller and follows it to its end."""

    # Properties, not attributes set in __post_init__: RemoteExecutor starts the status
    # thread (check_active_jobs, sleep) before it calls __post_init__.
    @property
    def session(self) -> EngineSession:
        return self.workflow.executor_settings.session

    @property
    def run(self):
        return self.session.run

    @property
    def watcher(self):
        return self.session.watcher

    def __post_init__(self):
        self.session.progress.attach(self.workflow)

    # --- submission (Snakemake's scheduler thread) ------------------------------------------
    def run_job(self, job) -> None:
        self._keep_engine_sigterm_handler()
        try:
            spec = job_spec(job, str(self.run.workspace), self.format_job_exec)
            async_run(_prepare(job))
            request = job_request(self.run, image=spec.image, name=spec.name,
                                  command_for_display=spec.command_for_display,
                                  hints=spec.hints)
            job_id = self.run.submit(spec.cmd, **request)
        except UnsupportedJob as error:
            self._refused(job, str(error))
            return
        except Exception as error:  # noqa: BLE001 - any refusal fails this job, not the engine
            self._refused(job, f"Rule {job.name}: the job could not be submitted: "
                               f"{getattr(error, 'message', None) or error}")
            return
        if job.is_group():
            self.session.progress.grouped(len(list(job.jobs)))
        self.session.progress.job_started(job_id)
        self.report_job_submission(SubmittedJobInfo(job=job, external_jobid=job_id))
        # Watched only once among the active jobs: an end signalled before the status
        # thread could see the job would leave it asleep until the idle check.
        self.watcher.watch(job_id)

    def get_python_executable(self) -> str:
        """The job's ``python`` (the engine's own path means nothing in a job's image)."""
        return "python"

    def get_job_exec_prefix(self, job) -> str:
        """Snakemake asks for the user's name (``getpass``): a job may run under a uid with
        no passwd entry (the sandbox's 65530, an arbitrary Kubernetes ``runAsUser``)."""
        return 'export USER="${USER:-reana}" LOGNAME="${LOGNAME:-reana}"'

    def _keep_engine_sigterm_handler(self) -> None:
        handler = self.session.sigterm_handler
        if handler is not None and signal.getsignal(signal.SIGTERM) is not handler:
            signal.signal(signal.SIGTERM, handler)

    def _refused(self, job, message: str) -> None:
        self.session.failures.append(message)
        self.report_job_error(SubmittedJobInfo(job=job), msg=message + "\n")

    # --- status (Snakemake's status thread) -------------------------------------------------
    async def check_active_jobs(self, active_jobs) -> AsyncGenerator[SubmittedJobInfo, None]:
        self.watcher.clear()
        for info in active_jobs:
            try:
                ended = self.watcher.ended(info.external_jobid)
            except Exception as error:  # noqa: BLE001 - e.g. the job controller is gone
                self._job_failed(info, None, f"the job controller did not answer: {error}")
                continue
            if ended is None:
                yield info
            elif ended["status"] == "finished":
                self.session.progress.job_finished(info.external_jobid)
                self.report_job_success(info)
            else:
                self._job_failed(info, ended, None)

    def _job_failed(self, info: SubmittedJobInfo, ended: dict | None, problem: str | None):
        job_id = info.external_jobid
        self.run.untrack(job_id)
        if ended is not None:
            problem = f"{ended['status']} with exit code {ended.get('exit_code')}"
        text = f"Rule {info.job.name}: job {job_id} {problem}."
        tail = self._log_tail(job_id)
        if tail:
            text += f" Last lines of its logs:\n{tail}"
        self.session.failures.append(text)
        self.session.progress.job_failed(job_id)
        # Snakemake logs it in its "Error in rule" block, the run's end repeats it.
        self.report_job_error(info, msg=text.rstrip("\n") + "\n")

    def _log_tail(self, job_id: str) -> str:
        try:
            lines = self.run.jobs.logs(job_id).splitlines()[-LOG_TAIL_LINES:]
        except Exception as error:  # noqa: BLE001 - the failure is reported anyway
            return f"(job logs unavailable: {error})"
        return "\n".join(lines)

    async def sleep(self) -> None:
        if self.watcher.closed:
            await asyncio.sleep(0.01)
            return
        await asyncio.to_thread(self.watcher.wait_for_change, IDLE_CHECK_SECONDS)

    # --- stop ---------------------------------------------------------------------------------
    def cancel_jobs(self, active_jobs) -> None:
        for info in active_jobs:
            try:
                self.run.jobs.stop(info.external_jobid)
            except Exception as error:  # noqa: BLE001 - best effort: it may be gone already
                self.run.log.warning("could not stop job %s: %s", info.external_jobid, error)

    def shutdown(self) -> None:
        self.watcher.close()
        super().shutdown()


def register() -> str:
    """Register this module as Snakemake's ``reana`` executor (a no-op once registered)."""
    ExecutorPluginRegistry().register_plugin(PLUGIN_NAME, sys.modules[__name__])
    return PLUGIN_NAME
