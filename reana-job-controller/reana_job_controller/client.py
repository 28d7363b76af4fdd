"""HTTP client of the job controller, for workflow engines (only ``requests`` needed).

One keep-alive session; :meth:`JobControllerClient.wait` uses the long-poll
extension (``GET /jobs/<id>?wait=<s>``) so an engine learns a job's end as
soon as the job controller does, with no polling interval.
"""

from __future__ import annotations

import base64
import time

import requests

TERMINAL_STATUSES = frozenset({"finished", "failed", "stopped"})


class JobControllerUnavailable(RuntimeError):
    """The job controller did not answer."""


class JobControllerClient:
    """Calls of one run's job controller."""

    def __init__(self, base_url: str, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False  # no proxies or .netrc lookups on every call

    def _call(self, method: str, path: str, timeout: float | None = None, **kwargs):
        try:
            response = self.session.request(method, self.base_url + path,
                                            timeout=timeout or self.timeout, **kwargs)
        except requests.RequestException as error:
            raise JobControllerUnavailable(
                f"The job controller at {self.base_url} is not reachable: {error}") from error
        if response.status_code >= 400:
            try:
                message = response.json().get("message", response.text)
            except ValueError:
                message = response.text
            raise JobControllerUnavailable(
                f"The job controller answered {response.status_code}: {message}")
        return response

    def wait_until_ready(self, timeout: float = 30.0, interval: float = 0.05) -> None:
        """Block until ``GET /jobs`` answers (bounded by ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.session.get(self.base_url + "/jobs", timeout=2).raise_for_status()
                return
            except requests.RequestException as error:
                if time.monotonic() >= deadline:
                    raise JobControllerUnavailable(
                        f"The job controller at {self.base_url} did not answer within "
                        f"{timeout:g} s: {error}") from error
                time.sleep(interval)

    def submit(self, cmd: str, **fields) -> str:
        """Create a job running the shell string ``cmd``; returns its id."""
        body = dict(fields, cmd=base64.b64encode(cmd.encode()).decode())
        return self._call("POST", "/jobs", json=body).json()["job_id"]

    def get(self, job_id: str) -> dict:
        return self._call("GET", f"/jobs/{job_id}").json()

    def wait(self, job_id: str, timeout: float | None = None, chunk: float = 60.0) -> dict:
        """The job once terminal (long-poll in chunks), or as it is after ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = chunk if deadline is None else max(0.0, min(chunk, deadline - time.monotonic()))
            job = self._call("GET", f"/jobs/{job_id}", params={"wait": f"{wait:g}"},
                             timeout=wait + self.timeout).json()
            if job["status"] in TERMINAL_STATUSES:
                return job
            if deadline is not None and time.monotonic() >= deadline:
                return job

    def logs(self, job_id: str) -> str:
        return self._call("GET", f"/jobs/{job_id}/logs").text

    def stop(self, job_id: str) -> None:
        self._call("DELETE", f"/jobs/{job_id}/")

    def list(self) -> dict:
        return self._call("GET", "/jobs").json()["jobs"]

    def shutdown(self) -> dict:
        return self._call("DELETE", "/shutdown").json()
