"""The ``htcondorcern`` backend (also ``htcondor``): steps as jobs of an HTCondor pool.

Mode: with ``HTCONDOR_HOSTNAME`` empty, ``condor_submit``/``condor_q``/``condor_history``/
``condor_rm`` run on this host (a submit node); otherwise on that submit node over SSH
(port ``HTCONDOR_CLUSTER_PORT``) as the run owner, with their secrets ``HTCONDOR_USER``
(or REANA's ``CERN_USER``) and ``HTCONDOR_SSH_PRIVATE_KEY`` (or ``HTCONDOR_SSH_PASSWORD``),
the workspace staged over SFTP unless ``REANA_HTCONDOR_SHARED_FILE_SYSTEM``. Between the
submit node and the execute nodes, ``REANA_HTCONDOR_SHOULD_TRANSFER_FILES`` (``YES``,
default, or ``NO`` for a shared file system) chooses HTCondor's file transfer.

Per step: ``htcondor_max_runtime`` (a CERN flavour → ``+JobFlavour``, or seconds →
``+MaxRuntime``), ``htcondor_accounting_group``, ``kubernetes_memory_limit`` →
``request_memory``, ``unpacked_img``; the image gives the container universe. One monitor
thread asks about *all* live jobs with one ``condor_q -json`` per period
(``REANA_HTCONDOR_MONITOR_INTERVAL``, default 2 s), and one ``condor_history -json`` for the
jobs that left the queue. Stop is ``condor_rm``. Held jobs (except HoldReasonCode 16, 35)
are removed and failed with their HoldReason; removed jobs fail with their RemoveReason.
Kerberos as REANA does it: when the run owner has the secrets ``CERN_USER`` and
``CERN_KEYTAB`` (the name of their keytab, uploaded as a file secret), local mode runs
``kinit -kt <keytab> <CERN_USER>@<REANA_HTCONDOR_KERBEROS_REALM>`` (default ``CERN.CH``) into
a credential cache of the run, renewed before a submission once it is an hour old, and every
``condor_*`` command gets it in ``KRB5CCNAME``.
"""

from __future__ import annotations

import json
import os
import posixpath
import subprocess
import tarfile
import time
from pathlib import Path

from reana_commons.config import get_config

from reana_job_controller.job_managers.base import BackendState, JobRecord
from reana_job_controller.job_managers.batch import BatchSettings, PolledBatchJobManager
from reana_job_controller.job_managers.batch_transport import BatchCommandError
from reana_job_controller.job_managers.htcondor_submit import (
    QUERY_ATTRIBUTES,
    WRAPPER,
    check_environment,
    memory_megabytes,
    runtime_commands,
    state_for,
    submit_description,
)


class HTCondorJobManager(PolledBatchJobManager):
    """Submits with ``condor_submit``; follows every live job with one ``condor_q`` per period."""

    name = "htcondorcern"

    def settings(self) -> BatchSettings:
        c = self.config = get_config()
        return BatchSettings(
            label="HTCondor", secret_prefix="HTCONDOR", hostname=c.htcondor_hostname,
            port=c.htcondor_cluster_port, ssh_timeout=c.htcondor_ssh_timeout,
            ssh_banner_timeout=c.htcondor_ssh_timeout, ssh_auth_timeout=c.htcondor_ssh_timeout,
            monitor_interval=c.htcondor_monitor_interval,
            shared_file_system=c.htcondor_shared_file_system,
            remote_workdir=c.htcondor_remote_workdir)

    # --- Kerberos (local mode) ------------------------------------------------------------------
    KINIT_EVERY_SECONDS = 3600.0
    _kinit_at = 0.0

    def _keytab(self) -> tuple[str, Path] | None:
        secrets = self.context.job_env()
        name, user = secrets.get("CERN_KEYTAB"), secrets.get("CERN_USER")
        files_dir = self.context.secret_files_dir()
        if not name or not user or files_dir is None:
            return None
        keytab = files_dir / Path(name).name
        if not keytab.is_file():
            raise BatchCommandError(f"Kerberos: the secret CERN_KEYTAB names {name}, "
                                    "which is not one of the user's file secrets")
        return user, keytab

    def _ccache(self) -> Path:
        return self.context.run_dir / self.name / "krb5cc"

    def _kinit(self) -> None:
        user, keytab = self._keytab()
        principal = f"{user}@{self.config.htcondor_kerberos_realm}"
        self._ccache().parent.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, KRB5CCNAME=f"FILE:{self._ccache()}")
        try:
            proc = subprocess.run(["kinit", "-kt", str(keytab), principal], env=env,
                                  capture_output=True, text=True, timeout=60, check=False,
                                  stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise BatchCommandError(f"Kerberos: kinit failed: {error}") from error
        if proc.returncode != 0:
            raise BatchCommandError(f"Kerberos: kinit {principal} failed: "
                                    f"{proc.stderr.strip() or proc.returncode}")
        self._kinit_at = time.monotonic()

    def local_env(self) -> dict[str, str] | None:
        if self._keytab() is None:
            return None
        self._kinit()
        return dict(os.environ, KRB5CCNAME=f"FILE:{self._ccache()}")

    def check_request(self, request: dict) -> None:
        runtime_commands(request.get("htcondor_max_runtime"))
        memory_megabytes(request.get("kubernetes_memory_limit"))
        check_environment(request.get("env_vars") or {})

    # --- files of a job -----------------------------------------------------------------------
    def _path(self, job_id: str, suffix: str) -> str:
        return posixpath.join(self.jobs_dir(), f"{job_id}.{suffix}")

    def log_path(self, job_id: str) -> str:
        return self._path(job_id, "out")

    def job_files(self, job: JobRecord) -> list[str]:
        files = [self._path(job.id, suffix) for suffix in ("out", "err", "sub")]
        if job.backend_job_id:
            files.append(self._outputs(job.backend_job_id))
        return files

    def _outputs(self, cluster: str) -> str:
        """Where HTCondor puts a job's outputs tarball (``$(ClusterId)`` in the description)."""
        return posixpath.join(self.jobs_dir(), f"{cluster}.outputs.tar")

    def _wrapper(self) -> str:
        path = posixpath.join(self.jobs_dir(), "reana-htcondor-wrapper.sh")
        if self.transport.read_file(path) != WRAPPER.encode():
            self.transport.write_file(path, WRAPPER.encode(), 0o755)
        return path

    # --- the hooks ----------------------------------------------------------------------------
    def submit_job(self, job: JobRecord, *, cmd: str, workdir: str, env: dict[str, str]) -> str:
        spec = job.spec or {}
        transport = self.transport  # local mode: kinit first, when the user has a keytab
        if (not self.remote and self._kinit_at
                and time.monotonic() - self._kinit_at > self.KINIT_EVERY_SECONDS):
            self._kinit()
        transfer = self.config.htcondor_should_transfer_files
        if transfer:
            cmd = cmd.replace(workdir, "$_CONDOR_SCRATCH_DIR")
        text = submit_description(
            wrapper=self._wrapper(), cmd=cmd, workdir=workdir, transfer=transfer, env=env,
            image=job.docker_img, unpacked=bool(spec.get("unpacked_img")),
            out=self._path(job.id, "out"), err=self._path(job.id, "err"),
            outputs=self._outputs("$(ClusterId)"), job_name=job.job_name,
            cpus=None, memory_mb=memory_megabytes(spec.get("kubernetes_memory_limit")),
            max_runtime=spec.get("htcondor_max_runtime"),
            accounting_group=spec.get("htcondor_accounting_group"))
        path = self._path(job.id, "sub")
        transport.write_file(path, text.encode(), 0o600)
        output = transport.run(["condor_submit", "-terse", path]).strip()
        cluster = output.splitlines()[-1].split(".")[0].strip() if output else ""
        if not cluster.isdigit():
            raise BatchCommandError(f"condor_submit did not return a cluster id: {output!r}")
        return cluster

    def query(self, ids: list[str]) -> dict[str, dict]:
        """One ``condor_q`` for all; one ``condor_history`` for those that left the queue."""
        found = self._ads(["condor_q", "-json", "-attributes", ",".join(QUERY_ATTRIBUTES),
                           *ids], ids)
        missing = [i for i in ids if i not in found]
        if missing:
            constraint = " || ".join(f"ClusterId == {i}" for i in missing)
            found.update(self._ads(["condor_history", "-json", "-attributes",
                                    ",".join(QUERY_ATTRIBUTES), "-constraint", constraint,
                                    "-limit", str(len(missing))], missing))
        return found

    def _ads(self, argv: list[str], ids: list[str]) -> dict[str, dict]:
        output = self.transport.run(argv).strip()
        ads = json.loads(output) if output else []
        wanted = set(ids)
        return {str(ad["ClusterId"]): ad for ad in ads if str(ad.get("ClusterId")) in wanted}

    def map_state(self, batch_id: str, raw: dict, stop_requested: bool) -> BackendState:
        state = state_for(batch_id, raw, stop_requested)
        if raw.get("JobStatus") == 5 and state.is_terminal:
            self.transport.run(["condor_rm", batch_id], check=False)  # do not leave it held
        return state

    def cancel(self, batch_id: str) -> None:
        self.transport.run(["condor_rm", batch_id], check=False)

    def collect_outputs(self, batch_id: str) -> None:
        """Unpack the job's outputs tarball (file-transfer mode) into the workspace copy."""
        if not self.config.htcondor_should_transfer_files:
            return
        tarball = self._outputs(batch_id)
        if self.remote:
            workspace = (self.stager.remote if self.stager is not None
                         else str(self.context.workspace))
            self.transport.run(["tar", "--no-same-owner", "-xf", tarball, "-C", workspace],
                               check=False)
            return
        if Path(tarball).is_file():
            with tarfile.open(tarball) as archive:
                archive.extractall(self.context.workspace, filter="data")
