"""Where the benchmarks count CPU: a control group where one can be made, else process accounting.

Every process the platform runs for a measured operation counts: services,
the zygote's engines, job controllers and jobs, PostgreSQL backends that open
and close inside the window, RabbitMQ. The benchmark starts them (its own
PostgreSQL and RabbitMQ too, :mod:`bench_services`) inside one control group,
so the kernel adds up the CPU of every process that ever ran in it, exited or
not. Sub-groups split it by part (``server``, ``runs``, ``postgres``...).

- **cgroup v2**: a directory under the unified hierarchy (``/sys/fs/cgroup`` or
  the hybrid ``/sys/fs/cgroup/unified``); ``cpu.stat``'s ``usage_usec``.
- **cgroup v1**: the ``cpuacct`` hierarchy; ``cpuacct.usage`` (ns).
- **process accounting** (no writable hierarchy): the processes of each part
  are followed from their roots; a process's CPU is its own plus that of the
  children it reaped (``RUSAGE_CHILDREN``), so every parent must reap (the
  zygote does). Less exact: a process that exits unreaped, or whose parent
  exits first, is lost.

The machine's own counters (``/proc/stat``) tell how much CPU *others* used in
the same window: a busy machine is flagged next to each figure.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import psutil

V2_ROOTS = (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/unified"))
V1_ROOTS = (Path("/sys/fs/cgroup/cpuacct"), Path("/sys/fs/cgroup/cpu,cpuacct"))
BUSY_OTHERS_CORES = 0.2
"""Others using more than this many cores on average during a window: the machine was busy."""


def _is_v2(root: Path) -> bool:
    return (root / "cgroup.procs").exists() and (root / "cgroup.controllers").exists()


class CpuAccounting:
    """One control group (or, without one, process trees) with a sub-group per part."""

    def __init__(self, name: str | None = None, force_process: bool = False):
        self.name = name or f"reana-bench-{uuid.uuid4().hex[:8]}"
        self.root: Path | None = None
        self.kind = "process accounting"
        self._roots: dict[str, list[psutil.Process]] = {}
        if not force_process:
            self._make_group()

    # --- setup -----------------------------------------------------------------------------
    def _make_group(self) -> None:
        for kind, roots in (("cgroup v2", V2_ROOTS), ("cgroup v1 cpuacct", V1_ROOTS)):
            for base in roots:
                if kind == "cgroup v2" and not _is_v2(base):
                    continue
                if kind != "cgroup v2" and not (base / "cpuacct.usage").exists():
                    continue
                path = base / self.name
                try:
                    path.mkdir()
                except OSError:
                    continue
                self.root, self.kind = path, kind
                return

    @property
    def exact(self) -> bool:
        return self.root is not None

    def describe(self) -> str:
        return f"{self.kind} ({self.root})" if self.root else self.kind

    def _group(self, part: str) -> Path:
        path = self.root / part
        path.mkdir(parents=True, exist_ok=True)
        return path

    def joiner(self, part: str):
        """A ``preexec_fn`` that puts the new process (and so its descendants) in ``part``."""
        if self.root is None:
            return None
        procs = str(self._group(part) / "cgroup.procs")

        def join():
            with open(procs, "w") as handle:
                handle.write(str(os.getpid()))

        return join

    def follow(self, part: str, pid: int) -> None:
        """Count process ``pid`` and its descendants in ``part`` from now on.

        With a control group the process tree moves there (its future children
        follow it); with process accounting the tree is followed from ``pid``.
        """
        try:
            process = psutil.Process(pid)
        except psutil.Error:
            return
        if self.root is None:
            self._roots.setdefault(part, []).append(process)
            return
        procs = self._group(part) / "cgroup.procs"
        for member in [process, *process.children(recursive=True)]:
            try:
                procs.write_text(str(member.pid))
            except OSError:
                continue  # it exited meanwhile

    # --- reading ---------------------------------------------------------------------------
    def parts(self) -> list[str]:
        """Every part followed so far (``platform/server``, ``outside/driver``...)."""
        if self.root is None:
            return sorted(self._roots)
        return sorted(str(p.relative_to(self.root)) for p in self.root.glob("*/*")
                      if p.is_dir())

    def usage(self, part: str | None = None) -> float:
        """CPU seconds used so far by ``part`` (``platform``: all its parts; None: everything)."""
        if self.root is None:
            names = [n for n in self._roots if part is None or n == part
                     or n.startswith(part + "/")]
            return sum(_tree_seconds(root) for name in names for root in self._roots.get(name, []))
        path = self.root / part if part else self.root
        if not path.exists():
            return 0.0
        if self.kind == "cgroup v2":
            for line in (path / "cpu.stat").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "usage_usec":
                    return int(value) / 1e6
            return 0.0
        return int((path / "cpuacct.usage").read_text()) / 1e9

    def snapshot(self) -> dict[str, float]:
        """Seconds used by every part, and by ``platform`` and ``outside`` as a whole."""
        values = {name: self.usage(name) for name in self.parts()}
        for side in ("platform", "outside"):
            values[side] = self.usage(side)
        return values

    def enter(self, part: str = "outside/driver") -> None:
        """Count this very process (the benchmark's driver) and what it starts in ``part``."""
        self.follow(part, os.getpid())

    def processes(self, part: str | None = None) -> list[psutil.Process]:
        """The live processes of ``part`` (None: all)."""
        if self.root is None:
            roots = [r for name, roots in self._roots.items() for r in roots
                     if part is None or name == part or name.startswith(part + "/")]
            found = []
            for root in roots:
                try:
                    found += [root, *root.children(recursive=True)]
                except psutil.Error:
                    continue
            return found
        top = self.root / part if part else self.root
        groups = [top, *top.rglob("*/")]
        found = []
        for group in groups:
            procs = group / "cgroup.procs"
            if not procs.exists():
                continue
            for line in procs.read_text().split():
                try:
                    found.append(psutil.Process(int(line)))
                except psutil.Error:
                    continue
        return found

    def close(self) -> None:
        """Remove the groups (processes still inside go back to the root group first)."""
        if self.root is None:
            return
        parent_procs = self.root.parent / "cgroup.procs"
        for group in sorted(self.root.rglob("*/"), key=lambda p: -len(p.parts)) + [self.root]:
            for _ in range(50):
                pids = (group / "cgroup.procs").read_text().split() if group.exists() else []
                for pid in pids:
                    try:
                        parent_procs.write_text(pid)
                    except OSError:
                        pass
                try:
                    group.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)


def _tree_seconds(root: psutil.Process) -> float:
    total = 0.0
    try:
        members = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    for process in members:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy since boot (``/proc/stat``)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in fields]
    # user nice system idle iowait irq softirq steal (guest is inside user already)
    busy = values[0] + values[1] + values[2] + values[5] + values[6] + values[7]
    return busy / os.sysconf("SC_CLK_TCK")


class Window:
    """CPU used in a measured window: the platform's parts, the benchmark's side, everyone else."""

    def __init__(self, accounting: CpuAccounting):
        self.accounting = accounting
        self.began = time.monotonic()
        self.before = accounting.snapshot()
        self.machine_before = machine_busy_seconds()
        self.load_before = os.getloadavg()[0]

    def close(self) -> dict:
        """What the window cost: ``platform_s`` (by ``parts_s``), ``client_s`` (the
        benchmark's driver, clients and peers), ``others_cores`` (the rest of the machine)."""
        after = self.accounting.snapshot()
        wall = max(time.monotonic() - self.began, 1e-6)
        machine = machine_busy_seconds() - self.machine_before
        spent = {name: max(after[name] - self.before.get(name, 0.0), 0.0) for name in after}
        platform, client = spent.pop("platform"), spent.pop("outside")
        parts = {name.partition("/")[2]: value for name, value in spent.items()
                 if name.startswith("platform/")}
        others = max(machine - platform - client, 0.0) / wall
        return {"wall_s": wall, "platform_s": platform, "parts_s": parts, "client_s": client,
                "others_cores": others, "busy": others > BUSY_OTHERS_CORES,
                "loadavg": [round(self.load_before, 2), round(os.getloadavg()[0], 2)]}
