"""The job controller's REST API end to end, with a real process and the local backend."""

from __future__ import annotations

import base64
import time
import uuid

import pytest
import requests
from reana_commons.engine.job_controller_client import JobControllerUnavailable

sqlite_only = pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)


def test_submit_wait_finished(jc, job_fields, workflow, db):
    job_id = jc.submit("cd $REANA_WORKSPACE && echo hello > out.txt && echo done", **job_fields)
    job = jc.wait(job_id, timeout=20)
    assert job["status"] == "finished"
    assert job["exit_code"] == 0
    assert job["job_id"] == job_id
    assert job["docker_img"] == job_fields["docker_img"]
    assert (workflow.workspace_path + "/out.txt") and open(
        workflow.workspace_path + "/out.txt").read() == "hello\n"
    logs = jc.logs(job_id)
    assert "done" in logs
    assert "running on the host" in logs
    from reana_db.models import Job

    db.expire_all()
    row = db.get(Job, __import__("uuid").UUID(job_id))
    assert row.status.name == "finished"
    assert row.exit_code == 0
    assert "done" in row.logs
    assert row.started_at and row.finished_at
    assert row.spec["job_name"] == "step"
    assert row.backend_job_id


@sqlite_only
def test_failed_job_keeps_exit_code(jc, job_fields):
    job_id = jc.submit("echo boom >&2; exit 7", **job_fields)
    job = jc.wait(job_id, timeout=20)
    assert job["status"] == "failed"
    assert job["exit_code"] == 7
    assert "boom" in jc.logs(job_id)


@sqlite_only
def test_long_poll_returns_at_job_end(jc, job_fields):
    job_id = jc.submit("sleep 0.5", **job_fields)
    start = time.monotonic()
    job = jc.wait(job_id, timeout=20)
    elapsed = time.monotonic() - start
    assert job["status"] == "finished"
    assert 0.4 < elapsed < 0.5 + 3.0  # at the job's end, not at the end of the poll


@sqlite_only
def test_wait_times_out_on_running_job(jc, job_fields, job_controller):
    job_id = jc.submit("sleep 30", **job_fields)
    start = time.monotonic()
    body = call(job_controller, "GET", f"/jobs/{job_id}", params={"wait": "0.3"}).json()
    assert body["status"] == "running"
    assert 0.25 < time.monotonic() - start < 5
    jc.stop(job_id)


@sqlite_only
def test_logs_readable_while_running(jc, job_fields):
    job_id = jc.submit("echo first-line; sleep 30", **job_fields)
    deadline = time.monotonic() + 10
    while "first-line" not in jc.logs(job_id):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert jc.get(job_id)["status"] == "running"
    jc.stop(job_id)
    job = jc.wait(job_id, timeout=10)
    assert job["status"] == "stopped"
    assert "first-line" in jc.logs(job_id)


@sqlite_only
def test_list_jobs(jc, job_fields):
    first = jc.submit("true", **job_fields)
    second = jc.submit("false", **job_fields)
    jc.wait(first, timeout=20)
    jc.wait(second, timeout=20)
    jobs = jc.list()
    assert set(jobs) == {first, second}
    assert jobs[first]["status"] == "finished"
    assert jobs[second]["status"] == "failed"
    assert jobs[first]["max_restart_count"] == 0


def call(job_controller, method: str, path: str, **kwargs) -> requests.Response:
    """A request to the job controller, presenting its run token."""
    return requests.request(method, job_controller.url + path, headers=job_controller.headers,
                            timeout=5, **kwargs)


@sqlite_only
def test_every_call_needs_the_run_token(job_controller, job_fields):
    """Whoever reaches the port (another user's job) can neither run a command nor read."""
    from reana_commons.service_auth import bearer, run_token

    body = dict(job_fields, cmd=base64.b64encode(b"touch pwned").decode())
    other_runs = bearer(run_token(uuid.uuid4()))  # another run's token, same platform key
    for headers, status in (({}, 401), (bearer("guess"), 403), (other_runs, 403)):
        for method, path, kwargs in (("POST", "/jobs", {"json": body}), ("GET", "/jobs", {}),
                                     ("DELETE", "/shutdown", {}), ("GET", "/shutdown", {}),
                                     ("GET", "/apispec", {})):
            response = requests.request(method, job_controller.url + path, headers=headers,
                                        timeout=5, **kwargs)
            assert response.status_code == status, (method, path, response.text)
            assert "only the platform's own services" in response.json()["message"]
    assert call(job_controller, "GET", "/jobs").json() == {"jobs": {}}


@sqlite_only
def test_unknown_job_is_404(job_controller):
    for path in ("/jobs/4b0f3f3a-7a6a-4f32-9c56-1b0b9f0c1d2e", "/jobs/not-a-uuid",
                 "/jobs/4b0f3f3a-7a6a-4f32-9c56-1b0b9f0c1d2e/logs"):
        response = call(job_controller, "GET", path)
        assert response.status_code == 404
        assert "doesn't exist" in response.json()["message"]
    response = call(job_controller, "DELETE", "/jobs/4b0f3f3a-7a6a-4f32-9c56-1b0b9f0c1d2e/")
    assert response.status_code == 404


BAD_REQUESTS = [
    ({"cmd": "not base64!"}, "cmd"),
    ({"docker_img": None}, "docker_img"),
    ({"workflow_uuid": "4b0f3f3a-7a6a-4f32-9c56-1b0b9f0c1d2e"}, "serves workflow"),
    ({"workflow_workspace": "/tmp"}, "workspace"),
    ({"compute_backend": "kubernetes"}, "not supported"),
    ({"kubernetes_memory_limit": "lots"}, "memory quantity"),
]


@sqlite_only
def test_bad_requests_are_400(job_controller, job_fields):
    for change, message in BAD_REQUESTS:
        body = dict(job_fields, cmd=base64.b64encode(b"true").decode())
        body.update(change)
        body = {key: value for key, value in body.items() if value is not None}
        response = call(job_controller, "POST", "/jobs", json=body)
        assert response.status_code == 400, response.text
        assert message in response.json()["message"]
    response = call(job_controller, "POST", "/jobs", data="x")
    assert response.status_code == 400
    assert "message" in response.json()
    assert call(job_controller, "GET", "/jobs").json() == {"jobs": {}}


@sqlite_only
def test_apispec(job_controller):
    spec = call(job_controller, "GET", "/apispec").json()
    assert spec["swagger"] == "2.0"
    assert "JobRequest" in spec["definitions"]
    assert "/jobs/{job_id}" in spec["paths"]


def test_shutdown_stops_jobs_and_refuses_new(jc, job_fields):
    job_id = jc.submit("echo started; sleep 60", **job_fields)
    time.sleep(0.2)
    assert jc.shutdown() == {"message": "All jobs stopped.", "stopped": 1}
    job = jc.get(job_id)
    assert job["status"] == "stopped"
    assert "started" in jc.logs(job_id)
    with pytest.raises(JobControllerUnavailable, match="shutting down"):
        jc.submit("true", **job_fields)


@sqlite_only
def test_connections_are_kept_alive(job_controller, job_fields):
    import http.client
    import json
    from urllib.parse import urlsplit

    url = urlsplit(job_controller.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    body = json.dumps(dict(job_fields, cmd=base64.b64encode(b"true").decode()))
    headers = dict(job_controller.headers)
    connection.request("POST", "/jobs", body=body,
                       headers={"Content-Type": "application/json", **headers})
    first = connection.getresponse()
    job_id = json.loads(first.read())["job_id"]
    sock = connection.sock
    assert not first.will_close
    connection.request("GET", f"/jobs/{job_id}?wait=10", headers=headers)
    second = connection.getresponse()
    assert json.loads(second.read())["status"] == "finished"
    connection.request("POST", "/nowhere", body=b"ignored body", headers=headers)
    third = connection.getresponse()
    assert third.status == 404
    third.read()
    connection.request("GET", "/jobs", headers=headers)
    assert job_id in json.loads(connection.getresponse().read())["jobs"]
    assert connection.sock is sock


@pytest.mark.parametrize("database_uri", ["postgresql"], indirect=True)
def test_idle_job_controller_holds_no_database_connection(jc, job_fields, database_uri):
    import sqlalchemy as sa
    from reana_testing.pytest_plugin import POSTGRES_ADMIN_URI

    admin = sa.create_engine(POSTGRES_ADMIN_URI, poolclass=sa.pool.NullPool)
    name = database_uri.rsplit("/", 1)[1]

    def connections():
        with admin.connect() as connection:
            return connection.execute(sa.text(
                "select count(*) from pg_stat_activity where datname = :name "
                "and application_name = 'reana-job-controller'"), {"name": name}).scalar()

    job_id = jc.submit("sleep 30", **job_fields)  # a long job: the run stays alive
    assert connections() >= 1
    deadline = time.monotonic() + 20
    while connections():
        assert time.monotonic() < deadline, "the idle job controller kept its connection"
        time.sleep(0.5)
    jc.stop(job_id)  # and it reconnects when needed
    assert jc.get(job_id)["status"] == "stopped"
    admin.dispose()
