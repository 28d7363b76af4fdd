"""Disk usage of a workspace, the way REANA reports it (``du -a --block-size=1``)."""

from __future__ import annotations

import os
import stat

from reana_commons.workspace.files import filter_entries
from reana_commons.workspace.paths import workspace_root
from reana_commons.workspace.patterns import walk

_UNITS = ("Bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")


def human_readable_bytes(n: int) -> str:
    """REANA's binary-unit size text: ``0 Bytes``, ``20 Bytes``, ``3.18 KiB``, ``1 MiB``."""
    n = int(n)
    if n <= 0:
        return f"{n if n < 0 else 0} Bytes"
    exponent = 0
    while exponent < len(_UNITS) - 1 and n >= 1024 ** (exponent + 1):
        exponent += 1
    value = round(n / 1024**exponent, 2)
    text = str(int(value)) if float(value).is_integer() else str(value)
    return f"{text} {_UNITS[exponent]}"


def size_dict(n: int) -> dict:
    """``{"raw": n, "human_readable": ...}`` as in every REANA size field."""
    return {"raw": int(n), "human_readable": human_readable_bytes(n)}


def _own_size(st: os.stat_result, apparent: bool) -> int:
    if apparent:
        return 0 if stat.S_ISDIR(st.st_mode) else st.st_size
    return st.st_blocks * 512


def _usage_by_name(root: str, apparent: bool) -> dict[str, int]:
    """Size of every entry (directories include their content), hard links counted once."""
    sizes = {"": _own_size(os.lstat(root), apparent)}
    seen_inodes: set[tuple[int, int]] = set()
    for entry in walk(root, root, ""):
        try:
            st = os.lstat(entry.path)
        except OSError:
            continue
        own = _own_size(st, apparent)
        if st.st_nlink > 1 and not entry.is_dir:
            key = (st.st_dev, st.st_ino)
            own = 0 if key in seen_inodes else own
            seen_inodes.add(key)
        sizes[entry.name] = own
        parts = entry.name.split("/")
        for depth in range(len(parts) - 1, -1, -1):
            sizes["/".join(parts[:depth])] += own
    return sizes


def _post_order_key(name: str):
    """Children before their directory, the workspace last (du's order)."""
    return [(0, part) for part in name.split("/") if part] + [(1,)]


def disk_usage(
    workspace: str | os.PathLike,
    summarize: bool = False,
    search: str | dict | None = None,
    apparent: bool = False,
) -> list[dict]:
    """REANA's ``disk_usage_info``: ``[{name: "/rel", size: {raw, human_readable}}]``.

    Sizes are allocated bytes like ``du -a --block-size=1`` (``apparent`` for
    byte counts instead); the workspace itself is named ``""`` and comes last;
    ``summarize`` reports only it. ``search`` filters on name and size.
    """
    root = workspace_root(workspace)
    sizes = _usage_by_name(root, apparent)
    names = [""] if summarize else sorted(sizes, key=_post_order_key)
    entries = [
        {"name": f"/{name}" if name else "", "size": size_dict(sizes[name])} for name in names
    ]
    return list(filter_entries(entries, search))


def workspace_size_bytes(workspace: str | os.PathLike, apparent: bool = False) -> int:
    """Total size of a workspace (``du -s --block-size=1``, or byte count if ``apparent``)."""
    return _usage_by_name(workspace_root(workspace), apparent)[""]
