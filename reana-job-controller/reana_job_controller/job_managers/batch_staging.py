"""Workspace staging over SFTP, for clusters that do not share our file system.

Before a job, the files of the local workspace that changed since the last
sync are uploaded to a per-run remote workspace; after it, the remote files
that are new or changed are downloaded back, so the next step (local or on
the cluster) sees them. A manifest remembers ``(size, mtime)`` of each synced file
on both sides (mtimes are copied along), so unchanged files never travel
twice. Deletions are not propagated. A download never writes outside the
workspace, whatever the remote side names or links.
"""

from __future__ import annotations

import os
import posixpath
import threading
from pathlib import Path

from reana_job_controller.job_managers.batch_transport import SSHTransport


class WorkspaceStager:
    """Keeps one run's local workspace and its remote copy in sync."""

    def __init__(self, transport: SSHTransport, local: Path, remote: str):
        self.transport = transport
        self.local = Path(local).resolve()
        self.remote = remote
        self._synced: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def remote_path(self, local_path: str) -> str:
        """The remote counterpart of a path inside the local workspace (others unchanged)."""
        return local_path.replace(str(self.local), self.remote)

    def rewrite(self, text: str) -> str:
        """Replace every mention of the local workspace path with the remote one."""
        return text.replace(str(self.local), self.remote)

    def _local_files(self):
        for directory, subdirs, files in os.walk(self.local):
            subdirs[:] = [name for name in subdirs
                          if not os.path.islink(os.path.join(directory, name))]
            for name in files:
                path = Path(directory) / name
                if path.is_symlink() or not path.is_file():
                    continue
                info = path.stat()
                yield path.relative_to(self.local).as_posix(), path, (info.st_size,
                                                                      int(info.st_mtime))

    def stage_in(self) -> int:
        """Upload what changed locally; returns the number of files sent."""
        sent = 0
        with self._lock:
            if not self._synced:
                self.transport.makedirs(self.remote)
            for relative, path, signature in self._local_files():
                if self._synced.get(relative) == signature:
                    continue
                self.transport.upload(path, posixpath.join(self.remote, relative), signature[1])
                self._synced[relative] = signature
                sent += 1
        return sent

    def _safe_target(self, relative: str) -> Path | None:
        target = self.local / relative
        parent = target.parent
        parent.mkdir(parents=True, exist_ok=True)
        if not parent.resolve().is_relative_to(self.local) or target.is_symlink():
            return None
        return target

    def stage_out(self) -> int:
        """Download what is new or changed remotely; returns the number of files fetched."""
        fetched = 0
        with self._lock:
            for entry in self.transport.list_tree(self.remote):
                signature = (entry.size, entry.mtime)
                if self._synced.get(entry.path) == signature:
                    continue
                target = self._safe_target(entry.path)
                if target is None:
                    continue
                self.transport.download(posixpath.join(self.remote, entry.path), target)
                os.utime(target, (entry.mtime, entry.mtime))
                self._synced[entry.path] = signature
                fetched += 1
        return fetched
