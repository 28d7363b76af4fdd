"""The reana-server API client, driven by the server's committed OpenAPI spec.

Two interchangeable back ends call an operation by its ``operationId``:

* :class:`SpecClient` (default) reads the spec JSON and sends requests with
  ``http.client`` using bravado-core 6's wire encoding (booleans ``true``/``false``,
  arrays as CSV, path parameters quoted with ``safe=","``, JSON bodies, ``None``
  dropped). It imports nothing heavy, so ``reana-client status`` starts in well
  under 0.3 s; importing bravado alone costs over half a second (jsonschema and
  its format checkers).
* :class:`BravadoClient` builds a bravado ``SwaggerClient`` from the same spec
  with response validation on, exactly like reana-client 0.9.6 does. It is used
  when ``REANA_CLIENT_BRAVADO=1`` (tests use it to prove the server's answers
  match the spec).

Both return the decoded JSON body of a 2xx answer and raise :class:`APIError`
for anything else.
"""

from __future__ import annotations

import json
import os
import sys
import time
from functools import lru_cache

SPEC_ENV = "REANA_CLIENT_SPEC_FILE"
"""Development/testing override of the spec location (a path to a JSON file)."""

BRAVADO_ENV = "REANA_CLIENT_BRAVADO"


class APIError(Exception):
    """A non-successful answer of reana-server (or no answer at all)."""

    def __init__(self, status_code: int | None, payload=None, text: str = ""):
        super().__init__(status_code, payload)
        self.status_code = status_code
        self.payload = payload
        self.text = text

    @property
    def message(self) -> str:
        """The server's ``message`` (REANA's error body), or a fallback text."""
        if isinstance(self.payload, dict) and "message" in self.payload:
            return str(self.payload["message"])
        if self.payload is not None and not isinstance(self.payload, dict):
            return str(self.payload)
        return self.text or f"HTTP {self.status_code}"

    def __str__(self) -> str:
        return self.message


class ServerUnreachable(APIError):
    """The server could not be contacted (DNS, refused connection, TLS...)."""

    def __init__(self, reason: str):
        super().__init__(None, None, reason)


def spec_path() -> str:
    """Where the reana-server OpenAPI spec lives: reana-commons' committed copy."""
    override = os.environ.get(SPEC_ENV)
    if override:
        return override
    from importlib.util import find_spec  # locates the package without executing it

    package_dir = os.path.dirname(find_spec("reana_commons").origin)
    return os.path.join(package_dir, "openapi_specifications", "reana_server.json")


@lru_cache(maxsize=1)
def load_spec() -> dict:
    """The parsed reana-server spec (read once per process)."""
    with open(spec_path(), encoding="utf-8") as handle:
        return json.load(handle)


def _operations(spec: dict) -> dict:
    ops = {}
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            if isinstance(operation, dict) and "operationId" in operation:
                ops[operation["operationId"]] = (method.upper(), path, operation)
    return ops


def _encode_scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def encode_request(path: str, operation: dict, kwargs: dict):
    """Build ``(path with query, body bytes or None)`` as bravado-core 6 would."""
    from urllib.parse import quote, urlencode

    query, body, resolved = [], None, path
    known = set()
    for param in operation.get("parameters", []):
        name = param["name"]
        known.add(name)
        value = kwargs.get(name)
        if value is None:
            if param.get("required") and param["in"] == "path":
                raise TypeError(f"missing path parameter {name}")
            continue
        where = param["in"]
        if where == "path":
            resolved = resolved.replace("{" + name + "}", quote(str(value), safe=","))
        elif where == "query":
            if param.get("type") == "array":
                value = ",".join(_encode_scalar(v) for v in value)
            query.append((name, _encode_scalar(value)))
        elif where == "body":
            body = json.dumps(_marshal(value, param.get("schema") or {})).encode()
    unknown = set(kwargs) - known
    if unknown:
        raise TypeError(f"unknown parameters {sorted(unknown)} for {operation['operationId']}")
    if query:
        resolved += "?" + urlencode(query, safe=",/*")
    return resolved, body


def _marshal(value, schema: dict):
    """bravado-core's marshalling of a body: ``None`` dropped only where the schema declares it.

    A declared, optional, non-``x-nullable`` property that is ``None`` is left
    out; anything else, such as a reana.yaml's ``"specification": null`` or a
    step's ``"compute_backend": null``, is sent as it is.
    """
    if not isinstance(value, dict) or schema.get("type") != "object":
        return value
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    extra = schema.get("additionalProperties")
    marshalled = {}
    for key, item in value.items():
        declared = properties.get(key)
        if item is None and declared is not None:
            if key not in required and not declared.get("x-nullable"):
                continue
        item_schema = declared if declared is not None else extra
        marshalled[key] = _marshal(item, item_schema) if isinstance(item_schema, dict) else item
    return marshalled


class SpecClient:
    """Calls reana-server operations by operationId over a plain socket.

    ``http.client`` alone costs ~100 ms of imports (it pulls in the email
    package); a request here is one HTTP/1.1 exchange with ``Connection: close``,
    read to the end of the stream.
    """

    def __init__(self, server_url: str, spec: dict | None = None, timeout: float | None = None):
        from urllib.parse import urlsplit

        self.server_url = server_url.strip(" \t\n\r/")
        self.operations = _operations(spec or load_spec())
        self.timeout = timeout
        parts = urlsplit(self.server_url)
        self._scheme, self._netloc, self._prefix = parts.scheme, parts.netloc, parts.path
        self._host = parts.hostname or "localhost"
        self._port = parts.port or (443 if parts.scheme == "https" else 80)

    def _exchange(self, method: str, target: str, body: bytes | None, headers: dict):
        import socket

        sock = socket.create_connection((self._host, self._port), timeout=self.timeout)
        try:
            if self._scheme == "https":
                import ssl

                context = ssl._create_unverified_context()  # REANA: ssl_verify=False
                sock = context.wrap_socket(sock, server_hostname=self._host)
            head = [
                f"{method} {target} HTTP/1.1",
                f"Host: {self._netloc}",
                "Connection: close",
                f"Content-Length: {len(body or b'')}",
            ]
            head += [f"{k}: {v}" for k, v in headers.items()]
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + (body or b""))
            chunks = []
            while data := sock.recv(65536):
                chunks.append(data)
        finally:
            sock.close()
        return parse_response(b"".join(chunks))

    def call(self, operation_id: str, **kwargs):
        """Perform one operation; returns the decoded JSON (or text) of a 2xx answer."""
        method, path, operation = self.operations[operation_id]
        target, body = encode_request(path, operation, kwargs)
        headers = {"Accept": "application/json", "User-Agent": "reana-client"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        began = time.monotonic()
        _debug("-> %s %s%s%s", method, self.server_url, target,
               f" ({len(body)} bytes of JSON)" if body else "")
        try:
            status, response_headers, raw = self._exchange(
                method, self._prefix + target, body, headers
            )
        except (OSError, ValueError) as error:
            _debug("<- no answer: %s", error)
            raise ServerUnreachable(str(error) or type(error).__name__) from error
        _debug("<- %s %s: %s (%d bytes, %.0f ms)", method, path, status, len(raw),
               (time.monotonic() - began) * 1000)
        text = raw.decode("utf-8", "replace")
        payload = None
        if response_headers.get("content-type", "").startswith("application/json"):
            try:
                payload = json.loads(text) if text else None
            except ValueError:
                payload = None
        declared = str(status) in operation.get("responses", {})
        if 200 <= status < 300 and declared:
            return payload if payload is not None or not text else text
        raise APIError(status, payload, text)

    def close(self) -> None:
        """Nothing is kept open between calls."""


def _debug(text: str, *args) -> None:
    """Log an HTTP exchange at DEBUG (``-l DEBUG``); the CLI's log filter hides the token.

    ``logging`` is imported by the CLI only when a log level is asked for: no cost otherwise.
    """
    logging = sys.modules.get("logging")
    if logging is not None and logging.getLogger("reana_client").isEnabledFor(logging.DEBUG):
        logging.getLogger("reana_client").debug(text, *args)


def parse_response(raw: bytes) -> tuple[int, dict, bytes]:
    """``(status, lower-cased headers, body)`` of a complete HTTP/1.x response."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        raise ValueError("incomplete HTTP response")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _dechunk(body)
    elif "content-length" in headers:
        body = body[: int(headers["content-length"])]
    return status, headers, body


def _dechunk(data: bytes) -> bytes:
    out, position = [], 0
    while True:
        end = data.index(b"\r\n", position)
        size = int(data[position:end].split(b";")[0], 16)
        if size == 0:
            return b"".join(out)
        out.append(data[end + 2 : end + 2 + size])
        position = end + 2 + size + 2


class BravadoClient:
    """The same interface over a validating bravado ``SwaggerClient`` (as in REANA)."""

    def __init__(self, server_url: str, spec: dict | None = None):
        from reana_client.specification import skip_slow_format_checkers

        skip_slow_format_checkers()
        from bravado.client import SwaggerClient
        from bravado.requests_client import RequestsClient

        self.server_url = server_url.strip(" \t\n\r/")
        spec = dict(spec or load_spec())
        self.swagger = SwaggerClient.from_spec(
            spec,
            origin_url=self.server_url,
            http_client=RequestsClient(ssl_verify=False),
            config={"also_return_response": True, "use_models": False},
        )

    def call(self, operation_id: str, **kwargs):
        """Perform one operation through bravado; errors become :class:`APIError`."""
        import requests
        from bravado.exception import HTTPError

        operation = getattr(self.swagger.api, operation_id)
        try:
            result, _response = operation(**kwargs).result()
        except HTTPError as error:
            response = error.response
            payload = None
            try:
                payload = response.json()
            except Exception:  # noqa: BLE001 - non-JSON error body
                payload = None
            raise APIError(response.status_code, payload, response.text) from error
        except requests.exceptions.ConnectionError as error:
            raise ServerUnreachable(str(error)) from error
        return result

    def close(self) -> None:
        """Nothing to close (requests manages its pool)."""


def make_client(server_url: str):
    """The configured back end for ``server_url``."""
    if os.environ.get(BRAVADO_ENV, "").lower() in ("1", "true", "yes"):
        return BravadoClient(server_url)
    return SpecClient(server_url)
