"""The part of the ClassAd expression language the double's ``-constraint`` options accept.

``A == v``, ``A != v``, ``A =?= v``, ``A =!= v``, ``A < v`` (and ``<=``, ``>``, ``>=``) with
``v`` an integer, a float, a quoted string, ``true``/``false`` or ``undefined``, joined by
``&&`` and ``||`` (``&&`` binds tighter), in parentheses or not. Attribute names are
case-insensitive, as in ClassAds; ``==`` on strings is case-insensitive too. Anything else is
refused with an error rather than guessed.
"""

from __future__ import annotations

import operator
import re

_COMPARISON = re.compile(
    r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=\?=|=!=|==|!=|<=|>=|<|>)\s*'
    r'("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false|undefined)\s*$', re.IGNORECASE)
_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def _split_top(text: str, separator: str) -> list[str]:
    parts, depth, start, quoted, i = [], 0, 0, False, 0
    while i < len(text):
        char = text[i]
        if char == '"' and (i == 0 or text[i - 1] != "\\"):
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif not quoted and depth == 0 and text.startswith(separator, i):
            parts.append(text[start:i])
            start = i + len(separator)
            i += len(separator)
            continue
        i += 1
    parts.append(text[start:])
    return parts


def _literal(text: str):
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "undefined":
        return None
    if text.startswith('"'):
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return float(text) if "." in text else int(text)


def _lookup(ad: dict, name: str):
    for key, value in ad.items():
        if key.lower() == name.lower():
            return value
    return None


def _wrapped(text: str) -> bool:
    """True when ``text`` is one parenthesized group ``( ... )``."""
    if not (text.startswith("(") and text.endswith(")")):
        return False
    depth, quoted = 0, False
    for i, char in enumerate(text):
        if char == '"' and (i == 0 or text[i - 1] != "\\"):
            quoted = not quoted
        elif not quoted and char in "()":
            depth += 1 if char == "(" else -1
            if depth == 0 and i < len(text) - 1:
                return False
    return True


def _strip_parens(text: str) -> str:
    text = text.strip()
    while _wrapped(text):
        text = text[1:-1].strip()
    return text


def compile_constraint(text: str):
    """A predicate ``ad -> bool`` for ``text`` (raises ValueError on what it cannot read)."""
    text = _strip_parens(text)
    alternatives = _split_top(text, "||")
    if len(alternatives) > 1:
        tests = [compile_constraint(part) for part in alternatives]
        return lambda ad: any(test(ad) for test in tests)
    conjuncts = _split_top(text, "&&")
    if len(conjuncts) > 1:
        tests = [compile_constraint(part) for part in conjuncts]
        return lambda ad: all(test(ad) for test in tests)
    match = _COMPARISON.match(text)
    if not match:
        raise ValueError(f"Error: the constraint '{text}' is not understood by the HTCondor double")
    name, op, literal = match.group(1), match.group(2), _literal(match.group(3))

    def test(ad: dict) -> bool:
        value = _lookup(ad, name)
        if op in ("=?=", "=!="):
            same = type(value) is type(literal) and value == literal
            return same if op == "=?=" else not same
        if value is None or literal is None:
            return False
        if isinstance(value, str) and isinstance(literal, str) and op in ("==", "!="):
            equal = value.lower() == literal.lower()
            return equal if op == "==" else not equal
        if op == "==":
            return value == literal
        if op == "!=":
            return value != literal
        try:
            return _OPS[op](value, literal)
        except TypeError:
            return False

    return test
