"""HTTP front of the double: the REST paths the official client calls, and watch streams."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from k8s_double.cluster import KINDS, FakeCluster
from k8s_double.store import ApiError

_ROUTES = [
    (re.compile(r"^/api/v1/namespaces/([^/]+)/(pods|secrets|services)$"), False),
    (re.compile(r"^/apis/batch/v1/namespaces/([^/]+)/(jobs)$"), False),
    (re.compile(r"^/apis/apps/v1/namespaces/([^/]+)/(deployments)$"), False),
    (re.compile(r"^/api/v1/namespaces/([^/]+)/(pods|secrets|services)/([^/]+)(/log|/status)?$"),
     True),
    (re.compile(r"^/apis/batch/v1/namespaces/([^/]+)/(jobs)/([^/]+)(/status)?$"), True),
    (re.compile(r"^/apis/apps/v1/namespaces/([^/]+)/(deployments)/([^/]+)(/status)?$"), True),
]
MAX_WATCH_SECONDS = 1800


def _true(value: str | None) -> bool:
    """Go's ``strconv.ParseBool`` (old clients send ``watch=True``)."""
    return (value or "").lower() in ("1", "t", "true")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    cluster: FakeCluster
    server_ref: ApiServer

    def log_message(self, *args):  # quiet
        pass

    # --- plumbing ------------------------------------------------------------------------
    def _send(self, code: int, body, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            raise ApiError(400, "BadRequest", "the request body is not JSON") from None

    def _dispatch(self, method: str) -> None:
        url = urlparse(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        self.cluster.requests.append((method, url.path + ("?watch" if _true(
            query.get("watch")) else "")))
        try:
            if url.path == "/version":
                return self._send(200, {"major": "1", "minor": self.cluster.k8s_version[2:],
                                        "gitVersion": f"v{self.cluster.k8s_version}.0-double"})
            for pattern, named in _ROUTES:
                match = pattern.match(url.path)
                if match:
                    return self._route(method, match.groups(), named, query)
            raise ApiError(404, "NotFound", f"the double has no route {url.path}")
        except ApiError as error:
            self._send(error.code, error.status())
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as error:  # noqa: BLE001 - shown to the client and recorded
            self.cluster.problems.append(f"{method} {url.path}: {error!r}")
            self._send(500, ApiError(500, "InternalError", repr(error)).status())

    def _route(self, method: str, groups: tuple, named: bool, query: dict) -> None:
        cluster = self.cluster
        namespace, resource = groups[0], groups[1]
        if not named:
            if method == "GET" and _true(query.get("watch")):
                return self._watch(resource, namespace, query)
            if method == "GET":
                items, version = cluster.store.list(resource, namespace,
                                                    query.get("labelSelector"))
                api_version, kind = KINDS[resource]
                return self._send(200, {"kind": f"{kind}List", "apiVersion": api_version,
                                        "metadata": {"resourceVersion": version},
                                        "items": items})
            if method == "POST":
                return self._send(201, cluster.create(resource, namespace, self._body()))
            raise ApiError(405, "MethodNotAllowed", f"{method} on a {resource} collection")
        name, sub = groups[2], groups[3]
        if sub == "/log":
            return self._log(namespace, name, query)
        if method == "GET":
            return self._send(200, cluster.store.get(resource, namespace, name))
        if method == "PUT" and not sub:
            return self._send(200, cluster.replace(resource, namespace, name, self._body()))
        if method == "DELETE":
            options = self._body()
            for key in ("propagationPolicy", "gracePeriodSeconds"):
                if key in query:
                    options[key] = query[key] if key == "propagationPolicy" else int(query[key])
            return self._send(200, cluster.delete(resource, namespace, name, options))
        raise ApiError(405, "MethodNotAllowed", f"{method} {self.path}")

    # --- logs ----------------------------------------------------------------------------
    def _log(self, namespace: str, name: str, query: dict) -> None:
        pod = self.cluster.store.get("pods", namespace, name)
        names = [c["name"] for c in pod["spec"]["containers"]]
        container = query.get("container")
        if container is None:
            if len(names) != 1:
                raise ApiError(400, "BadRequest",
                               f"a container name must be specified for pod {name}, "
                               f"choose one of: [{' '.join(names)}]")
            container = names[0]
        if container not in names:
            raise ApiError(400, "BadRequest",
                           f"container {container} is not valid for pod {name}")
        for status in pod.get("status", {}).get("containerStatuses") or []:
            waiting = status["state"].get("waiting")
            if status["name"] == container and waiting:
                raise ApiError(400, "BadRequest",
                               f'container "{container}" in pod "{name}" is waiting to start: '
                               f"{waiting.get('reason')}")
        runner = self.cluster.runners.get((namespace, name))
        path = (runner.log_path(container) if runner else
                self.cluster.state_dir / "pods" / namespace / name / f"{container}.log")
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            data = b""
        if query.get("tailLines"):
            data = b"".join(data.splitlines(keepends=True)[-int(query["tailLines"]):])
        self._send(200, data, "text/plain")

    # --- watch ---------------------------------------------------------------------------
    def _watch(self, resource: str, namespace: str, query: dict) -> None:
        store = self.cluster.store
        selector = query.get("labelSelector")
        timeout = min(int(query.get("timeoutSeconds") or MAX_WATCH_SECONDS), MAX_WATCH_SECONDS)
        deadline = time.monotonic() + timeout
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        start = query.get("resourceVersion")
        if start and start != "0":
            version = int(start)
        else:
            items, current = store.list(resource, namespace, selector)
            for item in items:
                self._chunk({"type": "ADDED", "object": item})
            version = int(current)
        while not store.closed and not self.server_ref.stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            events, _ = store.events_after(version, resource, namespace, selector,
                                           min(remaining, 0.5))
            for event_version, type_, obj in events:
                self._chunk({"type": type_, "object": obj})
                version = event_version
        self.wfile.write(b"0\r\n\r\n")

    def _chunk(self, event: dict) -> None:
        data = json.dumps(event).encode() + b"\n"
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def do_GET(self):  # noqa: N802
        self._dispatch("GET")

    def do_POST(self):  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self):  # noqa: N802
        self._dispatch("PUT")

    def do_DELETE(self):  # noqa: N802
        self._dispatch("DELETE")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """Clients closing watch connections are normal; other errors are printed."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class ApiServer:
    """The double on ``127.0.0.1:<port>`` (``start()`` → URL; ``stop()``)."""

    def __init__(self, cluster: FakeCluster, port: int = 0):
        self.cluster = cluster
        self.stopping = threading.Event()
        handler = type("Handler", (_Handler,), {"cluster": cluster, "server_ref": self})
        self.httpd = _Server(("127.0.0.1", port), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="k8s-double",
                                       daemon=True)

    def start(self) -> str:
        self.cluster.write_kubeconfig(self.url)
        self.thread.start()
        return self.url

    def stop(self) -> None:
        self.stopping.set()
        self.cluster.shutdown()
        self.httpd.shutdown()
        self.httpd.server_close()
