"""Small statistics for the benchmarks: nearest-rank percentiles, medians with their spread."""

from __future__ import annotations

import math
import statistics

MIN_REPETITIONS = 3
"""Each figure is the median of at least this many repetitions."""
MIN_P99_SAMPLES = 200
"""A p99 is read from at least this many samples (the 2nd largest of 200)."""


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` in (0, 1]) of a non-empty sample."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = max(math.ceil(fraction * len(ordered)), 1)
    return ordered[rank - 1]


def rounded(value: float, digits: int = 1) -> float:
    return round(float(value), digits)


def spread(values: list[float], digits: int = 2) -> dict:
    """``{"value": median, "min", "max", "n"}`` of the repetitions' values."""
    if not values:
        raise ValueError("no values")
    return {"value": round(statistics.median(values), digits),
            "min": round(min(values), digits), "max": round(max(values), digits),
            "n": len(values)}


def slope(short: float, long: float, extra_items: int) -> float:
    """What one more item costs: the difference of two totals over the items between them."""
    return (long - short) / extra_items
