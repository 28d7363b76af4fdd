"""The run owner's secrets, as the environment and files every job of the run gets.

Read once per job controller (on the first job), as REANA mounts a pod's
secrets when the pod starts. Env secrets become variables; file secrets are
written with mode 0600 into ``<run_dir>/secrets/`` (mode 0700, outside the
workspace) whose path jobs find in ``REANA_USER_SECRET_MOUNT_PATH``; the local run
manager deletes them when the run ends.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from reana_commons.config import JOB_SECRETS_FOLDER

SECRETS_PATH_VARIABLE = "REANA_USER_SECRET_MOUNT_PATH"


class UserSecrets:
    """Lazily loaded secrets of the run's owner."""

    def __init__(self, store, run_dir: Path):
        self.store = store
        self.directory = run_dir / JOB_SECRETS_FOLDER
        self._lock = threading.Lock()
        self._env: dict[str, str] | None = None
        self._has_files = False

    def _load(self) -> None:
        env: dict[str, str] = {}
        files: list[tuple[str, bytes]] = []
        for name, type_, value in self.store.owner_secrets():
            if type_ == "file":
                files.append((name, value))
            else:
                env[name] = value.decode(errors="replace")
        if files:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.directory, 0o700)
            for name, value in files:
                if Path(name).name in ("", ".", ".."):
                    continue  # a secret name is never a path
                path = self.directory / Path(name).name
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(descriptor, "wb") as handle:
                    handle.write(value)
            env[SECRETS_PATH_VARIABLE] = str(self.directory)
            self._has_files = True
        self._env = env

    def env(self) -> dict[str, str]:
        """Environment variables for every job (loads the secrets on first call)."""
        with self._lock:
            if self._env is None:
                self._load()
            return self._env

    def files_dir(self) -> Path | None:
        """The directory of file secrets, or None when the user has none."""
        self.env()
        return self.directory if self._has_files else None
