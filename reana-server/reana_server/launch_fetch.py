"""Fetching a launch URL within the guard: pinned addresses, checked redirects, size and time
limits.

Every HTTP hop goes through :meth:`LaunchPolicy.pinned_address` and then connects
to that address (urllib3 with the URL's host name as ``Host`` header, TLS server
name and certificate name), so what was checked is what is reached. Environment
proxies are not used. A Git repository is cloned by ``git`` with only the HTTP(S)
transports enabled, no redirects, its host pinned to the checked address
(``http.curloptResolve``), no system or user configuration, no symbolic links in
the checkout, within the same size and time limits.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

import certifi
import urllib3
from urllib3.util import make_headers

from reana_server.launch_guard import LaunchPolicy, LaunchRefused

MAX_REDIRECTS = 5
READ_TIMEOUT = 30.0
CHUNK = 256 * 1024
REDIRECT_CODES = (301, 302, 303, 307, 308)
GIT_DISCOVERY = "/info/refs?service=git-upload-pack"


class _Deadline:
    """The time left of one launch's fetch."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self, url: str) -> float:
        remaining = self.end - time.monotonic()
        if remaining <= 0:
            raise LaunchRefused(f"Cannot fetch {url}: it took longer than {self.seconds:g} s.")
        return remaining


def _target(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of an HTTP(S) URL, or refused."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise LaunchRefused(f"URL {url} is not supported: only http and https URLs can be "
                            "launched.")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except ValueError as error:  # a bad port number, a host name IDNA cannot encode
        raise LaunchRefused(f"URL {url} is not valid: {error}") from error
    return scheme, host, port


def _host_header(scheme: str, host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port == (443 if scheme == "https" else 80) else f"{shown}:{port}"


def _pool(scheme: str, host: str, address: str, port: int, timeout: float):
    settings = {"timeout": urllib3.Timeout(connect=min(timeout, 10.0),
                                           read=min(timeout, READ_TIMEOUT)),
                "retries": False, "maxsize": 1}
    if scheme == "https":
        return urllib3.HTTPSConnectionPool(
            address, port, server_hostname=host, assert_hostname=host,
            cert_reqs="CERT_REQUIRED", ca_certs=certifi.where(), **settings)
    return urllib3.HTTPConnectionPool(address, port, **settings)


def _get(url: str, policy: LaunchPolicy, deadline: _Deadline):
    """One GET of ``url`` at its checked address (no redirect followed)."""
    scheme, host, port = _target(url)
    address = policy.pinned_address(host, port)
    parts = urlsplit(url)
    headers = {"Host": _host_header(scheme, host, port), "User-Agent": "reana-server-launch",
               "Accept-Encoding": "identity"}
    if parts.username is not None:
        headers.update(make_headers(basic_auth=f"{parts.username}:{parts.password or ''}"))
    path = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    pool = _pool(scheme, host, address, port, deadline.left(url))
    try:
        return pool.urlopen("GET", path, headers=headers, redirect=False, retries=False,
                            preload_content=False, assert_same_host=False)
    except (urllib3.exceptions.HTTPError, OSError, ValueError) as error:
        raise LaunchRefused(f"Cannot fetch {url}: {error}") from error


def open_url(url: str, policy: LaunchPolicy, deadline: _Deadline):
    """``(final URL, response)`` after following at most :data:`MAX_REDIRECTS` checked hops."""
    for _ in range(MAX_REDIRECTS + 1):
        response = _get(url, policy, deadline)
        if response.status not in REDIRECT_CODES:
            return url, response
        location = response.headers.get("Location")
        response.release_conn()
        if not location:
            raise LaunchRefused(f"Cannot fetch {url}: a redirect without a location.")
        url = urljoin(url, location)
    raise LaunchRefused(f"Cannot fetch {url}: more than {MAX_REDIRECTS} redirects.")


def download(url: str, target: Path, policy: LaunchPolicy) -> str:
    """Stream ``url`` into ``target`` within the limits; returns the response's content type."""
    deadline = _Deadline(policy.timeout)
    final, response = open_url(url, policy, deadline)
    limit = policy.max_bytes
    try:
        if response.status != 200:
            raise LaunchRefused(f"Cannot fetch {url}: HTTP {response.status}.")
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise LaunchRefused(f"Cannot fetch {url}: it is larger than {limit} bytes.")
        size = 0
        with open(target, "wb") as out:
            for chunk in response.stream(CHUNK, decode_content=False):
                size += len(chunk)
                if size > limit:
                    raise LaunchRefused(f"Cannot fetch {url}: it is larger than {limit} bytes.")
                out.write(chunk)
                deadline.left(url)
        return response.headers.get("Content-Type", "")
    except (urllib3.exceptions.HTTPError, OSError) as error:
        raise LaunchRefused(f"Cannot fetch {final}: {error}") from error
    finally:
        response.release_conn()


def _git_env(home: Path, protocols: str) -> dict:
    """No user or system configuration, no prompts, no proxies, only ``protocols``."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "true",
        "GIT_ALLOW_PROTOCOL": protocols,
        "GIT_TEMPLATE_DIR": "",
    }


def git_command(url: str, target: Path, resolve: str | None,
                protocols: tuple[str, ...] = ("http", "https")) -> list[str]:
    """The hardened ``git clone`` of ``url`` (``resolve``: ``host:port:address`` to pin)."""
    options = {"protocol.allow": "never"}
    options.update({f"protocol.{name}.allow": "always" for name in protocols})
    options.update({
        "http.followRedirects": "false",
        "core.symlinks": "false",
        "credential.helper": "",
        "submodule.recurse": "false",
    })
    if resolve:
        options["http.curloptResolve"] = resolve
    argv = ["git"]
    for key, value in options.items():
        argv += ["-c", f"{key}={value}"]
    return argv + ["clone", "--depth", "1", "--single-branch", "--no-tags", "--quiet",
                   "--", url, str(target)]


def _tree_size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def _run_git(argv: list[str], env: dict, target: Path, url: str, policy: LaunchPolicy,
             deadline: _Deadline) -> None:
    """Run the clone, killing it when it grows over the size limit or runs out of time."""
    process = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, start_new_session=True)
    try:
        while process.poll() is None:
            try:
                process.wait(timeout=min(0.25, deadline.left(url)))
            except subprocess.TimeoutExpired:
                pass
            deadline.left(url)
            if target.exists() and _tree_size(target) > policy.max_bytes:
                raise LaunchRefused(f"Cannot clone {url}: it is larger than {policy.max_bytes} "
                                    "bytes.")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    stderr = process.stderr.read().decode(errors="replace").strip()
    process.stdout.close()
    process.stderr.close()
    if process.returncode != 0:
        raise LaunchRefused(f"Cannot clone {url}: {stderr}")


def clone(url: str, target: Path, policy: LaunchPolicy) -> Path:
    """Clone the repository at ``url`` into ``target`` (it must not exist yet)."""
    deadline = _Deadline(policy.timeout)
    scheme = urlsplit(url).scheme.lower()
    home = target.parent / "git-home"
    home.mkdir(exist_ok=True)
    if scheme == "file" and policy.allow_file_urls:  # the test suites' local repositories
        protocols, resolve = ("file",), None
    else:
        # Follow the repository's redirects ourselves, each hop checked; git then gets the
        # final location with redirects off and its host pinned to the checked address.
        final, response = open_url(url.rstrip("/") + GIT_DISCOVERY, policy, deadline)
        response.release_conn()
        url = final.removesuffix(GIT_DISCOVERY)
        _scheme, host, port = _target(url)
        address = policy.pinned_address(host, port)
        shown = f"[{address}]" if ":" in address else address
        protocols, resolve = ("http", "https"), f"{host}:{port}:{shown}"
    argv = git_command(url, target, resolve, protocols)
    try:
        _run_git(argv, _git_env(home, ":".join(protocols)), target, url, policy, deadline)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return target
