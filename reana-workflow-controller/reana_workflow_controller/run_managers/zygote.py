"""Zygote: a pre-imported parent that forks per-run processes in milliseconds.

``python -m reana_workflow_controller.run_managers.zygote`` preloads the job
controller (through its one public seam, :func:`reana_job_controller.preload`) and imports
the workflow engines once (the modules the ``reana.workflow_engines``
entry points name: every engine installed in this environment; a module's ``preload()``,
if it has one, is called once), then listens on an abstract Unix
socket (see :func:`.spawner.zygote_address`), answering processes of its own user only.
Each request ``{argv, env, log, cwd}`` forks a child that starts a new session,
takes the requester's environment, redirects its output to ``log`` and runs the
console script ``argv[0]`` in-process. The zygote reaps each child when it exits (SIGCHLD), so
the CPU its children used reaches the zygote's own counters (``RUSAGE_CHILDREN``, what process
accounting reads), and never opens a database or broker connection, so a fork shares nothing live.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import signal
import socket
import struct
import sys
from importlib.metadata import entry_points

from reana_commons.workflow_types import WORKFLOW_TYPE_TABLE, engine_modules

PRELOAD = (
    # The engine kit every engine uses, and the libraries of the job controller and engines.
    "reana_commons.engine.job_controller_client",
    "reana_commons.engine.harness",
    "reana_commons.engine.reporter",
    "reana_commons.engine.jobs",
    "reana_commons.messaging",
    "reana_commons.parameters",
    "kombu.transport.pyamqp",
    "kombu.utils.amq_manager",
    "reana_db.models",
    "requests",
    "kombu",
    "flask",
    "sqlalchemy",
)


SCRIPTS = ("reana-job-controller", *(t.engine_command for t in WORKFLOW_TYPE_TABLE))
"""Console scripts resolved before forking (an entry-point scan costs each child ~50 ms)."""


def preload() -> None:
    """Import what the per-run processes need, skipping what is not installed."""
    for module in PRELOAD:
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001 - a missing optional component is not fatal
            pass
    for module in engine_modules().values():
        try:  # an engine module's own preload() warms what each run would load again
            warm = getattr(importlib.import_module(module), "preload", None)
            if callable(warm):
                warm()
        except Exception:  # noqa: BLE001 - a broken engine fails in its child, with its message
            pass
    try:  # the job controller's modules, Flask application and SQL, once for every fork
        from reana_job_controller import preload as preload_job_controller

        preload_job_controller()
    except Exception:  # noqa: BLE001 - not installed, or each job controller does it itself
        pass
    for name in SCRIPTS:
        try:
            _entry_point(name)
        except (Exception, SystemExit):  # noqa: BLE001 - resolved (and reported) in the child
            pass


@functools.cache
def _entry_point(name: str):
    matches = entry_points(group="console_scripts", name=name)
    for match in matches:
        return match.load()
    raise SystemExit(f"unknown console script {name}")


def _child(request: dict, listener: socket.socket, conn: socket.socket) -> None:
    listener.close()
    conn.close()
    os.setsid()
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    fd = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    os.close(null)
    try:  # `ps -o comm` shows what this fork became (its cmdline stays the zygote's)
        with open("/proc/self/comm", "w") as comm:
            comm.write(os.path.basename(request["argv"][0])[:15])
    except OSError:
        pass
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    from reana_commons.config import reset_config

    reset_config()
    sys.argv = list(request["argv"])
    code = 0
    try:
        result = _entry_point(request["argv"][0])()
        code = result if isinstance(result, int) else 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:  # noqa: BLE001 - report and exit like an interpreter would
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    if request.get("exit_file"):
        try:
            with open(request["exit_file"], "w") as exit_file:
                exit_file.write(f"{code}\n")
        except OSError:
            pass
    os._exit(code)


def _peer_uid(conn: socket.socket) -> int:
    """The user id of the process at the other end of ``conn`` (the kernel's word)."""
    credentials = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", credentials)[1]


def _serve_one(listener: socket.socket) -> None:
    conn, _ = listener.accept()
    with conn:
        # An abstract socket has no file permissions: any local user (or a job running as
        # another user) could connect and have the platform's user run a console script.
        if _peer_uid(conn) != os.getuid():
            print(f"zygote: refused a request of user {_peer_uid(conn)}", file=sys.stderr,
                  flush=True)
            return
        conn.settimeout(10)
        data = b""
        while not data.endswith(b"\n"):
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        request = json.loads(data)
        pid = os.fork()
        if pid == 0:
            _child(request, listener, conn)
        from reana_commons.processes import record_of

        conn.sendall(json.dumps(record_of(pid)).encode() + b"\n")


def _reap(_signum=None, _frame=None) -> None:
    """Collect every child that exited (ignoring SIGCHLD would let the kernel drop their CPU
    times instead of adding them to ours)."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main() -> None:
    """Preload, listen, fork on request until SIGTERM."""
    from reana_workflow_controller.run_managers.spawner import zygote_address

    preload()
    import psutil  # noqa: F401 - imported before forking so children have it too

    signal.signal(signal.SIGCHLD, _reap)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(zygote_address())
    listener.listen(64)
    print(f"zygote listening (pid {os.getpid()})", flush=True)
    while True:
        try:
            _serve_one(listener)
        except (OSError, ValueError) as error:
            print(f"zygote: request failed: {error}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
