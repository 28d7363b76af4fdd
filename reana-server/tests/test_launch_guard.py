"""``POST /api/launch`` as an attacker uses it: internal addresses, redirects, DNS, limits."""

from __future__ import annotations

import http.server
import ipaddress
import json
import os
import subprocess
import threading
import time
import zipfile

import pytest
import yaml
from reana_commons.config import reset_config
from reana_server import launch_fetch
from reana_server.launch_guard import LaunchPolicy, LaunchRefused, forbidden_reason


@pytest.fixture
def launch_env(server_env, monkeypatch):
    """A platform with the production default: no file URLs, nothing internal allowed."""

    def apply(**values):
        monkeypatch.setenv("REANA_EXTRA_CONFIG", "{}")
        for key, value in values.items():
            monkeypatch.setenv(key, str(value))
        reset_config()

    apply()
    yield apply
    reset_config()


class Site:
    """A little web server on 127.0.0.1 answering each path as configured."""

    def __init__(self, routes: dict):
        self.routes = routes
        self.requests: list[tuple[str, str]] = []
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                site.requests.append((self.path, self.headers.get("Host")))
                answer = site.routes.get(self.path.split("?")[0], (404, {}, b"missing"))
                status, headers, body = answer
                if callable(body):
                    body = body()
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def site(helloworld_spec):
    """A site serving a reana.yaml, with the test adding more routes."""
    served = Site({"/reana.yaml": (200, {}, yaml.safe_dump(helloworld_spec).encode())})
    yield served
    served.close()


def launch(client, auth, url, **body):
    return client.post("/api/launch", query_string=auth, json={"url": url, **body})


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.9.10", "::1", "0.0.0.0", "::", "10.1.2.3", "172.16.0.1", "192.168.1.1",
    "169.254.169.254", "fe80::1", "fd00:ec2::254", "100.100.100.200", "224.0.0.1", "ff02::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:7f00:1::", "64:ff9b::7f00:1", "240.0.0.1",
    "255.255.255.255",
])
def test_internal_addresses_are_refused(address):
    assert forbidden_reason(ipaddress.ip_address(address))
    with pytest.raises(LaunchRefused):
        LaunchPolicy().check_address(ipaddress.ip_address(address), address)


@pytest.mark.parametrize("address", ["8.8.8.8", "140.82.112.3", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address):
    assert forbidden_reason(ipaddress.ip_address(address)) is None


def test_operator_allows_hosts_and_networks():
    policy = LaunchPolicy(allowed_hosts=frozenset({"git.internal", "127.0.0.1:8080"}),
                          allowed_networks=(ipaddress.ip_network("10.0.0.0/8"),))
    policy.check_address(ipaddress.ip_address("10.2.3.4"), "10.2.3.4")
    assert policy.pinned_address("127.0.0.1", 8080) == "127.0.0.1"
    with pytest.raises(LaunchRefused):
        policy.pinned_address("127.0.0.1", 8081)
    assert policy.host_allowed("GIT.internal.", 443)


def test_internal_api_of_the_controller_cannot_be_fetched(client, auth, launch_env,
                                                           controller_url):
    """The reported attack: the admin's file through the controller's internal API."""
    admin = "00000000-0000-0000-0000-000000000000"
    for url in (
        f"{controller_url}/api/workflows/w/workspace/reana.yaml?user={admin}",
        f"{controller_url.replace('127.0.0.1', 'localhost')}/reana.yaml",  # DNS → loopback
        f"{controller_url.replace('127.0.0.1', '[::ffff:127.0.0.1]')}/reana.yaml",
        f"{controller_url.replace('127.0.0.1', '2130706433')}/reana.yaml",  # 127.0.0.1 as int
        "http://169.254.169.254/latest/meta-data/reana.yaml",
        f"{controller_url}/repository",  # a git clone
    ):
        response = launch(client, auth, url)
        assert response.status_code == 400, (url, response.get_json())
        assert "not allowed" in response.get_json()["message"] or "resolve" in \
            response.get_json()["message"], response.get_json()


@pytest.mark.parametrize("url", ["file:///etc/passwd.yaml", "file:///srv/repo",
                                 "ext::sh -c touch% /tmp/pwned", "ftp://example.org/a.zip",
                                 "http://[::1", "http://:80/x.yaml"])
def test_other_schemes_and_broken_urls_are_refused(client, auth, launch_env, url):
    response = launch(client, auth, url)
    assert response.status_code == 400, response.get_json()


def test_every_redirect_is_checked(client, auth, launch_env, site, controller_url):
    other = Site({"/reana.yaml": (200, {}, b"version: 0.9.0\n")})
    site.routes["/to-internal.yaml"] = (302, {"Location": f"{other.url}/reana.yaml"}, b"")
    site.routes["/to-metadata.yaml"] = (301, {"Location": "http://169.254.169.254/x"}, b"")
    site.routes["/to-self.yaml"] = (307, {"Location": "/reana.yaml"}, b"")
    site.routes["/loop.yaml"] = (302, {"Location": "/loop.yaml"}, b"")
    launch_env(REANA_LAUNCH_ALLOWED_HOSTS=f"127.0.0.1:{site.port}")
    try:
        for path in ("/to-internal.yaml", "/to-metadata.yaml"):
            response = launch(client, auth, site.url + path)
            assert response.status_code == 400
            assert "not allowed" in response.get_json()["message"]
        assert other.requests == []  # never reached
        assert "redirects" in launch(client, auth, site.url + "/loop.yaml").get_json()["message"]
        followed = launch(client, auth, site.url + "/to-self.yaml", name="followed",
                          specification="to-self.yaml")
        assert followed.status_code == 200, followed.get_json()
    finally:
        other.close()


def test_connection_goes_to_the_checked_address(client, auth, launch_env, site, monkeypatch):
    """DNS rebinding: the name is resolved once per hop, and that address is the one reached."""
    from reana_server import launch_guard

    calls = []

    def resolver(host, port):
        calls.append(host)
        # The first answer is the checked one; a rebinding resolver answers otherwise later.
        return [ipaddress.ip_address("127.0.0.1" if len(calls) == 1 else "10.9.9.9")]

    monkeypatch.setattr(launch_guard, "_resolve", resolver)
    launch_env(REANA_LAUNCH_ALLOWED_NETWORKS="127.0.0.1/32")
    # "rebind.invalid" cannot be resolved by the system: only the pinned address reaches it.
    response = launch(client, auth, f"http://rebind.invalid:{site.port}/reana.yaml")
    assert response.status_code == 200, response.get_json()
    assert calls == ["rebind.invalid"]
    assert site.requests == [("/reana.yaml", f"rebind.invalid:{site.port}")]


def test_size_and_time_limits(client, auth, launch_env, site):
    site.routes["/big.yaml"] = (200, {}, b"#" * 5000)
    site.routes["/slow.yaml"] = (200, {}, lambda: time.sleep(3) or b"version: 0.9.0\n")
    launch_env(REANA_LAUNCH_ALLOWED_HOSTS=f"127.0.0.1:{site.port}", REANA_LAUNCH_MAX_BYTES=1000,
               REANA_LAUNCH_TIMEOUT=1)
    big = launch(client, auth, site.url + "/big.yaml")
    assert big.status_code == 400 and "larger than 1000 bytes" in big.get_json()["message"]
    started = time.monotonic()
    slow = launch(client, auth, site.url + "/slow.yaml")
    assert slow.status_code == 400, slow.get_json()
    assert time.monotonic() - started < 2.5


def test_zip_bomb_is_refused(client, auth, launch_env, site, tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("reana.yaml", "version: 0.9.0\n")
        bundle.writestr("zeros", b"\0" * 2_000_000)
    site.routes["/bomb.zip"] = (200, {}, archive.read_bytes())
    launch_env(REANA_LAUNCH_ALLOWED_HOSTS=f"127.0.0.1:{site.port}", REANA_LAUNCH_MAX_BYTES=100_000)
    response = launch(client, auth, site.url + "/bomb.zip")
    assert response.status_code == 400 and "too large" in response.get_json()["message"]


def test_deeply_nested_parameters_are_a_400(client, auth, launch_env, site):
    launch_env(REANA_LAUNCH_ALLOWED_HOSTS=f"127.0.0.1:{site.port}")
    deep = "[" * 100_000 + "]" * 100_000
    response = launch(client, auth, site.url + "/reana.yaml", parameters=deep)
    assert response.status_code == 400, response.get_json()
    assert list(response.get_json()) == ["message"]
    response = launch(client, auth, site.url + "/reana.yaml",
                      parameters=json.dumps({"sleeptime": 1}))
    assert response.status_code == 200, response.get_json()


class GitSite:
    """``git http-backend`` (smart HTTP) serving the repositories under ``root`` on 127.0.0.1."""

    def __init__(self, root):
        self.requests: list[tuple[str, str]] = []
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _cgi(self):
                site.requests.append((self.path, self.headers.get("Host")))
                path, _, query = self.path.partition("?")
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                env = {"GIT_PROJECT_ROOT": str(root), "GIT_HTTP_EXPORT_ALL": "1",
                       "PATH_INFO": path, "QUERY_STRING": query,
                       "REQUEST_METHOD": self.command,
                       "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                       "CONTENT_LENGTH": str(len(body)), "PATH": os.environ["PATH"]}
                out = subprocess.run(["git", "http-backend"], input=body, env=env,
                                     capture_output=True).stdout
                head, _, payload = out.partition(b"\r\n\r\n")
                headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n"))
                self.send_response(int(headers.pop("Status", "200").split()[0]))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _cgi

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_port
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_git_clone_reaches_only_the_checked_address(client, auth, launch_env, helloworld_spec,
                                                    tmp_path, monkeypatch):
    from reana_server import launch_guard

    repo = tmp_path / "helloworld"
    (repo / "code").mkdir(parents=True)
    (repo / "code/helloworld.py").write_text("print('hello')\n")
    (repo / "reana.yaml").write_text(yaml.safe_dump(helloworld_spec))
    (repo / "secret").symlink_to("/etc/passwd")
    git = ["git", "-C", str(repo), "-c", "user.email=t@e.org", "-c", "user.name=T"]
    subprocess.run(git[:3] + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "init"], check=True)
    server = GitSite(tmp_path)
    try:
        refused = launch(client, auth, f"http://127.0.0.1:{server.port}/helloworld")
        assert refused.status_code == 400 and "loopback" in refused.get_json()["message"]
        assert server.requests == []
        monkeypatch.setattr(launch_guard, "_resolve",
                            lambda host, port: [ipaddress.ip_address("127.0.0.1")])
        launch_env(REANA_LAUNCH_ALLOWED_NETWORKS="127.0.0.1/32")
        url = f"http://git.invalid:{server.port}/helloworld"  # only the pinned address reaches it
        cloned = launch(client, auth, url, name="cloned")
        assert cloned.status_code == 200, cloned.get_json()
        assert {host for _path, host in server.requests} == {f"git.invalid:{server.port}"}
        files = client.get("/api/workflows/cloned/workspace", query_string=auth).get_json()
        assert sorted(f["name"] for f in files["items"]) == [
            "code/helloworld.py", "reana.yaml", "secret"]
        secret = client.get("/api/workflows/cloned/workspace/secret", query_string=auth)
        assert secret.data == b"/etc/passwd"  # the link's text, never the file it names
    finally:
        server.close()


def test_git_clone_is_hardened(tmp_path):
    argv = launch_fetch.git_command("https://git.example.org/a.git", tmp_path / "a",
                                    "git.example.org:443:203.0.113.7")
    options = [argv[i + 1] for i, arg in enumerate(argv) if arg == "-c"]
    assert "protocol.allow=never" in options and "protocol.https.allow=always" in options
    assert "protocol.file.allow=always" not in options and "protocol.ext.allow=always" not in \
        options
    assert "http.followRedirects=false" in options and "core.symlinks=false" in options
    assert "http.curloptResolve=git.example.org:443:203.0.113.7" in options
    assert argv[-3:] == ["--", "https://git.example.org/a.git", str(tmp_path / "a")]
