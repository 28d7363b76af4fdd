"""Kubernetes resource quantities (``"256Mi"``, ``"1G"``, ``"0.5Gi"``) as numbers."""

from __future__ import annotations

import re

_SUFFIXES = {
    "": 1,
    "k": 10**3,
    "K": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}
_QUANTITY = re.compile(r"^\s*(\d+(?:\.\d+)?(?:[eE]\d+)?)\s*([kKMGTPE]i?)?\s*$")


class InvalidQuantity(ValueError):
    """A string that is not a Kubernetes memory quantity."""


def memory_bytes(quantity: str | int | None) -> int | None:
    """``"256Mi"`` → ``268435456``; ``None``/``""`` → ``None``; bad input raises."""
    if quantity is None or quantity == "":
        return None
    if isinstance(quantity, int):
        return quantity
    match = _QUANTITY.match(str(quantity))
    if not match:
        raise InvalidQuantity(f"Invalid memory quantity {quantity!r}.")
    number, suffix = match.group(1), match.group(2) or ""
    return int(float(number) * _SUFFIXES[suffix])
