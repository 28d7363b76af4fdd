"""``/<workflow uuid>/...``: the run's interactive session, proxied to its Jupyter server.

Every method, HTTP and WebSocket (kernels, terminals, events), under the path Jupyter
was started with (its ``base_url``), so nothing is rewritten. Who may pass is
:mod:`reana_server.session_access`'s to say; the credential parameters are removed and
Jupyter is presented the session's secret instead. Bodies stream both ways; a WebSocket
handshake is forwarded as it is and, once Jupyter switched protocols, the connection
becomes a byte tunnel served by :mod:`reana_server.session_tunnel`.
"""

from __future__ import annotations

import http.client
import uuid
from urllib.parse import urlencode

from flask import Blueprint, current_app, request
from reana_commons.session_endpoints import EndpointConnection, open_socket
from reana_db.database import db_session

from reana_server.errors import BadRequest, ServerError
from reana_server.session_access import (
    COOKIE,
    TOKEN_PARAMETERS,
    Target,
    admit,
    cookie_value,
    presented_tokens,
)
from reana_server.session_tunnel import relay, take_over

blueprint = Blueprint("session_proxy", __name__)

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                        "te", "trailer", "transfer-encoding", "upgrade", "host",
                        "authorization", "cookie", "content-length"})
"""Request headers not copied as they are (hop-by-hop, or rewritten here)."""
RESPONSE_DROPPED = frozenset({"connection", "keep-alive", "proxy-authenticate", "trailer",
                              "transfer-encoding", "upgrade", "content-length"})
CHUNK = 65536
MAX_HEAD = 65536
UPSTREAM_TIMEOUT = 300.0


class SessionUnavailable(ServerError):
    """The session's server does not answer (yet)."""

    status_code = 503


@blueprint.route("/<uuid:workflow_id>", methods=METHODS, strict_slashes=False)
@blueprint.route("/<uuid:workflow_id>/<path:rest>", methods=METHODS)
# werkzeug routes WebSocket handshakes only to rules that say they take them
@blueprint.route("/<uuid:workflow_id>/<path:rest>", methods=["GET"], websocket=True)
def proxy(workflow_id: uuid.UUID, rest: str = ""):
    """Serve the session of run ``workflow_id`` to its owner."""
    secret_key = current_app.config["SECRET_KEY"]
    tokens = _tokens()
    target, set_cookie = admit(db_session(), workflow_id, tokens, request.cookies.get(COOKIE),
                               secret_key)
    db_session.remove()  # a request may last (a download): hold no connection meanwhile
    path = f"{target.base_url}{rest}"
    query = [(k, v) for k, v in request.args.items(multi=True) if k not in TOKEN_PARAMETERS]
    if query:
        path += "?" + urlencode(query)
    if request.headers.get("Upgrade", "").lower() == "websocket":
        response = _websocket(target, path)
    else:
        response = _http(target, path)
    if set_cookie:
        response.set_cookie(COOKIE, cookie_value(secret_key, target), path=target.path,
                            httponly=True, samesite="Strict", secure=request.is_secure)
    return response


def _tokens() -> list[str]:
    query = {name: request.args.get(name) for name in TOKEN_PARAMETERS}
    return presented_tokens(query, request.headers.get("Authorization"))


def _upstream_headers(target: Target) -> dict[str, str]:
    headers = {name: value for name, value in request.headers.items()
               if name.lower() not in HOP_BY_HOP}
    headers["Host"] = request.host
    headers["Authorization"] = f"token {target.secret}"
    private = {COOKIE, current_app.config.get("SESSION_COOKIE_NAME", "session")}
    cookies = "; ".join(f"{name}={value}" for name, value in request.cookies.items(multi=True)
                        if name not in private)
    if cookies:
        headers["Cookie"] = cookies
    return headers


def _http(target: Target, path: str):
    headers = _upstream_headers(target)
    length = request.content_length
    body = None
    if length:
        headers["Content-Length"] = str(length)
        body = _chunks(request.stream)
    elif request.headers.get("Transfer-Encoding", "").lower() == "chunked":
        body = _chunks(request.stream)
    connection = EndpointConnection(target.endpoint, timeout=UPSTREAM_TIMEOUT)
    try:
        connection.request(request.method, path, body=body, headers=headers,
                           encode_chunked=body is not None and not length)
        upstream = connection.getresponse()
    except OSError as error:
        connection.close()
        raise SessionUnavailable(
            "The interactive session is not answering yet: it may take a few moments to "
            f"start; try again shortly ({error.strerror or error}).") from None
    except http.client.HTTPException as error:
        connection.close()
        raise SessionUnavailable(f"The interactive session answered badly: {error}") from None
    response_headers = [(name, value) for name, value in upstream.getheaders()
                        if name.lower() not in RESPONSE_DROPPED]
    if upstream.getheader("Content-Length") and not upstream.getheader("Transfer-Encoding"):
        response_headers.append(("Content-Length", upstream.getheader("Content-Length")))
    response = current_app.response_class(_relay_body(upstream, connection),
                                          status=upstream.status, headers=response_headers,
                                          direct_passthrough=True)
    response.call_on_close(connection.close)
    return response


def _chunks(stream):
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            return
        yield chunk


def _relay_body(upstream, connection):
    try:
        while True:
            chunk = upstream.read1(CHUNK) if hasattr(upstream, "read1") else upstream.read(CHUNK)
            if not chunk:
                return
            yield chunk
    finally:
        connection.close()


def _websocket(target: Target, path: str):
    """Forward the handshake; on ``101`` hand the connection to the relay."""
    server_socket = request.environ.get("gunicorn.socket") or request.environ.get(
        "werkzeug.socket")
    if server_socket is None:
        raise BadRequest("This server cannot tunnel WebSockets (no raw socket from its WSGI "
                         "server).")
    headers = _upstream_headers(target)
    for name in ("Upgrade", "Connection"):
        headers[name] = request.headers.get(name, "")
    head = [f"{request.method} {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()]
    try:
        upstream = open_socket(target.endpoint, timeout=30)
    except OSError as error:
        raise SessionUnavailable(
            "The interactive session is not answering yet: it may take a few moments to "
            f"start; try again shortly ({error.strerror or error}).") from None
    try:
        upstream.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        answer = _read_head(upstream)
    except OSError as error:
        upstream.close()
        raise SessionUnavailable(f"The interactive session did not answer: {error}") from None
    status_line = answer.split(b"\r\n", 1)[0].decode("latin-1")
    status = int(status_line.split(" ")[1]) if status_line.count(" ") else 502
    if status != 101:
        return _plain_answer(upstream, answer, status)
    client = take_over(server_socket)
    upstream.settimeout(None)
    relay().add(client, upstream, answer)
    # The WSGI server's socket now leads nowhere: what it writes next is dropped.
    return current_app.response_class(b"", status=101)


def _read_head(sock) -> bytes:
    """The response head and whatever followed it in the same reads."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(CHUNK)
        if not chunk:
            break
        data += chunk
        if len(data) > MAX_HEAD:
            raise OSError("response head too large")
    return data


def _plain_answer(upstream, answer: bytes, status: int):
    """A refused handshake's answer (e.g. Jupyter's 403 or 404) passed on as HTTP."""
    head, _, body = answer.partition(b"\r\n\r\n")
    headers = []
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value.strip() or 0)
        elif name.lower() not in RESPONSE_DROPPED:
            headers.append((name.strip(), value.strip()))
    try:
        while length is not None and len(body) < length:
            chunk = upstream.recv(CHUNK)
            if not chunk:
                break
            body += chunk
    finally:
        upstream.close()
    return current_app.response_class(body[:length] if length is not None else body,
                                      status=status, headers=headers)
