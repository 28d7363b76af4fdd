"""The gunicorn setup shared by the HTTP services (reana-server's API, the workflow controller's).

One place decides how the services are served, because the settings matter
for each other:

- **Keep-alive longer than any client keeps an idle connection ready.** gunicorn
  closes an idle kept-alive connection after ``keepalive`` seconds (2 by default);
  a client that sends its next request on it at that moment gets "Connection reset
  by peer". reana-server keeps a pool of connections to the workflow controller
  that can sit idle between bursts, so the services keep them open for minutes
  (:data:`KEEPALIVE`), and the client retries idempotent calls once on a reset.
- **No gunicorn control socket.** gunicorn ≥ 25.1 opens a control socket at one
  fixed path per user (``~/.gunicorn/gunicorn.ctl``): every service, and every
  platform of that user, would fight over it. supervisord manages the
  processes, so the socket is not opened at all.
- **Workers load the app after the fork** (no ``preload_app``): the master stays
  small and each worker imports only what serving needs.
- **No credential in the logs.** reana-client puts the user's token in the query
  string: the access and error logs are redacted (:mod:`reana_commons.log_redaction`).
- **Two malloc arenas per process.** glibc gives each thread that allocates
  concurrently an arena of its own (up to 8 per core); a worker's request threads
  then hold freed memory in several half-empty arenas, and its resident size grows.
"""

from __future__ import annotations

from collections.abc import Callable

KEEPALIVE = 300
"""Seconds an idle kept-alive connection stays open (the client pool reuses them)."""

MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # glibc's mallopt() parameter number


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas for this process and its forks (before threads start).

    Returns whether it applied: other C libraries have no such setting, and an
    explicit ``MALLOC_ARENA_MAX`` in the environment wins.
    """
    import ctypes
    import ctypes.util
    import os

    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    return bool(mallopt(_M_ARENA_MAX, arenas))


def gunicorn_settings(host: str, port: int, workers: int, threads: int, timeout: int,
                      access_log: bool = True) -> dict:
    """gunicorn settings of a threaded service on ``host:port``."""
    settings = {
        "bind": f"{host}:{port}",
        "workers": max(workers, 1),
        "worker_class": "gthread",
        "threads": max(threads, 1),
        "timeout": timeout,
        "keepalive": KEEPALIVE,
        "control_socket_disable": True,
    }
    if access_log:
        settings["accesslog"] = "-"
    return settings


def _forget_worker_metrics(_server, worker) -> None:
    """A dead worker's live gauges leave the multiprocess metrics (:mod:`reana_commons.metrics`)."""
    import os

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from reana_commons.metrics import mark_process_dead

        mark_process_dead(worker.pid)


def serve_gunicorn(app_factory: Callable, settings: dict) -> None:
    """Run gunicorn with ``settings`` until it stops; each worker calls ``app_factory()``."""
    from gunicorn.app.base import BaseApplication
    from gunicorn.glogging import Logger

    from reana_commons.log_redaction import redact_handlers
    from reana_commons.structured_logs import JsonFormatter, json_logs

    if json_logs():  # each app logs its requests with their request id (request_context)
        settings = {k: v for k, v in settings.items() if k != "accesslog"}

    limit_malloc_arenas()

    class _RedactingLogger(Logger):
        """gunicorn's logger whose access and error lines are redacted."""

        def setup(self, cfg):
            super().setup(cfg)
            if json_logs():
                from reana_commons import log_redaction

                for logger in (self.error_log, self.access_log):
                    for handler in logger.handlers:
                        handler.setFormatter(JsonFormatter(log_redaction.SERVICE))
            redact_handlers(self.error_log)
            redact_handlers(self.access_log)

    class _Service(BaseApplication):
        def load_config(self):
            for key, value in settings.items():
                # Settings a given gunicorn does not know (the control socket before 25.1)
                # have nothing to configure there.
                if key in self.cfg.settings:
                    self.cfg.set(key, value)
            self.cfg.set("logger_class", _RedactingLogger)
            self.cfg.set("child_exit", _forget_worker_metrics)

        def load(self):
            return app_factory()

    _Service().run()
