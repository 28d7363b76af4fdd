"""A malicious job on a live platform, on both profiles: it sees only its own workspace.

A second user's run leaves a file in its workspace. Then a run of the admin tries, from inside
its job, what issue 10 found possible: read the platform's secret key, the database, the other
user's workspace; reach the internal APIs (the workflow controller, its own job controller),
PostgreSQL and RabbitMQ over loopback (and every port listening on the host); write to the system
directories, the platform's home and the other workspace; see the platform's processes. Every
attempt must be refused, and the run's own work must still succeed.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import psutil
import pytest
import requests

PROBE_SCRIPT = r"""
probe() { if eval "$2" > /dev/null 2>&1; then echo "$1: LEAK"; else echo "$1: refused"; fi; }
mkdir -p results && exec > results/probes.txt 2>&1
for _ in $(seq 1 600); do [ -s jc.port ] && break; sleep 0.1; done
export HOST_PORTS=$(cat host.ports)
probe secret-key 'cat "$HOME_DIR/secret-key"'
probe admin-token 'cat "$HOME_DIR/admin-token"'
probe platform-env 'cat "$HOME_DIR/env"'
probe database-file 'head -c 16 "$HOME_DIR/reana.db"'
probe broker-file 'head -c 16 "$HOME_DIR/broker.db"'
probe home-listing 'ls -A "$HOME_DIR" | grep -qvx shared'
probe other-workspace-read 'cat "$VICTIM/victim-data.txt"'
probe other-workspace-listing 'ls "$VICTIM/.." | grep -q .'
probe other-workspace-write 'echo x > "$VICTIM/pwned.txt"'
probe home-write 'mkdir -p "$HOME_DIR/pwned"'
probe etc-write 'echo x > /etc/reana-pwned-$RUN_TAG'
probe usr-write 'echo x > /usr/reana-pwned-$RUN_TAG'
probe root-write 'echo x > /reana-pwned-$RUN_TAG'
probe shadow 'cat /etc/shadow'
probe postgres-socket 'ls /var/run/postgresql/ /run/postgresql/'
probe supervisor-socket 'ls /tmp/reana-supervisor-*.sock'
probe platform-processes 'grep -qs supervisord "/proc/$SUPERVISOR_PID/cmdline"'
probe process-count '[ "$(ls -d /proc/[0-9]* | wc -l)" -gt 20 ]'
for port in "$SERVER_PORT" "$CONTROLLER_PORT" "$(cat jc.port)" 5432 5672; do
    probe "tcp-$port" "exec 3<> /dev/tcp/127.0.0.1/$port"
done
echo "uid: $(id -u)"
echo private > /tmp/reana-isolation-$RUN_TAG && echo "tmp: writable"
python3 - <<'EOF'
import os
import socket
control = socket.socket()
control.bind(("127.0.0.1", 0))
control.listen()
own = control.getsockname()[1]
found = []
for port in [own, *map(int, os.environ["HOST_PORTS"].split(","))]:
    with socket.socket() as probe:
        probe.settimeout(2)
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            found.append(port)
print("reachable host ports:", [p for p in found if p != own], "control found:", own in found)
EOF
"""


def _run_spec(*steps: tuple[str, str]) -> dict:
    return {
        "version": "0.9.0",
        "inputs": {"parameters": {}},
        "workflow": {"type": "serial", "specification": {"steps": [
            {"name": name, "environment": "docker.io/library/python:3.11-slim",
             "commands": [command]} for name, command in steps]}},
    }


def _download(platform, run_id: str, path: str, token: str) -> str:
    response = requests.get(f"{platform.url}/api/workflows/{run_id}/workspace/{path}",
                            params={"access_token": token}, timeout=60)
    assert response.status_code == 200, response.text
    return response.text


def _wait_status(platform, run_id: str, token: str, statuses=("finished", "failed", "stopped"),
                 seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        body = requests.get(f"{platform.url}/api/workflows/{run_id}/status",
                            params={"access_token": token}, timeout=60).json()
        if body["status"] in statuses:
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.1)


@pytest.mark.timeout(300)
def test_a_malicious_job_sees_only_its_own_workspace(live_platform):
    platform = live_platform
    victim_token = platform.create_user(f"victim-{os.getpid()}@example.org")
    victim_run = platform.submit(
        _run_spec(("write", "echo victim-secret > victim-data.txt")), "victim", victim_token)
    assert _wait_status(platform, victim_run, victim_token)["status"] == "finished"
    victim_workspace = next(platform.home.rglob("victim-data.txt")).parent
    home = platform.home.resolve()
    tag = os.urandom(4).hex()

    env = (f'export HOME_DIR="{home}" VICTIM="{victim_workspace}" RUN_TAG={tag} '
           f'SUPERVISOR_PID={(home / "supervisord.pid").read_text().strip()} '
           f'SERVER_PORT={platform.env["REANA_SERVER_PORT"]} '
           f'CONTROLLER_PORT={platform.env["REANA_WORKFLOW_CONTROLLER_PORT"]}')
    run_id = platform.submit(_run_spec(
        # $$ is a literal $ for the serial engine's parameter expansion.
        ("attack", f"{env}\n" + PROBE_SCRIPT.replace("$", "$$")),
        ("work", "echo 'own work' > results/own.txt && cat results/own.txt"),
    ), "attacker")
    _wait_status(platform, run_id, platform.token, ("running",), seconds=60)
    deadline = time.monotonic() + 60
    while not (url_files := sorted((home / "runs" / run_id).glob("job-controller*.url"))):
        assert time.monotonic() < deadline, "the run's job controller did not start"
        time.sleep(0.1)
    url_file = url_files[-1]
    jc_port = url_file.read_text().strip().rsplit(":", 1)[1]
    workspace = next(platform.home.rglob(f"*/workflows/{run_id}"))
    host_ports = sorted({c.laddr.port for c in psutil.net_connections("tcp")
                         if c.status == psutil.CONN_LISTEN})
    (workspace / "host.ports").write_text(",".join(map(str, host_ports)))
    (workspace / "jc.port").write_text(jc_port)

    outside = [*(Path(d, f"reana-pwned-{tag}") for d in ("/etc", "/usr", "/")),
               Path(f"/tmp/reana-isolation-{tag}")]
    try:
        body = platform.wait_status(run_id, seconds=240)
    finally:  # had a write gone through, leave the host as it was
        written_outside = [path for path in outside if path.exists()]
        for path in written_outside:
            path.unlink()
    probes = _download(platform, run_id, "results/probes.txt", platform.token)
    assert body["status"] == "finished", (body, probes)
    lines = dict(line.split(": ", 1) for line in probes.splitlines() if ": " in line)
    leaks = {name: outcome for name, outcome in lines.items() if outcome == "LEAK"}
    assert not leaks, probes
    for name in ("secret-key", "database-file", "other-workspace-read", "other-workspace-write",
                 "home-write", "etc-write", "usr-write", f"tcp-{jc_port}",
                 f"tcp-{platform.env['REANA_WORKFLOW_CONTROLLER_PORT']}", "platform-processes"):
        assert lines.get(name) == "refused", (name, probes)
    if os.geteuid() == 0:
        assert lines["uid"] == "65530", probes
    assert lines["tmp"] == "writable"  # a private /tmp: the host's has no such file (below)
    assert lines["reachable host ports"] == "[] control found: True", probes
    # The attempts changed nothing outside the run's workspace, and its own work went through.
    assert not written_outside
    assert not (victim_workspace / "pwned.txt").exists()
    assert not (home / "pwned").exists()
    assert _download(platform, run_id, "results/own.txt", platform.token) == "own work\n"
    logs = json.loads(platform.api("GET", f"/api/workflows/{run_id}/logs").json()["logs"])
    assert all("bubblewrap sandbox" in job["logs"] for job in logs["job_logs"].values())
