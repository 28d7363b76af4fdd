"""HTTP client of reana-workflow-controller's internal REST API.

The API is REANA 0.9's (``spec/reana_workflow_controller.json``): every call
carries ``?user=<owner uuid>``, which the workflow controller trusts because
every call also carries the platform's service credential
(:mod:`reana_commons.service_auth`). Methods return the :class:`requests.Response` as is,
whatever its status, so callers can forward the controller's status code and
``{"message"}`` body; only an unreachable controller raises
:class:`WorkflowControllerUnavailable`. File bodies stream both ways: uploads
take any iterable or file-like object, downloads are opened with
``stream=True`` and must be closed by the caller.
"""

from __future__ import annotations

from typing import IO, Any
from urllib.parse import quote

import requests
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from reana_commons.config import get_config
from reana_commons.errors import REANAError
from reana_commons.service_auth import bearer, service_credential
from reana_commons.structured_logs import REQUEST_ID, REQUEST_ID_HEADER

DEFAULT_TIMEOUT = 120.0
"""Seconds to wait for the controller (connect and each read)."""

POOL_SIZE = 32
"""Kept-alive connections per client: at least the threads of a server worker."""


class _RetryOnReset(Retry):
    """urllib3's retries, but a read timeout is final: the controller is slow, not gone.

    (urllib3 counts both a reset connection and a read timeout as read errors; a
    retried timeout would double a long wait.)
    """

    def increment(self, method=None, url=None, *args, error=None, **kwargs):
        if isinstance(error, ReadTimeoutError):
            final = self.new(read=False)  # urllib3 re-raises a read error when read is False
            return Retry.increment(final, method, url, *args, error=error, **kwargs)
        return super().increment(method, url, *args, error=error, **kwargs)


def internal_session() -> requests.Session:
    """A keep-alive session for calls between the platform's own services.

    - No proxy or ``.netrc`` look-up (``trust_env``): the controller is internal,
      and requests would otherwise scan the environment on every call.
    - A pool as large as the threads sharing the client, so no connection is
      thrown away and re-opened under concurrency.
    - Idempotent calls (GET, PUT, DELETE) are retried once when the connection
      fails, e.g. reset by the controller closing it as it sat idle in the pool.
      POST is not: the controller may have acted on it.
    """
    session = requests.Session()
    session.trust_env = False
    retry = _RetryOnReset(total=1, connect=1, read=1, status=0, other=0, redirect=0,
                          backoff_factor=0, raise_on_status=False)
    adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=POOL_SIZE,
                                            max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class WorkflowControllerUnavailable(REANAError):
    """The workflow controller could not be reached or did not answer in time."""


def _segment(value: Any) -> str:
    """One path segment, percent-encoded completely (``/`` included)."""
    return quote(str(value), safe="")


def _file_path(value: str) -> str:
    """A workspace path in a URL: each component encoded, ``/`` kept."""
    return "/".join(quote(part, safe="") for part in str(value).split("/"))


class WorkflowControllerClient:
    """Calls of the workflow controller's ``/api/workflows...`` endpoints."""

    def __init__(
        self,
        base_url: str | None = None,
        session: requests.Session | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        credential: str | None = None,
    ):
        self.base_url = (base_url or get_config().workflow_controller_url).rstrip("/")
        self.session = session or internal_session()
        self.timeout = timeout
        self.headers = bearer(credential or service_credential())

    def request(
        self,
        method: str,
        path: str,
        user_id: Any,
        params: dict | None = None,
        **kwargs,
    ) -> requests.Response:
        """Send one request; ``user`` is always added to the query."""
        query = {"user": str(user_id)}
        for key, value in (params or {}).items():
            if value is None:
                continue
            query[key] = ("true" if value else "false") if isinstance(value, bool) else value
        kwargs.setdefault("timeout", self.timeout)
        kwargs["headers"] = {**self.headers, **(kwargs.get("headers") or {})}
        request_id = REQUEST_ID.get()
        if request_id:  # the API call's id follows it into the controller's log
            kwargs["headers"][REQUEST_ID_HEADER] = request_id
        try:
            return self.session.request(method, self.base_url + path, params=query, **kwargs)
        except requests.RequestException as error:
            raise WorkflowControllerUnavailable(
                f"The workflow controller at {self.base_url} is not reachable: {error}"
            ) from error

    def get_engines(self) -> requests.Response:
        """``GET /api/engines``: the workflow engines the controller can start."""
        try:
            return self.session.get(self.base_url + "/api/engines", headers=self.headers,
                                    timeout=self.timeout)
        except requests.RequestException as error:
            raise WorkflowControllerUnavailable(
                f"The workflow controller at {self.base_url} is not reachable: {error}"
            ) from error

    def _workflow(self, workflow_id_or_name: Any, suffix: str = "") -> str:
        return f"/api/workflows/{_segment(workflow_id_or_name)}{suffix}"

    # Workflows -----------------------------------------------------------------

    def list_workflows(self, user_id, **params) -> requests.Response:
        """``GET /api/workflows`` (type, verbose, search, sort, status, page, size, ...)."""
        return self.request("GET", "/api/workflows", user_id, params)

    def get_workflow_status(self, user_id, workflow) -> requests.Response:
        """``GET /api/workflows/<w>/status``."""
        return self.request("GET", self._workflow(workflow, "/status"), user_id)

    def set_workflow_status(
        self, user_id, workflow, status: str, parameters: dict | None = None
    ) -> requests.Response:
        """``PUT /api/workflows/<w>/status?status=start|stop|deleted``."""
        return self.request(
            "PUT",
            self._workflow(workflow, "/status"),
            user_id,
            {"status": status},
            json=parameters or {},
        )

    def get_workflow_logs(
        self, user_id, workflow, steps: list | None = None, page=None, size=None
    ) -> requests.Response:
        """``GET /api/workflows/<w>/logs`` (JSON array of step names as body)."""
        return self.request(
            "GET",
            self._workflow(workflow, "/logs"),
            user_id,
            {"page": page, "size": size},
            json=steps,
        )

    def get_job_log(self, user_id, workflow, job_id) -> requests.Response:
        """``GET /api/workflows/<w>/logs/<job id>``: one job's whole log, streamed: close it."""
        return self.request(
            "GET",
            self._workflow(workflow, f"/logs/{_segment(job_id)}"),
            user_id,
            stream=True,
        )

    def get_provenance(self, user_id, workflow) -> requests.Response:
        """``GET /api/workflows/<w>/provenance`` (our addition)."""
        return self.request("GET", self._workflow(workflow, "/provenance"), user_id)

    def get_ro_crate(self, user_id, workflow) -> requests.Response:
        """``GET /api/workflows/<w>/ro-crate``: the run's zipped RO-Crate, streamed: close it."""
        return self.request("GET", self._workflow(workflow, "/ro-crate"), user_id, stream=True)

    def get_workflow_parameters(self, user_id, workflow) -> requests.Response:
        """``GET /api/workflows/<w>/parameters``."""
        return self.request("GET", self._workflow(workflow, "/parameters"), user_id)

    def get_workflow_diff(
        self, user_id, workflow_a, workflow_b, brief=False, context_lines=None
    ) -> requests.Response:
        """``GET /api/workflows/<a>/diff/<b>``."""
        return self.request(
            "GET",
            self._workflow(workflow_a, f"/diff/{_segment(workflow_b)}"),
            user_id,
            {"brief": bool(brief), "context_lines": context_lines},
        )

    def get_workflow_retention_rules(self, user_id, workflow) -> requests.Response:
        """``GET /api/workflows/<w>/retention_rules``."""
        return self.request("GET", self._workflow(workflow, "/retention_rules"), user_id)

    # Workspace -----------------------------------------------------------------

    def upload_file(
        self, user_id, workflow, file_name: str, stream: IO[bytes] | Any
    ) -> requests.Response:
        """``POST /api/workflows/<w>/workspace?file_name=``: ``stream`` is sent as it is read."""
        return self.request(
            "POST",
            self._workflow(workflow, "/workspace"),
            user_id,
            {"file_name": file_name},
            data=stream,
            headers={"Content-Type": "application/octet-stream"},
        )

    def list_files(self, user_id, workflow, **params) -> requests.Response:
        """``GET /api/workflows/<w>/workspace`` (file_name, search, page, size)."""
        return self.request("GET", self._workflow(workflow, "/workspace"), user_id, params)

    def download_file(
        self, user_id, workflow, file_name: str, preview: bool = False
    ) -> requests.Response:
        """``GET /api/workflows/<w>/workspace/<path>``, streamed: close the response."""
        return self.request(
            "GET",
            self._workflow(workflow, "/workspace/" + _file_path(file_name)),
            user_id,
            {"preview": preview or None},
            stream=True,
        )

    def delete_file(self, user_id, workflow, file_name: str) -> requests.Response:
        """``DELETE /api/workflows/<w>/workspace/<path or glob>``."""
        return self.request(
            "DELETE", self._workflow(workflow, "/workspace/" + _file_path(file_name)), user_id
        )

    def move_files(self, user_id, workflow, source: str, target: str) -> requests.Response:
        """``PUT /api/workflows/move_files/<w>?source=&target=``."""
        return self.request(
            "PUT",
            f"/api/workflows/move_files/{_segment(workflow)}",
            user_id,
            {"source": source, "target": target},
        )

    def get_disk_usage(
        self, user_id, workflow, summarize: bool = False, search: str | None = None
    ) -> requests.Response:
        """``GET /api/workflows/<w>/disk_usage?summarize=&search=`` (our extension)."""
        return self.request(
            "GET",
            self._workflow(workflow, "/disk_usage"),
            user_id,
            {"summarize": bool(summarize), "search": search},
        )

    def prune_workspace(
        self, user_id, workflow, include_inputs: bool = False, include_outputs: bool = False
    ) -> requests.Response:
        """``POST /api/workflows/<w>/prune`` (our extension)."""
        return self.request(
            "POST",
            self._workflow(workflow, "/prune"),
            user_id,
            {"include_inputs": bool(include_inputs), "include_outputs": bool(include_outputs)},
        )

    # Interactive sessions -----------------------------------------------------

    def open_session(self, user_id, workflow, session_type: str,
                     image: str | None = None) -> requests.Response:
        """``POST /api/workflows/<w>/open/<type>`` (body ``{"image"}`` when given)."""
        return self.request(
            "POST",
            self._workflow(workflow, f"/open/{_segment(session_type)}"),
            user_id,
            json={"image": image} if image else {},
        )

    def close_session(self, user_id, workflow) -> requests.Response:
        """``POST /api/workflows/<w>/close/``."""
        return self.request("POST", self._workflow(workflow, "/close/"), user_id)
