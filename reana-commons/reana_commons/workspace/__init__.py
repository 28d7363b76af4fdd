"""Workspace file-system helpers that cannot escape the workspace.

Every path a user gives goes through here: :func:`resolve` returns the real
path inside the workspace or raises :class:`WorkspacePathError` (absolute,
``..``, NUL, symlinks leading out). Percent-decoding of REST path parameters
and stripping the leading ``/`` of upload names are the caller's job.

Public API (stable, other components code against it):
``resolve``, ``open_file``, ``list_files``, ``filter_entries``, ``delete``,
``move``, ``save_stream``, ``disk_usage``, ``workspace_size_bytes``,
``human_readable_bytes``, ``size_dict``, ``zip_paths``, ``iter_zip``,
``matching_files`` and the errors re-exported from :mod:`reana_commons.errors`.
"""

from reana_commons.errors import WorkspaceFileNotFound, WorkspaceNotFound, WorkspacePathError
from reana_commons.workspace.archive import iter_zip, matching_files, zip_paths
from reana_commons.workspace.files import (
    DEFAULT_CHUNK_SIZE,
    delete,
    filter_entries,
    list_files,
    move,
    parse_search,
    save_stream,
)
from reana_commons.workspace.paths import open_file, resolve, split_user_path, workspace_root
from reana_commons.workspace.usage import (
    disk_usage,
    human_readable_bytes,
    size_dict,
    workspace_size_bytes,
)

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "WorkspaceFileNotFound",
    "WorkspaceNotFound",
    "WorkspacePathError",
    "delete",
    "disk_usage",
    "filter_entries",
    "human_readable_bytes",
    "iter_zip",
    "list_files",
    "matching_files",
    "move",
    "open_file",
    "parse_search",
    "resolve",
    "save_stream",
    "size_dict",
    "split_user_path",
    "workspace_root",
    "workspace_size_bytes",
    "zip_paths",
]
