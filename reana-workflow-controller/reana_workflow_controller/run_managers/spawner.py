"""Start a console-script process in a session of its own, fast when possible.

A cold start (``subprocess``) costs the ~0.3-0.5 s of Python imports of the job
controller or engine. When the zygote (:mod:`.zygote`, a process that imported
them once) listens for this ``REANA_HOME``, the process is forked from it
instead, in milliseconds; it is still an isolated OS process per run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from reana_commons.config import get_config
from reana_commons.processes import record_of

_children: list[subprocess.Popen] = []


def zygote_address(home: Path | None = None) -> str:
    """Abstract Unix socket name of the zygote serving ``home`` (no path-length limit)."""
    home = home or get_config().home
    digest = hashlib.sha256(str(home).encode()).hexdigest()[:16]
    return f"\0reana-zygote-{digest}"


def exit_file_of(log_file: Path) -> Path:
    """Where the exit code of the process logging to ``log_file`` is written when it ends."""
    return log_file.with_suffix(".exit")


def spawn(argv: list[str], env: dict, log_file: Path, cwd: Path) -> dict:
    """Start ``argv`` (console script + args) with extra ``env``; its process record.

    When the process ends by itself its exit code is written to :func:`exit_file_of`.
    """
    full_env = dict(os.environ)
    full_env.update(env)
    full_env["PYTHONUNBUFFERED"] = "1"
    if os.sep not in argv[0]:  # a path: an engine in a venv of its own, not in the zygote
        forked = _spawn_from_zygote(argv, full_env, log_file, cwd)
        if forked is not None:
            return forked
    return _spawn_cold(argv, full_env, log_file, cwd)


def _spawn_cold(argv, env, log_file: Path, cwd: Path) -> dict:
    executable = shutil.which(argv[0]) or str(Path(sys.executable).parent / argv[0])
    # bash records the exit code (a killed process leaves none); kills reach both (one group).
    record = 'code=0; "$@" || code=$?; echo "$code" > "$REANA_EXIT_FILE"; exit "$code"'
    env = dict(env, REANA_EXIT_FILE=str(exit_file_of(log_file)))
    with open(log_file, "ab") as out:
        process = subprocess.Popen(
            ["bash", "-c", record, argv[0], executable, *argv[1:]],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=str(cwd),
            env=env,
            start_new_session=True,
        )
    _children.append(process)
    return record_of(process.pid)


def _spawn_from_zygote(argv, env, log_file: Path, cwd: Path) -> dict | None:
    request = {
        "argv": argv,
        "env": env,
        "log": str(log_file),
        "cwd": str(cwd),
        "exit_file": str(exit_file_of(log_file)),
    }
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(zygote_address())
            sock.sendall(json.dumps(request).encode() + b"\n")
            reply = b""
            while not reply.endswith(b"\n"):
                chunk = sock.recv(4096)
                if not chunk:
                    break
                reply += chunk
    except OSError:
        return None
    try:
        answer = json.loads(reply)
    except ValueError:
        return None
    return answer if answer.get("pid") else None


def reap() -> None:
    """Collect exited cold-started children (so they do not linger as zombies)."""
    for process in list(_children):
        if process.poll() is not None:
            _children.remove(process)
