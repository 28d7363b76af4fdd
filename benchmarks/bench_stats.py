"""Small statistics for the benchmarks: nearest-rank percentiles and rounding."""

from __future__ import annotations

import math


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` in (0, 1]) of a non-empty sample."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = max(math.ceil(fraction * len(ordered)), 1)
    return ordered[rank - 1]


def rounded(value: float, digits: int = 1) -> float:
    return round(float(value), digits)
