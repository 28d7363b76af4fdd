"""How a batch backend reaches its cluster: commands and files, here or over SSH.

:class:`LocalTransport` runs the batch system's commands (``sbatch``,
``condor_submit``, ...) as subprocesses of this host (a login/submit node) and
uses the local file system. :class:`SSHTransport` does the same on a login node
over one paramiko connection (as REANA's ``slurmcern`` does), with SFTP for files;
it reconnects when the connection dropped. Both are safe to use from several
threads (one lock serializes the SSH channel and SFTP session).
"""

from __future__ import annotations

import base64
import io
import os
import posixpath
import shlex
import stat
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

COMMAND_TIMEOUT = 60.0


class BatchCommandError(RuntimeError):
    """A batch-system command failed (its stderr is in the message)."""


@dataclass(frozen=True)
class RemoteFile:
    """One file of a tree on the cluster side: relative path, size, mtime in seconds."""

    path: str
    size: int
    mtime: int


class LocalTransport:
    """Batch-system commands and files on this host."""

    def __init__(self, env: dict | None = None):
        self.env = env

    def run(self, argv: list[str], check: bool = True) -> str:
        """Run a command; returns stdout (raises :class:`BatchCommandError` when ``check``)."""
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT,
                                  stdin=subprocess.DEVNULL, env=self.env, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise BatchCommandError(f"{argv[0]}: {error}") from error
        if check and proc.returncode != 0:
            raise BatchCommandError(f"{shlex.join(argv)}: {proc.stderr.strip() or proc.returncode}")
        return proc.stdout

    def home(self) -> str:
        return str(Path.home())

    def write_file(self, path: str, data: bytes, mode: int = 0o600) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)

    def read_file(self, path: str) -> bytes | None:
        try:
            return Path(path).read_bytes()
        except FileNotFoundError:
            return None

    def read_file_from(self, path: str, offset: int, limit: int) -> bytes:
        """At most ``limit`` bytes of a file from ``offset`` on (b"" when it is missing)."""
        try:
            with open(path, "rb") as handle:
                handle.seek(offset)
                return handle.read(limit)
        except FileNotFoundError:
            return b""

    def remove(self, path: str) -> None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass

    def close(self) -> None:
        pass


class SSHTransport:
    """Batch-system commands and files on a login node, over SSH and SFTP (paramiko)."""

    def __init__(self, hostname: str, port: int, username: str, pkey=None, password=None,
                 timeout: float = 60, banner_timeout: float = 60, auth_timeout: float = 60):
        self.hostname = hostname
        self.port = port
        self.username = username
        self.pkey = pkey
        self.password = password
        self.timeouts = {"timeout": timeout, "banner_timeout": banner_timeout,
                         "auth_timeout": auth_timeout}
        self._lock = threading.RLock()
        self._client = None
        self._sftp = None
        self._home: str | None = None

    # --- connection -------------------------------------------------------------------------
    def _connect(self):
        import paramiko

        transport = self._client.get_transport() if self._client else None
        if transport is not None and transport.is_active():
            return self._client
        self.close()
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        try:
            client.connect(self.hostname, port=self.port, username=self.username, pkey=self.pkey,
                           password=self.password, allow_agent=False, look_for_keys=False,
                           **self.timeouts)
        except (paramiko.SSHException, OSError) as error:
            raise BatchCommandError(
                f"cannot connect to {self.username}@{self.hostname}:{self.port}: {error}"
            ) from error
        self._client = client
        return client

    def _sftp_client(self):
        client = self._connect()
        if self._sftp is None:
            self._sftp = client.open_sftp()
        return self._sftp

    def close(self) -> None:
        with self._lock:
            for handle in (self._sftp, self._client):
                try:
                    if handle is not None:
                        handle.close()
                except Exception:  # noqa: BLE001 - closing a dead connection
                    pass
            self._sftp = None
            self._client = None

    # --- commands ---------------------------------------------------------------------------
    def run(self, argv: list[str], check: bool = True) -> str:
        """Run a command on the login node; returns stdout."""
        import paramiko

        command = shlex.join(argv)
        with self._lock:
            for attempt in (1, 2):
                client = self._connect()
                try:
                    _, stdout, stderr = client.exec_command(command, timeout=COMMAND_TIMEOUT)
                    out = stdout.read().decode(errors="replace")
                    err = stderr.read().decode(errors="replace")
                    code = stdout.channel.recv_exit_status()
                    break
                except (paramiko.SSHException, OSError, EOFError) as error:
                    self.close()
                    if attempt == 2:
                        raise BatchCommandError(f"{command} over SSH: {error}") from error
        if check and code != 0:
            raise BatchCommandError(f"{command}: {err.strip() or code}")
        return out

    def home(self) -> str:
        with self._lock:
            if self._home is None:
                self._home = self._sftp_client().normalize(".")
            return self._home

    # --- files ------------------------------------------------------------------------------
    def _makedirs(self, sftp, directory: str) -> None:
        parts = []
        while directory not in ("", "/"):
            try:
                sftp.stat(directory)
                break
            except FileNotFoundError:
                parts.append(directory)
                directory = posixpath.dirname(directory)
        for path in reversed(parts):
            sftp.mkdir(path)

    def makedirs(self, directory: str) -> None:
        """Create ``directory`` and its parents on the login node."""
        with self._lock:
            self._makedirs(self._sftp_client(), directory)

    def write_file(self, path: str, data: bytes, mode: int = 0o600) -> None:
        with self._lock:
            sftp = self._sftp_client()
            self._makedirs(sftp, posixpath.dirname(path))
            sftp.putfo(io.BytesIO(data), path)
            sftp.chmod(path, mode)

    def read_file(self, path: str) -> bytes | None:
        with self._lock:
            buffer = io.BytesIO()
            try:
                self._sftp_client().getfo(path, buffer)
            except FileNotFoundError:
                return None
            return buffer.getvalue()

    def read_file_from(self, path: str, offset: int, limit: int) -> bytes:
        """At most ``limit`` bytes of a file from ``offset`` on (b"" when it is missing)."""
        with self._lock:
            try:
                with self._sftp_client().open(path, "rb") as handle:
                    handle.seek(offset)
                    return handle.read(limit)
            except FileNotFoundError:
                return b""

    def remove(self, path: str) -> None:
        with self._lock:
            try:
                self._sftp_client().remove(path)
            except FileNotFoundError:
                pass

    def upload(self, local: Path, remote: str, mtime: int) -> None:
        """Copy one local file to ``remote`` and give it ``mtime``."""
        with self._lock:
            sftp = self._sftp_client()
            self._makedirs(sftp, posixpath.dirname(remote))
            sftp.put(str(local), remote)
            sftp.utime(remote, (mtime, mtime))

    def download(self, remote: str, local: Path) -> None:
        """Copy one remote file to ``local`` (parents created)."""
        with self._lock:
            local.parent.mkdir(parents=True, exist_ok=True)
            self._sftp_client().get(remote, str(local))

    def list_tree(self, root: str) -> list[RemoteFile]:
        """Every regular file under ``root`` (relative paths), skipping symlinks."""
        found: list[RemoteFile] = []
        with self._lock:
            sftp = self._sftp_client()
            pending = [""]
            while pending:
                relative = pending.pop()
                directory = posixpath.join(root, relative) if relative else root
                try:
                    entries = sftp.listdir_attr(directory)
                except FileNotFoundError:
                    continue
                for entry in entries:
                    path = posixpath.join(relative, entry.filename) if relative else entry.filename
                    if stat.S_ISDIR(entry.st_mode):
                        pending.append(path)
                    elif stat.S_ISREG(entry.st_mode):
                        found.append(RemoteFile(path, entry.st_size, int(entry.st_mtime)))
        return found


def load_private_key(text: str, passphrase: str | None = None):
    """A paramiko key from PEM/OpenSSH text (or its base64), whatever its type."""
    import paramiko

    text = text.strip()
    if "PRIVATE KEY" not in text:
        try:
            text = base64.b64decode(text).decode()
        except ValueError:
            pass
    errors = []
    for key_class in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return key_class.from_private_key(io.StringIO(text), password=passphrase)
        except (paramiko.SSHException, ValueError) as error:
            errors.append(f"{key_class.__name__}: {error}")
    raise BatchCommandError("the SSH private key could not be read (" + "; ".join(errors) + ")")
