"""HTTP client of the job controller, for workflow engines (standard library only).

Part of the engine kit (moved here from ``reana_job_controller.client`` so an engine
needs reana-commons only, not the job controller and its dependencies).

One persistent HTTP/1.1 connection per thread (``http.client``: a fraction of
the per-call cost of ``requests``, which matters at thousands of jobs).
:meth:`JobControllerClient.wait` uses the long-poll extension
(``GET /jobs/<id>?wait=<s>``) so an engine learns a job's end as soon as the
job controller does, with no polling interval.
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import threading
import time
from urllib.parse import urlencode, urlsplit

TERMINAL_STATUSES = frozenset({"finished", "failed", "stopped"})
SUBMIT_TIMEOUT = 300.0
"""Default of :attr:`JobControllerClient.submit_timeout` (REANA_JOB_CONTROLLER_START_TIMEOUT's)."""
_STALE_CONNECTION_ERRORS = (http.client.RemoteDisconnected, BrokenPipeError,
                            ConnectionResetError)


class JobControllerUnavailable(RuntimeError):
    """The job controller did not answer, or answered with an error."""


class JobControllerRefused(JobControllerUnavailable):
    """The job controller answered with an error status (``status_code``)."""

    def __init__(self, status_code: int, message: str):
        super().__init__(f"The job controller answered {status_code}: {message}")
        self.status_code = status_code


class JobControllerClient:
    """Calls of one run's job controller."""

    def __init__(self, base_url: str, timeout: float = 30.0, token: str | None = None,
                 submit_timeout: float | None = None):
        self.base_url = base_url.rstrip("/")
        self.token = token
        """Sent as ``Authorization: Bearer <token>`` when set (a job controller that checks it)."""
        parsed = urlsplit(self.base_url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 80
        self.prefix = parsed.path
        self.timeout = timeout
        self.submit_timeout = max(timeout, SUBMIT_TIMEOUT if submit_timeout is None
                                  else submit_timeout)
        """Seconds a job's creation may take: it is not repeatable (a creation given up on
        while the job controller goes on leaves a job nobody follows), and it includes the
        backend's first-use start (a connection to a Slurm login node, a Kubernetes client),
        which a loaded machine makes slow; a job controller that is gone refuses at once."""
        self._local = threading.local()

    # --- transport -------------------------------------------------------------------------
    def _connection(self, timeout: float) -> tuple[http.client.HTTPConnection, bool]:
        connection = getattr(self._local, "connection", None)
        reused = connection is not None
        if connection is None:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
            connection.connect()
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._local.connection = connection
        connection.sock.settimeout(timeout)
        return connection, reused

    def _drop_connection(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
        self._local.connection = None

    def _request(self, method: str, path: str, body: bytes | None = None,
                 timeout: float | None = None) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        for attempt in (1, 2):
            try:
                connection, reused = self._connection(timeout or self.timeout)
                connection.request(method, self.prefix + path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                if response.will_close:
                    self._drop_connection()
                return response.status, data
            except _STALE_CONNECTION_ERRORS as error:
                self._drop_connection()
                # A kept-alive connection the server closed meanwhile: the request never
                # reached it, so sending it again on a fresh connection is safe.
                if attempt == 1 and reused:
                    continue
                raise JobControllerUnavailable(
                    f"The job controller at {self.base_url} is not reachable: {error}") from error
            except (OSError, http.client.HTTPException) as error:
                self._drop_connection()
                raise JobControllerUnavailable(
                    f"The job controller at {self.base_url} is not reachable: {error}") from error
        raise AssertionError("unreachable")

    def _call(self, method: str, path: str, payload: dict | None = None,
              timeout: float | None = None) -> bytes:
        body = None if payload is None else json.dumps(payload).encode()
        status, data = self._request(method, path, body, timeout)
        if status >= 400:
            try:
                message = json.loads(data).get("message", data.decode(errors="replace"))
            except ValueError:
                message = data.decode(errors="replace")
            raise JobControllerRefused(status, message)
        return data

    def _call_retrying(self, method: str, path: str, timeout: float, retry_for: float) -> bytes:
        give_up = time.monotonic() + retry_for
        delay = 0.05
        while True:
            try:
                return self._call(method, path, timeout=timeout)
            except JobControllerRefused:
                raise
            except JobControllerUnavailable:
                if time.monotonic() + delay > give_up:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    # --- API -------------------------------------------------------------------------------
    def wait_until_ready(self, timeout: float = 30.0, interval: float = 0.005) -> None:
        """Block until ``GET /jobs`` answers (bounded by ``timeout`` seconds).

        A refused connection costs microseconds, so the short interval only trims
        the wait of a run's first job while its job controller starts.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._call("GET", "/jobs", timeout=2)
                return
            except JobControllerUnavailable as error:
                if time.monotonic() >= deadline:
                    raise JobControllerUnavailable(
                        f"The job controller at {self.base_url} did not answer within "
                        f"{timeout:g} s: {error}") from error
                time.sleep(interval)

    def submit(self, cmd: str, **fields) -> str:
        """Create a job running the shell string ``cmd``; returns its id."""
        payload = dict(fields, cmd=base64.b64encode(cmd.encode()).decode())
        return json.loads(self._call("POST", "/jobs", payload,
                                     timeout=self.submit_timeout))["job_id"]

    def get(self, job_id: str) -> dict:
        """The job as the job controller describes it (``status``, ``exit_code``...)."""
        return json.loads(self._call("GET", f"/jobs/{job_id}"))

    def wait(self, job_id: str, timeout: float | None = None, chunk: float = 60.0,
             unreachable_for: float = 10.0) -> dict:
        """The job once terminal (long-poll in chunks), or as it is after ``timeout``.

        An unreachable job controller is retried for ``unreachable_for`` seconds (the
        question is idempotent) before :class:`JobControllerUnavailable` is raised.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = chunk if deadline is None else max(0.0, min(chunk, deadline - time.monotonic()))
            query = urlencode({"wait": f"{wait:g}"})
            job = json.loads(self._call_retrying("GET", f"/jobs/{job_id}?{query}",
                                                 wait + self.timeout, unreachable_for))
            if job["status"] in TERMINAL_STATUSES:
                return job
            if deadline is not None and time.monotonic() >= deadline:
                return job

    def logs(self, job_id: str) -> str:
        """The job's output so far."""
        return self._call("GET", f"/jobs/{job_id}/logs").decode(errors="replace")

    def stop(self, job_id: str) -> None:
        """Stop the job (it ends ``stopped``, its logs kept)."""
        self._call("DELETE", f"/jobs/{job_id}/")

    def list(self) -> dict:
        """Every job of the run, by id."""
        return json.loads(self._call("GET", "/jobs"))["jobs"]

    def shutdown(self) -> dict:
        """Stop every job and refuse new ones (the run is ending)."""
        return json.loads(self._call("DELETE", "/shutdown"))
