"""The files of a workspace as last seen, kept up to date at the cost of one ``fstat`` per folder.

Provenance (ADR 0028) needs, when a job starts, which files exist (a file that appears later is
the job's output) and, when it ended, which files are new or changed. Reading every file's
state twice per job costs two full ``stat`` walks (50 ms of CPU each for 10,000 files).
:func:`snapshot` makes the full walk once, when a job ends; :func:`refresh`, when the next job
starts, only re-reads the folders whose inode or modification time changed since: a file is
created, removed or renamed only by changing its folder, so an unchanged folder has the same
names. Files changed *in place* since the snapshot keep their old state here; the provenance
recorder tells those apart from the job's own changes by their modification time.

A folder modified within :data:`RACY_NS` of its listing is listed again: the file system's
clock is coarse, so an entry created right after a listing may leave the folder's time as it
was. Symbolic links are never followed; only regular files are recorded.
"""

from __future__ import annotations

import os
import stat
import tempfile
import time
from dataclasses import dataclass, field

from reana_commons.workspace.fingerprints import open_quietly

FileState = tuple[int, int, int]
"""``(size, mtime_ns, inode)`` of a regular file."""

RACY_NS = 1_000_000_000


@dataclass(frozen=True)
class Folder:
    """A folder as listed: its identity and time, and its entries' names."""

    inode: int
    mtime_ns: int
    listed_ns: int
    files: tuple[str, ...]
    subfolders: tuple[str, ...]


@dataclass(frozen=True)
class TreeState:
    """Regular files below a root (relative POSIX path → state) and the folders listed.

    Never changed once made (callers keep references to earlier states).
    """

    files: dict[str, FileState] = field(default_factory=dict)
    folders: dict[str, Folder] = field(default_factory=dict)
    taken_ns: int = 0


def snapshot(root: str | os.PathLike) -> TreeState:
    """Every regular file and folder below ``root``: one ``stat`` per entry."""
    return _walk(os.fspath(root), None)


def refresh(root: str | os.PathLike, previous: TreeState | None) -> TreeState:
    """``previous`` with the folders changed since re-listed (a full walk without one)."""
    return _walk(os.fspath(root), previous)


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _walk(root: str, previous: TreeState | None) -> TreeState:
    """Folders are read through descriptors relative to ``root``'s (``fstatat``, ``openat``):
    the kernel does not resolve the workspace's own path again for every entry (half the cost
    of a ``stat`` by full path here)."""
    started = time.time_ns()
    files: dict[str, FileState] = {}
    folders: dict[str, Folder] = {}
    try:
        root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return TreeState(files, folders, started)
    try:
        pending = [""]
        while pending:
            relative = pending.pop()
            try:
                info = (os.stat(relative, dir_fd=root_fd, follow_symlinks=False) if relative
                        else os.fstat(root_fd))
            except OSError:
                continue
            if not stat.S_ISDIR(info.st_mode):
                continue  # swapped for a link or a file since it was listed: not followed
            known = previous.folders.get(relative) if previous is not None else None
            if (known is not None and known.inode == info.st_ino
                    and known.mtime_ns == info.st_mtime_ns
                    and info.st_mtime_ns < known.listed_ns - RACY_NS):
                prefix = relative + "/" if relative else ""
                for name in known.files:
                    state = previous.files.get(prefix + name)
                    if state is not None:
                        files[prefix + name] = state
                folders[relative] = known
            else:
                folder = _list(root_fd, relative, info, files)
                if folder is None:
                    continue
                folders[relative] = folder
            prefix = relative + "/" if relative else ""
            pending.extend(prefix + name for name in folders[relative].subfolders)
    finally:
        os.close(root_fd)
    return TreeState(files, folders, started)


def _list(root_fd: int, relative: str, info: os.stat_result,
          files: dict[str, FileState]) -> Folder | None:
    """List the folder ``relative`` (whose state before listing is ``info``) into ``files``.

    Entries are told apart by the type the folder itself gives (no ``stat`` for folders,
    links and special files); each regular file costs one ``fstatat``.
    """
    listed = time.time_ns()
    prefix = relative + "/" if relative else ""
    names, subfolders = [], []
    try:
        fd = open_quietly(relative or ".", _DIR_FLAGS, root_fd)
    except OSError:
        return None
    try:  # the entries are read from a duplicate of ``fd`` and stat'ed through ``fd``
        with os.scandir(fd) as entries:
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        subfolders.append(entry.name)
                        continue
                    if not entry.is_file(follow_symlinks=False):
                        continue
                    entry_info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISREG(entry_info.st_mode):
                    names.append(entry.name)
                    files[prefix + entry.name] = (entry_info.st_size, entry_info.st_mtime_ns,
                                                  entry_info.st_ino)
    except OSError:  # not readable: left out, as if gone
        return None
    finally:
        os.close(fd)
    return Folder(info.st_ino, info.st_mtime_ns, listed, tuple(names), tuple(subfolders))


PROBES = 20


def fine_grained_times(directory: str | os.PathLike) -> bool:
    """Whether a file written right after its state was read always gets a new mtime here.

    Linux 6.13+ gives a file changed after a ``stat`` read its times a fine-grained timestamp
    (multigrain timestamps: ext4, xfs, btrfs, tmpfs): a digest read then stays right as long
    as the state is the same, however young the file was. Elsewhere times come from a coarse
    clock (one tick, 1-10 ms) and two writes in one tick can leave the same state. Probed with
    a scratch file in ``directory`` (which must be on the workspace's file system): each of
    :data:`PROBES` write, ``fstat``, write within microseconds must show a new mtime (with a
    coarse clock nearly every pair falls within one tick). False when it cannot be probed.
    """
    try:
        fd, path = tempfile.mkstemp(prefix=".reana-time-probe-", dir=directory)
    except OSError:
        return False
    try:
        for _ in range(PROBES):
            os.pwrite(fd, b"a", 0)
            first = os.fstat(fd).st_mtime_ns
            os.pwrite(fd, b"b", 0)
            if os.fstat(fd).st_mtime_ns == first:
                return False
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
        os.unlink(path)
