"""The packtivity backend of the engine: every packtivity is one job of the run's job controller.

yadage drives packtivity backends through five methods (``submit``, ``ready``,
``successful``, ``result``, ``fail_info``; ``prepublish`` lets it schedule
downstream stages before their inputs exist). adage calls ``ready`` for every
node on every tick, so nothing here may call the job controller from those
methods: each submitted job has a waiter thread that long-polls the job
controller (``EngineRun.wait``) and records the job once it ended; ``ready`` and
``successful`` only read that record. Outputs are published (packtivity's
publisher, on the shared workspace) once, when adage first asks whether the job
succeeded, so a publisher that finds nothing fails the stage, not the engine.
"""

from __future__ import annotations

import base64
import shlex
import threading

from packtivity import datamodel
from packtivity.asyncbackends import ExternalAsyncProxy
from packtivity.statecontexts import load_state
from packtivity.syncbackends import (
    acquire_job_env,
    finalize_inputs,
    finalize_outputs,
    packconfig,
    prepublish,
    publish,
)
from reana_commons.engine.jobs import job_request

LOG_TAIL_LINES = 20


class StageFailure(RuntimeError):
    """A packtivity that cannot be turned into a job (the message says why)."""


class JobProxy(ExternalAsyncProxy):
    """adage's handle of one submitted packtivity: its job id, spec, state and parameters."""

    def proxyname(self) -> str:
        return "ReanaJobControllerProxy"

    @property
    def job_id(self) -> str:
        return self.jobproxy["job_id"]


def image_of(environment: dict) -> str:
    """``image:imagetag`` of a ``docker-encapsulated`` environment ("" for other types)."""
    image = environment.get("image") or ""
    tag = environment.get("imagetag")
    if image and tag and ":" not in image.rsplit("/", 1)[-1]:
        return f"{image}:{tag}"
    return image


def hints_of(environment: dict) -> dict:
    """REANA's job fields from ``environment.resources``, a list of one-key mappings."""
    hints: dict = {}
    for item in environment.get("resources") or []:
        if isinstance(item, dict):
            hints.update(item)
    return hints


def shell_command(job: dict, environment: dict, workspace: str) -> tuple[str, str]:
    """``(command to run, command to show)`` of a packtivity job.

    A ``script`` job (``interpolated-script-cmd``) is piped into its interpreter
    (REANA's ``echo <base64>|base64 -d|<interpreter>``); the environment's ``env``
    variables are exported and its ``envscript`` sourced first, as packtivity's
    container runner does. The job runs in the environment's ``workdir`` if set,
    else in the workspace (REANA's jobs start there).
    """
    if "command" in job:
        shown = command = job["command"]
    elif "script" in job:
        shown = job["script"]
        encoded = base64.b64encode(job["script"].encode()).decode()
        command = f"echo {encoded}|base64 -d|{job.get('interpreter') or 'sh'}"
    else:
        raise StageFailure(f"packtivity built a job with neither command nor script: {job}")
    prefix = [f"cd {shlex.quote(environment.get('workdir') or workspace)}"]
    for name, value in (environment.get("env") or {}).items():
        prefix.append(f"export {name}={shlex.quote(str(value))}")
    if environment.get("envscript"):
        prefix.append(f". {shlex.quote(environment['envscript'])}")
    return " && ".join(prefix + [command]), shown


class JobControllerBackend:
    """packtivity's asynchronous backend interface over the run's job controller."""

    def __init__(self, run):
        self.run = run
        self.config = packconfig()
        self._lock = threading.Lock()
        self._ended: dict[str, dict] = {}
        self._results: dict[str, object] = {}
        self._failures: dict[str, str] = {}
        self.stage_names: dict[str, str] = {}
        """Job id → the packtivity's name (``stage`` or ``stage[i]``), for messages."""

    # --- packtivity's interface ----------------------------------------------------------------
    def prepublish(self, spec, parameters, state):
        """The outputs known before running (frompar/constant publishers), else None."""
        return prepublish(spec, parameters, state, self.config)

    def submit(self, spec, parameters, state, metadata) -> JobProxy:
        """Send the packtivity as one job; returns its proxy at once."""
        parameters, state = finalize_inputs(parameters, state)
        try:
            job, environment = acquire_job_env(spec, parameters, state, metadata, self.config)
        except (KeyError, IndexError) as error:  # str.format of the command or script
            raise StageFailure(
                f"stage {metadata.get('name')}: its command uses {{{error.args[0]}}}, which is "
                f"not one of its parameters ({', '.join(sorted(parameters.json()))}); write "
                "{{ and }} for literal braces") from error
        if job is None:
            raise StageFailure(f"stage {metadata.get('name')} has no process or environment")
        if environment.get("par_mounts"):
            raise StageFailure(f"stage {metadata.get('name')}: par_mounts are not supported")
        state.ensure()  # the stage's work directory, before its job writes into it
        cmd, shown = shell_command(job, environment, str(self.run.workspace))
        name = metadata.get("name") or ""
        request = job_request(self.run, image=image_of(environment), name=name,
                              command_for_display=shown, hints=hints_of(environment))
        job_id = self.run.submit(cmd, **request)
        self.stage_names[job_id] = name
        self.run.log.info("Submitted job %s for stage %s: %s", job_id, name, shown)
        threading.Thread(target=self._follow, args=(job_id,), name=f"job-{job_id[:8]}",
                         daemon=True).start()
        return JobProxy({"job_id": job_id}, spec, state.json(), parameters.json())

    def ready(self, proxy: JobProxy) -> bool:
        with self._lock:
            return proxy.job_id in self._ended

    def successful(self, proxy: JobProxy) -> bool:
        """Whether the job finished and its outputs were published."""
        with self._lock:
            job = self._ended.get(proxy.job_id)
            if job is None or proxy.job_id in self._failures:
                return False
            if proxy.job_id in self._results:
                return True
        if job.get("status") != "finished":
            self._record_failure(proxy.job_id, self._job_failure(job))
            return False
        try:
            result = self._publish(proxy)
        except Exception as error:  # noqa: BLE001 - a publisher error fails this stage only
            self._record_failure(proxy.job_id, f"publishing its outputs failed: {error}")
            return False
        with self._lock:
            self._results[proxy.job_id] = result
        return True

    def result(self, proxy: JobProxy):
        with self._lock:
            if proxy.job_id in self._results:
                return self._results[proxy.job_id]
        return self._publish(proxy)

    def fail_info(self, proxy: JobProxy) -> str:
        with self._lock:
            return self._failures.get(proxy.job_id, "")

    # --- bookkeeping -----------------------------------------------------------------------
    def failures(self) -> dict[str, str]:
        """Job id → why its stage failed, for every failed stage so far."""
        with self._lock:
            return dict(self._failures)

    def _follow(self, job_id: str) -> None:
        try:
            job = self.run.wait(job_id)
        except Exception as error:  # noqa: BLE001 - e.g. the job controller is gone
            job = {"job_id": job_id, "status": "failed",
                   "error": f"the job controller could not tell how it ended: {error}"}
        with self._lock:
            self._ended[job_id] = job

    def _publish(self, proxy: JobProxy):
        state = load_state(proxy.statedata, {})
        parameters = datamodel.create(proxy.pardata, state.datamodel)
        published = publish(proxy.spec["publisher"], parameters, state, self.config)
        return finalize_outputs(published)

    def _job_failure(self, job: dict) -> str:
        if job.get("error"):
            return job["error"]
        status = job.get("status")
        text = f"its job {status}"
        if job.get("exit_code") is not None:
            text += f" with exit code {job['exit_code']}"
        try:
            logs = self.run.jobs.logs(job["job_id"])
        except Exception as error:  # noqa: BLE001 - the failure is reported anyway
            logs = f"(job logs unavailable: {error})"
        tail = "\n".join(logs.splitlines()[-LOG_TAIL_LINES:])
        return f"{text}. Last lines of its logs:\n{tail}" if tail else text

    def _record_failure(self, job_id: str, reason: str) -> None:
        with self._lock:
            if job_id in self._failures:
                return
            self._failures[job_id] = reason
        self.run.log.error("Stage %s (job %s) failed: %s", self.stage_names.get(job_id, "?"),
                           job_id, reason.splitlines()[0] if reason else "")
