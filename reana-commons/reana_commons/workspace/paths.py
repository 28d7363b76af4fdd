"""Resolve user-given paths inside a workspace, or refuse them.

The rule: a path a user gives is a relative POSIX path; it may not be absolute,
contain NUL bytes or a ``..`` component, and once every symbolic link on the way
is followed it must still designate something inside the workspace. Symbolic
links that stay inside the workspace are allowed (jobs create them).

Percent-decoding (``data%2Fa.txt``) is the caller's job: REST handlers decode
their path parameters before calling in here. A leading ``/`` on upload names
(REANA's client sends ``/data/a.txt``) is likewise stripped by the caller; this
module refuses absolute paths.

Checks on a path string are subject to races with processes that change the
tree at the same time (a job replacing a directory by a symlink), so the
functions that open or create files (:func:`open_file`, :func:`open_real_dir`)
walk the already resolved path again with ``O_NOFOLLOW`` on every component,
relative to directory file descriptors: a component swapped for a symlink after
the check makes the operation fail instead of escaping.
"""

from __future__ import annotations

import errno
import os
import stat
from contextlib import contextmanager
from pathlib import Path

from reana_commons.errors import WorkspaceFileNotFound, WorkspaceNotFound, WorkspacePathError

MAX_NAME_BYTES = 255
"""Longest file name (one path component) file systems store (``NAME_MAX``)."""
MAX_PATH_BYTES = 4000
"""Longest relative path accepted (below ``PATH_MAX`` with the workspace's own path)."""
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


def workspace_root(workspace: str | os.PathLike) -> str:
    """The workspace's real absolute path; raises :class:`WorkspaceNotFound`."""
    root = os.path.realpath(os.fspath(workspace))
    if not os.path.isdir(root):
        raise WorkspaceNotFound("Workspace does not exist.")
    return root


def split_user_path(user_path: str) -> list[str]:
    """Components of a user path (``""`` and ``.`` dropped); refuses unsafe input."""
    if not isinstance(user_path, str):
        raise WorkspacePathError(f"Path {user_path!r} is not a string.")
    if "\x00" in user_path:
        raise WorkspacePathError("Path must not contain NUL bytes.")
    if user_path.startswith("/"):
        raise WorkspacePathError(f"Path '{user_path}' must be relative to the workspace.")
    parts = [part for part in user_path.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise WorkspacePathError(f"Path '{user_path}' must not contain '..'.")
    if len(_os_bytes(user_path)) > MAX_PATH_BYTES:
        raise WorkspacePathError(
            f"Path '{user_path[:64]}...' is longer than {MAX_PATH_BYTES} bytes."
        )
    for part in parts:
        if len(_os_bytes(part)) > MAX_NAME_BYTES:
            raise WorkspacePathError(
                f"File name '{part[:64]}...' is longer than {MAX_NAME_BYTES} bytes."
            )
    return parts


def _os_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def is_inside(root: str, real_path: str) -> bool:
    """Whether ``real_path`` (already real) is ``root`` or below it."""
    return real_path == root or real_path.startswith(root.rstrip(os.sep) + os.sep)


def _checked_realpath(root: str, parts: list[str], user_path: str) -> str:
    real = os.path.realpath(os.path.join(root, *parts))
    if not is_inside(root, real):
        raise WorkspacePathError(f"Path '{user_path}' is outside the workspace.")
    return real


def resolve(workspace: str | os.PathLike, user_path: str, must_exist: bool = False) -> Path:
    """The real path ``user_path`` designates inside ``workspace``, or raise.

    Raises :class:`WorkspacePathError` when the path is refused,
    :class:`WorkspaceFileNotFound` when ``must_exist`` and nothing is there.
    """
    root = workspace_root(workspace)
    real = _checked_realpath(root, split_user_path(user_path), user_path)
    if must_exist and not os.path.exists(real):
        raise WorkspaceFileNotFound(f"{user_path} does not exist.")
    return Path(real)


def resolve_entry(root: str, user_path: str) -> tuple[str, str]:
    """``(real parent directory, name)`` of a path whose last component is not followed.

    Used to act on a symbolic link itself (delete or move the link, never what
    it points to). The workspace root itself is refused.
    """
    parts = split_user_path(user_path)
    if not parts:
        raise WorkspacePathError("The workspace itself cannot be used here.")
    parent = _checked_realpath(root, parts[:-1], user_path)
    return parent, parts[-1]


def relative_name(root: str, real_path: str) -> str:
    """The POSIX path of ``real_path`` relative to ``root`` (``""`` for the root)."""
    rel = os.path.relpath(real_path, root)
    return "" if rel == "." else Path(rel).as_posix()


@contextmanager
def open_real_dir(root: str, real_dir: str, create: bool = False):
    """Yield a directory fd for ``real_dir``, walking from ``root`` without following links.

    ``real_dir`` must be a symlink-free path inside ``root`` (as returned by
    :func:`resolve`); missing directories are created when ``create`` is true.
    """
    if not is_inside(root, real_dir):
        raise WorkspacePathError("Directory is outside the workspace.")
    rel = os.path.relpath(real_dir, root)
    parts = [] if rel == "." else rel.split(os.sep)
    fd = os.open(root, _DIR_FLAGS)
    try:
        for part in parts:
            try:
                next_fd = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise WorkspaceFileNotFound(
                        f"{relative_name(root, real_dir)} does not exist."
                    ) from None
                try:
                    os.mkdir(part, 0o755, dir_fd=fd)
                except FileExistsError:
                    pass
                next_fd = _open_component(part, fd)
            except OSError as error:
                raise _refusal(error, part) from error
            os.close(fd)
            fd = next_fd
        yield fd
    finally:
        os.close(fd)


def _open_component(part: str, dir_fd: int) -> int:
    try:
        return os.open(part, _DIR_FLAGS, dir_fd=dir_fd)
    except OSError as error:
        raise _refusal(error, part) from error


def _refusal(error: OSError, name: str) -> Exception:
    """A symlink or non-directory met while walking: the tree changed under us."""
    if error.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
        return WorkspacePathError(f"'{name}' changed while in use or is not a directory.")
    return error


def served_file_refusal(st: os.stat_result, root_dev: int, user_path: str) -> str | None:
    """Why a file with status ``st`` (never followed) must not be served, or ``None``.

    Only regular files with a single link on the workspace's own device are
    served: a hard link a job made to a file outside the workspace (the
    platform's secret key, another user's file) has two links, and a file on
    another device is a mount that was not the workspace's to give.
    """
    if not stat.S_ISREG(st.st_mode):
        return f"{user_path} is not a regular file."
    if st.st_nlink != 1:
        return f"{user_path} has other hard links; such files are not served."
    if st.st_dev != root_dev:
        return f"{user_path} is on another file system than the workspace; it is not served."
    return None


def open_file(workspace: str | os.PathLike, user_path: str):
    """Open a servable file of the workspace for binary reading, race-safely.

    The last component is opened with ``O_NOFOLLOW`` (and ``O_NONBLOCK``, so a
    FIFO cannot hang the caller) and checked on the open descriptor with
    :func:`served_file_refusal`: what is checked is what is read.
    """
    root = workspace_root(workspace)
    real = str(resolve(root, user_path))
    if real == root:
        raise WorkspacePathError("The workspace itself is not a file.")
    parent, name = os.path.split(real)
    with open_real_dir(root, parent) as dir_fd:
        try:
            fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
        except FileNotFoundError as error:
            raise WorkspaceFileNotFound(f"{user_path} does not exist.") from error
        except OSError as error:
            raise _refusal(error, name) from error
    refusal = served_file_refusal(os.fstat(fd), os.stat(root).st_dev, user_path)
    if refusal:
        os.close(fd)
        raise WorkspacePathError(refusal)
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")
