"""Human-readable sizes and durations, as REANA shows them in its API.

Sizes use binary units with at most two decimals and no trailing zeros
(``"0 Bytes"``, ``"20 Bytes"``, ``"3.18 KiB"``, ``"1 MiB"``); CPU time in
milliseconds is shown as ``"1h 2m 3s"`` (``"0s"`` below one second).
"""

from __future__ import annotations

_BYTE_UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def human_readable_bytes(value: int | float) -> str:
    """``1536`` → ``"1.5 KiB"``; negative values keep their sign."""
    value = int(value)
    sign = "-" if value < 0 else ""
    amount = float(abs(value))
    if amount < 1024:
        return f"{sign}{int(amount)} Bytes"
    index = 0
    amount /= 1024
    while round(amount, 2) >= 1024 and index < len(_BYTE_UNITS) - 1:
        amount /= 1024
        index += 1
    unit = _BYTE_UNITS[index]
    text = f"{amount:.2f}".rstrip("0").rstrip(".")
    return f"{sign}{text} {unit}"


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
