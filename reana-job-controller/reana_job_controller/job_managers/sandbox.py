"""What a local job may see: a bubblewrap sandbox, a hardened container, or (explicitly) all.

With the default ``REANA_LOCAL_JOB_ISOLATION=bwrap`` every job runs under bubblewrap in new
mount, pid, ipc and network namespaces. Its root file system holds only

* the system directories, read-only: ``/usr`` (with ``/bin``, ``/lib``... as on the host) and
  ``/etc`` with the host's secrets masked (:data:`HOST_SECRETS`);
* the paths the operator allows, read-only (``REANA_LOCAL_JOB_READONLY_PATHS``, ``:``-separated,
  e.g. ``/cvmfs``); ``REANA_HOME`` and the shared volume are masked where they lie below one;
* the job's own workspace, read-write, at its own path, and the run owner's file secrets,
  read-only, at their host path (``REANA_USER_SECRET_MOUNT_PATH``);
* a private ``/tmp`` (also ``HOME``), ``/proc`` of its own pid namespace and a minimal ``/dev``.

So the platform's home (secret key, database file, broker, other runs), other workspaces, the
PostgreSQL socket and the supervisor socket are not there, and with ``REANA_LOCAL_JOB_NETWORK=none``
(the default) the job has its own loopback only: no internal API, no database, no broker port is
reachable. ``host`` keeps the host's network (then loopback services are reachable; see the README).

When the platform runs as root, the job runs as ``REANA_LOCAL_JOB_UID``/``GID`` (65530) with no
capabilities: bwrap mounts as root, because workspaces may lie below directories only root may
enter, and ``setpriv`` drops to that uid right before the job's shell. The workspace (and the
secrets) are handed to that uid before each job (:mod:`.ownership`). When the platform runs as an
ordinary user, bwrap runs as that user in a user namespace of its own.

``REANA_LOCAL_JOB_ISOLATION=none`` runs jobs unsandboxed as the platform's user (a single-user
laptop); every job's log says so. With ``REANA_CONTAINER_RUNTIME=podman`` the container is the
sandbox and :meth:`Sandbox.container_args` hardens it the same way (no network, no capabilities,
the unprivileged uid, only the workspace and the secrets mounted).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from reana_commons.config import get_config

from reana_job_controller.job_managers.ownership import TreeOwner

ISOLATIONS = ("bwrap", "none")
NETWORKS = ("none", "host")
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
"""Bound read-only (a symlink, as in merged-/usr systems, is recreated as a symlink)."""
HOST_SECRETS = ("/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/ssh",
                "/etc/ssl/private", "/etc/munge", "/etc/krb5.keytab", "/etc/sudoers",
                "/etc/sudoers.d", "/etc/mysql/debian.cnf")
"""Masked inside ``/etc`` (most are unreadable to the job's uid anyway: defence in depth)."""
JOB_TMP = "/tmp"
SECRETS_VARIABLE = "REANA_USER_SECRET_MOUNT_PATH"
INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap), or set "
                "REANA_LOCAL_JOB_ISOLATION=none to run jobs unsandboxed as the platform's own "
                "user (single-user machines only)")


class SandboxUnavailable(RuntimeError):
    """Jobs cannot be isolated as configured; the message says what the operator must do."""


@dataclass(frozen=True)
class Sandbox:
    """The isolation policy of local jobs (one per job manager, from the configuration)."""

    isolation: str = "bwrap"
    network: str = "none"
    readonly_paths: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()
    """Platform paths a job must never see (``REANA_HOME``, the shared volume)."""
    uid: int | None = None
    """The job's uid when the platform runs as root; None: the platform's own uid."""
    gid: int | None = None
    bwrap: str = "bwrap"
    setpriv: str = "setpriv"
    secrets_path: str = "/etc/reana/secrets"
    """Where jobs find the run owner's file secrets (``REANA_USER_SECRET_MOUNT_PATH``), as in
    REANA's pods."""
    owner: TreeOwner | None = field(default=None, compare=False, repr=False)
    """Hands workspaces to ``uid`` (None when jobs keep the platform's uid)."""

    @classmethod
    def from_config(cls, config=None) -> Sandbox:
        """The configured policy; raises :class:`SandboxUnavailable` when it cannot hold."""
        config = config or get_config()
        if config.local_job_isolation not in ISOLATIONS:
            raise SandboxUnavailable(
                f"REANA_LOCAL_JOB_ISOLATION={config.local_job_isolation} is not one of "
                f"{', '.join(ISOLATIONS)}.")
        if config.local_job_network not in NETWORKS:
            raise SandboxUnavailable(
                f"REANA_LOCAL_JOB_NETWORK={config.local_job_network} is not one of "
                f"{', '.join(NETWORKS)}.")
        hidden = tuple(dict.fromkeys(str(Path(p).resolve())
                                     for p in (config.home, config.shared_volume_path)))
        readonly = []
        for path in config.local_job_readonly_paths:
            if not os.path.isabs(path):
                raise SandboxUnavailable(f"REANA_LOCAL_JOB_READONLY_PATHS: {path} is not absolute.")
            path = os.path.normpath(path)
            if any(_within(os.path.realpath(path), secret) for secret in hidden):
                raise SandboxUnavailable(
                    f"REANA_LOCAL_JOB_READONLY_PATHS: {path} lies inside REANA_HOME or the "
                    "shared volume, which jobs must not see.")
            readonly.append(path)
        uid = gid = None
        if os.geteuid() == 0:
            uid, gid = config.local_job_uid, config.local_job_gid
            if uid == 0 or gid == 0:
                raise SandboxUnavailable("REANA_LOCAL_JOB_UID/GID must not be 0 (root).")
        return cls(isolation=config.local_job_isolation, network=config.local_job_network,
                   readonly_paths=tuple(readonly), hidden=hidden, uid=uid, gid=gid,
                   bwrap=shutil.which("bwrap") or "", setpriv=shutil.which("setpriv") or "",
                   secrets_path=os.path.normpath(config.user_secret_mount_path),
                   owner=TreeOwner(uid, gid) if uid is not None else None)

    @property
    def enabled(self) -> bool:
        return self.isolation != "none"

    def check(self) -> None:
        """Raise :class:`SandboxUnavailable` when bwrap (or setpriv, as root) is missing."""
        if not self.enabled:
            return
        if not self.bwrap:
            raise SandboxUnavailable(f"Local jobs run sandboxed, but bwrap is not installed: "
                                     f"{INSTALL_HINT}.")
        if self.uid is not None and not self.setpriv:
            raise SandboxUnavailable("Local jobs run as an unprivileged user, but setpriv "
                                     "(util-linux) is not installed.")

    # --- files ---------------------------------------------------------------------------
    def prepare(self, workspace: Path, secrets_dir: Path | None = None) -> None:
        """Hand the workspace (and the secrets) to the job's uid when it is not the platform's."""
        if not self.enabled or self.owner is None:
            return
        self.owner.hand_over(workspace)
        if secrets_dir is not None:
            self.owner.hand_over(secrets_dir)

    # --- bubblewrap ----------------------------------------------------------------------
    def argv(self, workspace: Path, secrets_dir: Path | None, status_fd: int | None,
             command: list[str], binds: tuple[str, ...] = ()) -> list[str]:
        """bwrap's argv running ``command`` in ``workspace``; status JSON goes to ``status_fd``.

        ``binds``: more host folders the command may write, at their own path (an
        interactive session's socket folder); no status JSON when ``status_fd`` is None.
        """
        workspace = str(workspace)
        argv = [self.bwrap, *_system_mounts(), "--proc", "/proc", "--dev", "/dev",
                "--perms", "1777", "--tmpfs", JOB_TMP]
        allowed = [p for p in self.readonly_paths if os.path.exists(p)]
        bound = [*_system_dirs(), *allowed]
        for path in allowed:  # after /tmp: an allowed path may lie below it
            argv += _parent_dirs(path, bound, [JOB_TMP]) + ["--ro-bind", path, path]
        masks = [p for p in self.hidden if any(_within(p, b) for b in bound)
                 and not any(m != p and _within(p, m) for m in self.hidden)]
        for path in masks:
            argv += ["--tmpfs", path]
        tmpfs = [JOB_TMP, *masks]
        argv += _parent_dirs(workspace, bound, tmpfs) + ["--bind", workspace, workspace]
        for path in binds:
            argv += _parent_dirs(str(path), bound, tmpfs) + ["--bind", str(path), str(path)]
        if secrets_dir is not None:
            argv += _secret_mounts(str(secrets_dir), self.secrets_path, bound, tmpfs)
        # pid: no other process is visible or signalable; ipc: no SysV shared memory of other
        # jobs (all run as the same uid). uts and cgroup namespaces were left out: they hide
        # nothing a job could misuse and cost a few ms per job each (README, "Job isolation").
        argv += ["--chdir", workspace, "--unshare-pid", "--unshare-ipc"]
        if self.network == "none":
            argv.append("--unshare-net")
        if status_fd is not None:
            argv += ["--json-status-fd", str(status_fd)]
        if self.uid is None:
            return [*argv, "--unshare-user", "--disable-userns", "--", *command]
        # bwrap keeps only these two capabilities; setpriv uses them to become the job's user
        # and with that loses every capability before the job's shell starts.
        return [*argv, "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--",
                self.setpriv, f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups",
                "--inh-caps=-all", "--no-new-privs", "--", *command]

    def job_env(self, env: dict) -> dict:
        """The job's environment inside the sandbox (host-only paths replaced)."""
        if not self.enabled:
            return env
        env = {k: v for k, v in env.items() if k not in ("XDG_RUNTIME_DIR",)}
        env["HOME"] = env["TMPDIR"] = JOB_TMP
        if SECRETS_VARIABLE in env:
            env[SECRETS_VARIABLE] = self.secrets_path
        return env

    def describe(self) -> str:
        """How host jobs run, in a few words (provenance's ``runtime``)."""
        if not self.enabled:
            return "host (no isolation; image not used)"
        return "host in a bubblewrap sandbox (image not used)"

    def banner(self, image: str) -> str:
        """The first line of a host job's log: how it is isolated."""
        if not self.enabled:
            return ("[reana] job isolation is OFF (REANA_LOCAL_JOB_ISOLATION=none): running on "
                    "the host as the platform's own user, with access to everything it can "
                    f"read; image {image} not used\n")
        user = f"uid {self.uid}" if self.uid is not None else "the platform's uid"
        return (f"[reana] running on the host in a bubblewrap sandbox (only its workspace "
                f"writable, network {self.network}, {user}); image {image} not used\n")

    # --- containers ----------------------------------------------------------------------
    def container_args(self) -> list[str]:
        """Options hardening a ``podman run`` of a job the same way."""
        if not self.enabled:
            return ["--network", "host"]
        args = ["--network", self.network, "--cap-drop", "all",
                "--security-opt", "no-new-privileges"]
        if self.uid is not None:
            args += ["--user", f"{self.uid}:{self.gid}", "--env", f"HOME={JOB_TMP}"]
        return args


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


@cache
def _system_dirs() -> tuple[str, ...]:
    return tuple(p for p in SYSTEM_DIRS if os.path.isdir(p) and not os.path.islink(p))


@cache
def _system_mounts() -> tuple[str, ...]:
    """Read-only binds of the host's system directories, secrets masked (the host does not
    change under a running platform)."""
    args: list[str] = []
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in HOST_SECRETS:
        if os.path.islink(path) or not os.path.lexists(path):
            continue
        args += ["--tmpfs", path] if os.path.isdir(path) else ["--ro-bind", "/dev/null", path]
    return tuple(args)


def _secret_mounts(secrets: str, target: str, bound: list[str], tmpfs: list[str]) -> list[str]:
    """Options putting the secrets folder read-only at ``target`` (``/etc/reana/secrets``).

    ``target``'s missing part cannot be created inside a read-only bind (``/etc``): its deepest
    existing folder is then rebuilt as a tmpfs holding read-only binds of what the host has there
    (the host's secrets masked again), and the rest is created in it.
    """
    existing = target
    while not os.path.isdir(existing) and existing != "/":
        existing = os.path.dirname(existing)
    args: list[str] = []
    covered = [m for m in (*bound, *tmpfs) if _within(existing, m)]
    if existing != target and max(covered, key=len, default=None) in bound:
        args += ["--perms", "0755", "--tmpfs", existing]
        for entry in sorted(os.listdir(existing)):
            path = os.path.join(existing, entry)
            if os.path.islink(path):
                args += ["--symlink", os.readlink(path), path]
            else:
                args += ["--ro-bind-try", path, path]
        for path in HOST_SECRETS:
            if _within(path, existing) and os.path.lexists(path) and not os.path.islink(path):
                args += ["--tmpfs", path] if os.path.isdir(path) else ["--ro-bind", "/dev/null",
                                                                       path]
        tmpfs = [*tmpfs, existing]
    return [*args, *_parent_dirs(target, bound, tmpfs), "--perms", "0755", "--dir", target,
            "--ro-bind", secrets, target]


def _parent_dirs(target: str, bound: list[str], tmpfs: list[str]) -> list[str]:
    """``--dir`` options creating ``target``'s missing parents world-searchable (bwrap would
    copy the host's modes, and a 0700 parent would hide an absolute workspace path from the job).
    A parent below a read-only bind exists already, unless a tmpfs (``/tmp``, a mask) covers it."""
    args: list[str] = []
    parts = Path(target).parts
    for depth in range(2, len(parts)):
        parent = str(Path(*parts[:depth]))
        covering = [m for m in (*bound, *tmpfs) if _within(parent, m)]
        deepest = max(covering, key=len, default=None)
        if deepest == parent or (deepest is not None and deepest in bound):
            continue
        args += ["--perms", "0755", "--dir", parent]
    return args


def probe(sandbox: Sandbox | None = None) -> str:
    """Run ``true`` in a sandbox exactly as jobs run; returns a description or raises."""
    sandbox = sandbox or Sandbox.from_config()
    sandbox.check()
    if not sandbox.enabled:
        return "local jobs are NOT isolated (REANA_LOCAL_JOB_ISOLATION=none)"
    with tempfile.TemporaryDirectory(prefix="reana-sandbox-probe-") as workspace, \
            tempfile.TemporaryFile() as status:
        sandbox.prepare(Path(workspace))
        argv = sandbox.argv(Path(workspace), None, status.fileno(), ["bash", "-c", "true"])
        result = subprocess.run(argv, pass_fds=(status.fileno(),), capture_output=True,
                                text=True, timeout=60, check=False)
        if result.returncode != 0:
            raise SandboxUnavailable(f"a sandboxed job could not start: {result.stderr.strip()} "
                                     f"(to run jobs unsandboxed: {INSTALL_HINT})")
    return sandbox.banner("-").split(";")[0].removeprefix("[reana] ")


def main() -> int:
    """``python -m reana_job_controller.job_managers.sandbox``: check before the platform starts."""
    config = get_config()
    try:
        if "local" not in config.compute_backends:
            print("job isolation: the local backend is not enabled")
        elif config.container_runtime:
            args = " ".join(Sandbox.from_config(config).container_args())
            print(f"job isolation: {config.container_runtime} containers ({args})")
        else:
            print(f"job isolation: {probe()}")
    except SandboxUnavailable as error:
        print(f"job isolation: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
