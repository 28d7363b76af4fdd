"""JSON from users, parsed with a nesting limit.

Python's ``json`` parser recurses once per nesting level: ``[[[[...]]]]`` a
thousand levels deep raises ``RecursionError`` in it, and a few hundred levels
pass the parser but break whatever walks the value next (validation, deep
copies, the database's JSON encoder). Values users send are refused beyond
:data:`MAX_JSON_DEPTH` levels, with a 400 and a clear message, before anything
else looks at them.
"""

from __future__ import annotations

import json
from typing import Any

from reana_commons.errors import REANAValidationError

MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects accepted in a user's JSON (a reana.yaml needs ~10)."""


def nesting_depth(value: Any, stop_after: int = MAX_JSON_DEPTH) -> int:
    """Depth of nested lists and dicts in ``value`` (a scalar is 0), counted without recursion.

    Counting stops once ``stop_after`` is exceeded (the value is refused anyway).
    """
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > stop_after:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def check_depth(value: Any, what: str = "The JSON document", limit: int = MAX_JSON_DEPTH) -> Any:
    """``value`` itself, or :class:`REANAValidationError` when nested deeper than ``limit``."""
    if nesting_depth(value, limit) > limit:
        raise REANAValidationError(f"{what} is nested deeper than {limit} levels.")
    return value


def load_json(text: str | bytes, what: str = "The JSON document",
              limit: int = MAX_JSON_DEPTH) -> Any:
    """Parse ``text``; invalid or too deeply nested JSON is a :class:`REANAValidationError`.

    ``ValueError`` subclasses (invalid JSON) propagate as they are so callers
    keep their own wording for them.
    """
    try:
        value = json.loads(text)
    except RecursionError:
        raise REANAValidationError(f"{what} is nested deeper than {limit} levels.") from None
    return check_depth(value, what, limit)
