"""The ``slurm`` backend (also REANA's name ``slurmcern``): batch jobs on a Slurm cluster.

Mode: with ``SLURM_HOSTNAME`` empty, ``sbatch`` runs on this host; otherwise on
that login node over SSH (paramiko, port ``SLURM_CLUSTER_PORT``) as the run
owner, whose credentials come from their secrets: user name ``SLURM_USER`` (or
REANA's ``CERN_USER``), private key ``SLURM_SSH_PRIVATE_KEY`` (an env or file
secret; PEM/OpenSSH text or its base64; optional ``SLURM_SSH_KEY_PASSPHRASE``)
or password ``SLURM_SSH_PASSWORD``. Kerberos (REANA's ``CERN_KEYTAB``) is not
supported. With a shared file system (default only in local mode,
``REANA_SLURM_SHARED_FILE_SYSTEM``) the command runs in the workspace itself;
otherwise the workspace is staged over SFTP into
``~/<REANA_SLURM_REMOTE_WORKDIR>/<workflow uuid>/workspace``.

Per step: ``slurm_partition`` and ``slurm_time`` (defaults ``SLURM_PARTITION``,
``SLURM_JOB_TIMELIMIT``), ``unpacked_img``. The user's secrets are not handed to
Slurm jobs (as in REANA). One monitor thread asks Slurm about *all* live jobs
of the run with one ``squeue`` per period (``REANA_SLURM_MONITOR_INTERVAL``,
default 2 s), falling back to one ``sacct`` for jobs ``squeue`` has forgotten.
Transports, staging, the monitor and the wrapper are the batch layer's
(:mod:`.batch`); this module is Slurm's words only.
"""

from __future__ import annotations

import posixpath

from reana_commons.config import get_config

from reana_job_controller.job_managers.base import BackendState, JobRecord
from reana_job_controller.job_managers.batch import BatchSettings, PolledBatchJobManager
from reana_job_controller.job_managers.batch_transport import BatchCommandError
from reana_job_controller.job_managers.slurm_script import (
    batch_script,
    parse_exit_code,
    sbatch_options,
    state_for,
)

SQUEUE_FORMAT = "JobID:|,State:|,exit_code:"


class SlurmJobManager(PolledBatchJobManager):
    """Submits jobs with ``sbatch`` and follows all of them with one ``squeue`` per period."""

    name = "slurm"

    def settings(self) -> BatchSettings:
        c = self.config = get_config()
        return BatchSettings(
            label="Slurm", secret_prefix="SLURM", hostname=c.slurm_hostname,
            port=c.slurm_cluster_port, ssh_timeout=c.slurm_ssh_timeout,
            ssh_banner_timeout=c.slurm_ssh_banner_timeout,
            ssh_auth_timeout=c.slurm_ssh_auth_timeout, monitor_interval=c.slurm_monitor_interval,
            shared_file_system=c.slurm_shared_file_system, remote_workdir=c.slurm_remote_workdir)

    def submit_job(self, job: JobRecord, *, cmd: str, workdir: str, env: dict[str, str]) -> str:
        spec = job.spec or {}
        script = batch_script(cmd=cmd, image=job.docker_img, workdir=workdir, bind=workdir,
                              unpacked=bool(spec.get("unpacked_img")), env=env)
        script_path = posixpath.join(self.jobs_dir(), f"{job.id}.sh")
        self.transport.write_file(script_path, script.encode(), 0o700)
        options = sbatch_options(
            job_name=job.job_name, log_path=self.log_path(job.id), workdir=workdir,
            partition=spec.get("slurm_partition") or self.config.slurm_partition,
            time_limit=str(spec.get("slurm_time") or self.config.slurm_job_timelimit or ""),
        )
        output = self.transport.run(["sbatch", *options, script_path]).strip()
        slurm_id = output.splitlines()[-1].split(";")[0].strip() if output else ""
        if not slurm_id.isdigit():
            raise BatchCommandError(f"sbatch did not return a job id: {output!r}")
        return slurm_id

    def query(self, ids: list[str]) -> dict[str, tuple[str, int | None]]:
        """``squeue`` for all, ``sacct`` for the ids squeue has forgotten."""
        found = self._query_squeue(ids)
        missing = [i for i in ids if i not in found]
        if missing:
            found.update(self._query_sacct(missing))
        return found

    def map_state(self, batch_id: str, raw: tuple[str, int | None],
                  stop_requested: bool) -> BackendState:
        slurm_state, exit_code = raw
        return state_for(batch_id, slurm_state, exit_code, stop_requested)

    def cancel(self, batch_id: str) -> None:
        self.transport.run(["scancel", batch_id])

    def environment(self, job: JobRecord) -> dict:
        """The node(s) Slurm ran the job on (``sacct``) and how the step ran on them."""
        nodes = None
        if job.backend_job_id:
            output = self.transport.run(["sacct", "-X", "-n", "-P", "-o", "JobID,NodeList",
                                         "-j", job.backend_job_id], check=False)
            for line in output.splitlines():
                fields = line.split("|")
                if len(fields) == 2 and fields[0].strip() == job.backend_job_id:
                    nodes = fields[1].strip() or None
        runtime = "slurm"
        log = (job.logs or "").splitlines()  # stored just before (JobManager.complete)
        if log and log[0].startswith("[reana]"):
            runtime = f"slurm: {log[0].removeprefix('[reana]').strip()}"
        return {"node": nodes, "runtime": runtime[:255]}

    def _query_squeue(self, ids: list[str]) -> dict[str, tuple[str, int | None]]:
        output = self.transport.run(
            ["squeue", "-h", "--states=all", "-j", ",".join(ids), "-O", SQUEUE_FORMAT],
            check=False)
        return self._parse(output, ids)

    def _query_sacct(self, ids: list[str]) -> dict[str, tuple[str, int | None]]:
        output = self.transport.run(
            ["sacct", "-X", "-n", "-P", "-o", "JobID,State,ExitCode", "-j", ",".join(ids)],
            check=False)
        return self._parse(output, ids)

    @staticmethod
    def _parse(output: str, ids: list[str]) -> dict[str, tuple[str, int | None]]:
        wanted, found = set(ids), {}
        for line in output.splitlines():
            fields = [field.strip() for field in line.split("|")]
            if len(fields) >= 3 and fields[0] in wanted:
                try:
                    found[fields[0]] = (fields[1], parse_exit_code(fields[2]))
                except ValueError:
                    found[fields[0]] = (fields[1], None)
        return found
