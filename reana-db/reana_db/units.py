"""Human-readable sizes and durations, as REANA shows them in its API.

Sizes come from reana-commons' workspace helpers (binary units, two decimals:
``"0 Bytes"``, ``"3.18 KiB"``, ``"1 MiB"``); CPU time in milliseconds is shown
as ``"1h 2m 3s"`` (``"0s"`` below one second).
"""

from __future__ import annotations

from reana_commons.workspace import human_readable_bytes

__all__ = ["human_readable_bytes", "human_readable_milliseconds"]


def human_readable_milliseconds(value: int | float) -> str:
    """``3723000`` → ``"1h 2m 3s"``; days are shown as ``"1d"``; ``0`` → ``"0s"``."""
    seconds = max(int(value), 0) // 1000
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    parts = [
        f"{amount}{suffix}"
        for amount, suffix in ((days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s"))
        if amount
    ]
    return " ".join(parts) or "0s"
