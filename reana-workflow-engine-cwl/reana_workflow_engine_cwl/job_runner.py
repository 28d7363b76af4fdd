"""Every CommandLineTool job of cwltool becomes one job of the run's job controller.

cwltool prepares a job as for ``--no-container`` (host paths: the job's outdir,
tmpdir and staged inputs are in the workspace, which every compute backend
mounts at the same path), then calls ``cwltool.job._job_popen`` to run the
command line. :func:`install` wraps that function once: for a job of ours (the
thread is inside :meth:`ReanaCommandLineJob.run`) the command line is written
into a shell script that the job controller runs in the tool's image, and the
job's exit code is returned to cwltool, which collects the outputs as usual.
Everything else of cwltool (staging, InitialWorkDir, secrets, output
collection, callbacks under the workflow lock) is cwltool's own code.
"""

from __future__ import annotations

import shlex
import threading
from dataclasses import dataclass

import cwltool.job
from cwltool.command_line_tool import CommandLineTool
from cwltool.errors import UnsupportedRequirement
from cwltool.job import CommandLineJob
from cwltool.workflow import default_make_tool
from reana_commons.engine.jobs import job_request

DEFAULT_IMAGE = "docker.io/library/bash:5.2"
"""Image of a tool without DockerRequirement (REANA used ``frolvlad/alpine-bash``)."""
REANA_NAMESPACE = "http://reana.io"
LOG_TAIL_LINES = 20
TERMINATED = -15
"""Exit code cwltool gets for a job stopped by its time limit (as if SIGTERM-ed)."""

_active = threading.local()
_original_popen = cwltool.job._job_popen


def _job_popen(commands, stdin_path=None, stdout_path=None, stderr_path=None, env=None,
               cwd=None, make_job_dir=None, job_script_contents=None, timelimit=None,
               name=None, monitor_function=None, default_stdout=None, default_stderr=None):
    """cwltool's ``_job_popen``, sending the jobs of :class:`ReanaCommandLineJob` away."""
    job = getattr(_active, "job", None)
    if job is None:
        return _original_popen(commands, stdin_path, stdout_path, stderr_path, env, cwd,
                               make_job_dir, job_script_contents, timelimit, name,
                               monitor_function, default_stdout, default_stderr)
    script = job_script(commands, cwd, env or {}, stdin_path, stdout_path, stderr_path)
    return job.submitter.run(job, script, timelimit)


def install() -> None:
    """Route cwltool's job processes through :func:`_job_popen` (idempotent)."""
    cwltool.job._job_popen = _job_popen


def job_script(commands: list[str], cwd: str, env: dict, stdin_path: str | None,
               stdout_path: str | None, stderr_path: str | None) -> str:
    """The shell command running ``commands`` as cwltool would run them locally.

    The tool's environment (HOME, TMPDIR, EnvVarRequirement...) is exported; PATH is
    left to the job's image or host, not taken from the engine.
    """
    exports = " ".join(f"{key}={shlex.quote(str(value))}" for key, value in sorted(env.items())
                       if key != "PATH" and key.isidentifier())
    line = " ".join(shlex.quote(str(arg)) for arg in commands)
    if stdin_path:
        line += f" < {shlex.quote(stdin_path)}"
    if stdout_path:
        line += f" > {shlex.quote(stdout_path)}"
    if stderr_path:
        line += f" 2> {shlex.quote(stderr_path)}"
    prefix = f"export {exports} && " if exports else ""
    return f"cd {shlex.quote(cwd)} && {prefix}exec {line}"


class ReanaCommandLineJob(CommandLineJob):
    """A CommandLineTool job whose process runs through the job controller."""

    submitter: JobSubmitter

    def run(self, runtimeContext, tmpdir_lock=None) -> None:
        # The worker thread carries the job's name meanwhile, as REANA's engine's did: the
        # run's log reads "cwltool | <step> | INFO | [step <step>] completed success".
        thread = threading.current_thread()
        thread_name, thread.name = thread.name, self.name
        _active.job = self
        try:
            super().run(runtimeContext, tmpdir_lock)
        finally:
            _active.job = None
            thread.name = thread_name


class ReanaCommandLineTool(CommandLineTool):
    """A CommandLineTool whose jobs go to the job controller, whatever its DockerRequirement."""

    job_class: type[ReanaCommandLineJob]

    def make_job_runner(self, runtimeContext) -> type[ReanaCommandLineJob]:
        docker, _required = self.get_requirement("DockerRequirement")
        if docker:
            for unsupported in ("dockerOutputDirectory", "dockerFile", "dockerImport",
                                "dockerLoad"):
                if docker.get(unsupported) and not (unsupported != "dockerOutputDirectory"
                                                    and docker.get("dockerPull")):
                    raise UnsupportedRequirement(
                        f"DockerRequirement.{unsupported} is not supported: jobs run in a "
                        "pulled image and see the workspace at the engine's paths.")
            base = self.tool.get("baseCommand")
            first = base[0] if isinstance(base, list) and base else base
            if isinstance(first, str) and first.startswith("-"):
                raise UnsupportedRequirement(
                    f"The command starts with the option {first}: it relies on the ENTRYPOINT of "
                    "the DockerRequirement's image, which jobs do not run.")
        self.job_class.submitter.expect(runtimeContext.part_of)
        return self.job_class


def tool_factory(submitter: JobSubmitter):
    """A ``construct_tool_object`` making :class:`ReanaCommandLineTool` for CommandLineTools.

    cwltool makes a process object per workflow step, and checks the JavaScript of
    the process's document each time (jshint in Node.js: a tenth of a second per
    step on a busy machine, only ever warnings). Each document is checked once here:
    its warnings are in the log once, and the other steps running it skip the check.
    """
    job_class = type("ReanaJob", (ReanaCommandLineJob,), {"submitter": submitter})
    tool_class = type("ReanaTool", (ReanaCommandLineTool,), {"job_class": job_class})
    js_checked: set[str] = set()

    def make_tool(toolpath_object, loading_context):
        identifier = toolpath_object.get("id") if isinstance(toolpath_object, dict) else None
        if identifier:
            if identifier in js_checked:
                loading_context = loading_context.copy()
                loading_context.disable_js_validation = True
            js_checked.add(identifier)
        if isinstance(toolpath_object, dict) and \
                toolpath_object.get("class") == "CommandLineTool":
            return tool_class(toolpath_object, loading_context)
        return default_make_tool(toolpath_object, loading_context)

    return make_tool


@dataclass
class JobSpec:
    """What the job controller is told about one tool job besides its command."""

    image: str
    hints: dict
    display: str


def job_spec(job: CommandLineJob, default_image: str = DEFAULT_IMAGE) -> JobSpec:
    """Image (DockerRequirement), resources (ResourceRequirement) and ``reana`` hints of ``job``."""
    docker, _ = job.get_requirement("DockerRequirement")
    image = (docker or {}).get("dockerPull") or (docker or {}).get("dockerImageId") \
        or default_image
    hints = dict(_resource_fields(job))
    for item in [*job.hints, *job.requirements]:
        if isinstance(item, dict) and is_reana_hint(str(item.get("class", ""))):
            hints.update({k: v for k, v in item.items() if k != "class"})
    display = " ".join(shlex.quote(str(arg)) for arg in job.command_line)
    return JobSpec(str(image), hints, display)


def input_files(job: CommandLineJob) -> list[str]:
    """Paths of the File inputs of ``job`` (secondary files too): its declared inputs, whose
    SHA-256 the job controller records (provenance) and compares (job cache)."""
    found: set[str] = set()

    def visit(value) -> None:
        if isinstance(value, dict):
            if value.get("class") == "File" and value.get("path"):
                found.add(str(value["path"]))
            for item in value.values():
                visit(item)
        elif isinstance(value, list):
            for item in value:
                visit(item)

    visit(job.builder.job)
    return sorted(found)


def is_reana_hint(class_: str) -> bool:
    """Whether a hint's class is REANA's: ``reana`` (with ``$namespaces: {reana:
    http://reana.io}``), ``http://reana.io...``, or ``reana`` resolved against the
    document's location (without the namespace)."""
    return class_.startswith(REANA_NAMESPACE) or \
        class_.rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1] == "reana"


def _resource_fields(job: CommandLineJob) -> dict:
    """Kubernetes requests/limits of an explicit ResourceRequirement (cwltool's defaults not)."""
    requirement, _ = job.get_requirement("ResourceRequirement")
    if not requirement:
        return {}
    resources = job.builder.resources
    fields = {}
    if "coresMin" in requirement:
        fields["kubernetes_cpu_request"] = str(resources.get("cores"))
    if "coresMax" in requirement:
        fields["kubernetes_cpu_limit"] = str(resources.get("cores"))
    if "ramMin" in requirement:
        fields["kubernetes_memory_request"] = f"{int(resources.get('ram'))}Mi"
    if "ramMax" in requirement:
        fields["kubernetes_memory_limit"] = f"{int(resources.get('ram'))}Mi"
    return fields


def exit_status(job: CommandLineJob, code: int) -> bool:
    """Whether ``code`` is a success for ``job`` (cwltool's rule, successCodes first)."""
    if code in job.successCodes:
        return True
    if code in job.temporaryFailCodes or code in job.permanentFailCodes:
        return False
    return code == 0


class JobSubmitter:
    """Submits tool jobs to the run's job controller and waits for them."""

    def __init__(self, run, progress, default_image: str = DEFAULT_IMAGE):
        self.run_ = run
        self.progress = progress
        self.default_image = default_image

    def expect(self, step_name: str) -> None:
        """A job of ``step_name`` is about to be made (the total may grow)."""
        self.progress.job_made(step_name)

    def run(self, job: CommandLineJob, script: str, timelimit: int | None) -> int:
        """Run ``script`` as ``job``'s job; its exit code."""
        spec = job_spec(job, self.default_image)
        fields = job_request(self.run_, image=spec.image, name=job.name,
                             command_for_display=spec.display, hints=spec.hints)
        fields["input_files"] = input_files(job)
        fields["output_files"] = [str(job.outdir).rstrip("/") + "/"]  # its own output folder
        job_id = self.run_.submit(script, **fields)
        self.progress.started(job_id)
        record = self.run_.wait(job_id, timeout=timelimit or None)
        if record["status"] not in ("finished", "failed", "stopped"):
            self.run_.log.warning("[job %s] exceeded its time limit of %s s: stopping job %s",
                                  job.name, timelimit, job_id)
            self.run_.jobs.stop(job_id)
            record = self.run_.wait(job_id)
            code = TERMINATED
        elif record["status"] == "stopped":
            code = TERMINATED
        else:
            code = record.get("exit_code")
            code = (0 if record["status"] == "finished" else 1) if code is None else int(code)
        succeeded = exit_status(job, code)
        self.progress.ended(job_id, succeeded)
        if not succeeded:
            self._log_tail(job.name, job_id, record["status"], code)
        return code

    def _log_tail(self, name: str, job_id: str, status: str, code: int) -> None:
        try:
            lines = self.run_.jobs.logs(job_id).splitlines()[-LOG_TAIL_LINES:]
        except Exception as error:  # noqa: BLE001 - the failure is reported anyway
            lines = [f"(job logs unavailable: {error})"]
        self.run_.log.error("[job %s] job %s %s with exit code %s; last lines of its logs:\n%s",
                            name, job_id, status, code, "\n".join(lines))
