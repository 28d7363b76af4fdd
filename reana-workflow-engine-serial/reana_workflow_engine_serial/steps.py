"""The serial specification: which steps run (``FROM``/``TARGET``)."""

from __future__ import annotations

from reana_commons.engine.harness import read_option


def targeted_steps(steps: list[dict], options: dict | None) -> list[tuple[int, dict]]:
    """``(index, step)`` of the steps to run, from ``FROM`` to ``TARGET`` included.

    Step names compare case-insensitively; an unknown name leaves that end open,
    and ``FROM`` after ``TARGET`` runs the whole workflow (REANA's behaviour).
    """
    names = [str(step.get("name") or "").lower() for step in steps]
    start, end = 0, len(steps) - 1
    first = read_option(options, "FROM")
    last = read_option(options, "TARGET")
    if first and str(first).lower() in names:
        start = names.index(str(first).lower())
    if last and str(last).lower() in names:
        end = names.index(str(last).lower())
    if start > end:
        start, end = 0, len(steps) - 1
    return [(index, steps[index]) for index in range(start, end + 1)]
