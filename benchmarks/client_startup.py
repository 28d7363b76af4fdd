"""Wall and CPU time of ``reana-client version`` and ``reana-client status`` (target ≤ 300 ms wall).

``status`` talks to a tiny local HTTP server answering REANA's status payload,
so the number is the client's own cost: interpreter start, imports, spec
loading, one request, output. Prints one JSON line:
``{"client_startup_ms": <worst median>, "client_version_ms": ..., "client_status_ms": ...}``.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

RUNS = 7
STATUS = {
    "id": "3f0a7c2e-1111-4222-8333-444455556666",
    "name": "helloworld.1",
    "created": "2024-01-02T03:04:05",
    "status": "finished",
    "user": "00000000-0000-0000-0000-000000000000",
    "logs": "{}",
    "progress": {
        "run_started_at": "2024-01-02T03:04:05",
        "run_finished_at": "2024-01-02T03:04:35",
        "run_stopped_at": None,
        "total": {"total": 1, "job_ids": ["j"]},
        "running": {"total": 0, "job_ids": []},
        "finished": {"total": 1, "job_ids": ["j"]},
        "failed": {"total": 0, "job_ids": []},
        "current_command": None,
        "current_step_name": None,
    },
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        body = json.dumps(STATUS).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def client_command() -> list[str]:
    found = shutil.which("reana-client", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "reana_client.cli"]


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def median_ms(args: list[str], env: dict) -> tuple[float, float]:
    """Median wall and CPU (user + system) milliseconds of one command.

    CPU time is reported too because wall time on a loaded machine mostly
    measures the other processes; CPU time is what the client itself costs.
    """
    walls, cpus = [], []
    for _ in range(RUNS):
        cpu_before = _children_cpu_s()
        started = time.perf_counter()
        proc = subprocess.run(args, env=env, capture_output=True, text=True)
        walls.append((time.perf_counter() - started) * 1000)
        cpus.append((_children_cpu_s() - cpu_before) * 1000)
        if proc.returncode != 0:
            raise SystemExit(f"{args} failed: {proc.stderr}")
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(os.environ, REANA_SERVER_URL=f"http://127.0.0.1:{server.server_port}",
               REANA_ACCESS_TOKEN="benchmark")
    env.pop("REANA_CLIENT_BRAVADO", None)
    command = client_command()
    version_ms, version_cpu = median_ms([*command, "version"], env)
    status_ms, status_cpu = median_ms([*command, "status", "-w", "helloworld.1"], env)
    baseline_ms, baseline_cpu = median_ms([sys.executable, "-c", "pass"], env)
    server.shutdown()
    print(json.dumps({
        "client_startup_ms": round(max(version_ms, status_ms), 1),
        "client_version_ms": round(version_ms, 1),
        "client_status_ms": round(status_ms, 1),
        "client_version_cpu_ms": round(version_cpu, 1),
        "client_status_cpu_ms": round(status_cpu, 1),
        "python_startup_ms": round(baseline_ms, 1),
        "python_startup_cpu_ms": round(baseline_cpu, 1),
    }))


if __name__ == "__main__":
    main()
