"""Figures, their targets and the verdict ``make bench`` prints.

Every figure is the median of its repetitions with their spread, the CPU the
machine's other users spent meanwhile (``others_cores``: a busy machine slows
wall-clock figures down; CPU figures much less) and its target. A target is a
number or the name of another figure measured in the same run (a peer's).
"""

from __future__ import annotations

from bench_stats import spread

TARGETS: dict[str, tuple[str, float | str]] = {
    "jobs_per_s_wall": (">=", 200),
    "cpu_ms_per_job": ("<=", 8),
    "job_overhead_ms": ("<=", "snakemake_job_overhead_ms_peer"),
    "job_cpu_ms_serial": ("<=", "cwltool_cpu_ms_per_job_peer"),
    "admission_per_s": (">=", 250),
    "create_start_server_cpu_ms": ("<=", 4),
    "submit_to_running_ms_p50": ("<=", 300),
    "submit_to_running_ms_p99": ("<=", 1000),
    "status_msgs_per_s": (">=", 2000),
    "list_10k_p99_ms": ("<=", 50),
    "client_list_50k_s": ("<=", 1.0),
    "idle_rss_mb_max": ("<=", 80),
    "embedded_idle_cpu_pct": ("<=", 1.0),
    "client_startup_ms": ("<=", 300),
    "provenance_overhead_ms": ("<=", 5),
    "cwl_conformance_passed": (">=", 362),
    "cwl_job_overhead_over_cwltool_ms": ("<=", 10),
    "ui_list_10k_ms": ("<=", 1000),
    "ui_assets_kb": ("<=", 500),
}
"""What each figure must reach (figures without an entry are reported only)."""


class Results:
    """The figures of one benchmark run and the details behind them."""

    def __init__(self):
        self.figures: dict[str, dict] = {}
        self.details: dict = {}
        self.errors: dict[str, str] = {}

    def add(self, key: str, values: list[float] | float, unit: str,
            windows: list[dict] | None = None, digits: int = 2, **extra) -> dict:
        """Record figure ``key`` from its repetitions' ``values`` (and their CPU windows)."""
        values = values if isinstance(values, list) else [values]
        figure = {**spread(values, digits), "unit": unit, **extra}
        if windows:
            figure["others_cores"] = round(max(w["others_cores"] for w in windows), 2)
            figure["busy"] = any(w["busy"] for w in windows)
            figure["loadavg"] = [max(w["loadavg"][0] for w in windows),
                                 max(w["loadavg"][1] for w in windows)]
        self.figures[key] = figure
        return figure

    def target_of(self, key: str) -> tuple[str, float] | None:
        """``(op, number)``; a peer's figure as target resolves to its value (None: unknown)."""
        if key not in TARGETS:
            return None
        op, target = TARGETS[key]
        if isinstance(target, str):
            peer = self.figures.get(target)
            return (op, peer["value"]) if peer else None
        return op, float(target)

    def verdict(self, key: str) -> str:
        """``ok``, ``MISSED``, ``-`` (no target) or ``not measured``."""
        figure = self.figures.get(key)
        if figure is None:
            return "not measured"
        target = self.target_of(key)
        if target is None:
            return "-"
        op, number = target
        met = figure["value"] >= number if op == ">=" else figure["value"] <= number
        return "ok" if met else "MISSED"

    def missed(self) -> list[str]:
        return [key for key in TARGETS if self.verdict(key) in ("MISSED", "not measured")]

    def table(self) -> str:
        """The verdict, one line per figure: value, spread, target, ok/MISSED, others' load."""
        keys = [*TARGETS, *sorted(k for k in self.figures if k not in TARGETS)]
        lines = [f"{'figure':<34} {'median':>10} {'spread (n)':>22}  {'unit':<8} "
                 f"{'target':<44} {'verdict':<12} machine"]
        for key in keys:
            figure = self.figures.get(key)
            verdict = self.verdict(key)
            if key in TARGETS:
                op, raw = TARGETS[key]
                resolved = self.target_of(key)
                target = f"{op} {raw}" if not isinstance(raw, str) else (
                    f"{op} {raw} ({resolved[1]:g})" if resolved else f"{op} {raw}")
            else:
                target = ""
            if figure is None:
                lines.append(f"{key:<34} {'-':>10} {'':>22}  {'':<8} {target:<44} {verdict}")
                continue
            spread_text = (f"{figure['min']:g}–{figure['max']:g} ({figure['n']})"
                           if figure["n"] > 1 else f"({figure['n']})")
            machine = ""
            if "others_cores" in figure:
                machine = (f"others {figure['others_cores']:.2f} cores"
                           + (" BUSY" if figure["busy"] else ""))
            lines.append(f"{key:<34} {figure['value']:>10g} {spread_text:>22}  "
                         f"{figure['unit']:<8} {target:<44} {verdict:<12} {machine}")
        for key, error in self.errors.items():
            lines.append(f"ERROR {key}: {error}")
        return "\n".join(lines)
