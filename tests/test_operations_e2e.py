"""Operations of a live platform (`make up`, embedded profile; ADR 0027).

Prometheus metrics: ``/metrics`` of reana-server and of the workflow controller, scraped
while a run goes and after it. reana-server and the workflow controller each run two
gunicorn workers: their answers add up every worker's values (and the scheduler's, the
consumer's) through ``PROMETHEUS_MULTIPROC_DIR``, so repeated scrapes, whichever worker
answers, agree.

Structured logs: the platform logs JSON lines; every line of every service's log parses, and
the request id of an API call shows in the workflow controller's lines about it (also for a
start, through the scheduler).

Rate limits: a user with a low limit of their own (``REANA_RATELIMIT_USERS``) sends many
requests at once to both workers; exactly the limit passes (the windows are shared in the
database), the rest get 429 with ``Retry-After``, and after it the user is served again.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import serial_spec, start_platform, stop_platform

pytestmark = [pytest.mark.slow]

LIMITED, LIMIT, WINDOW = "limited@example.org", 30, 10


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    live = start_platform(tmp_path_factory.mktemp("ops") / "reana-home", "embedded", extra={
        "REANA_RATELIMIT_USERS": json.dumps({LIMITED: f"{LIMIT} per {WINDOW} second"}),
        "REANA_LOG_FORMAT": "json"})
    yield live
    stop_platform(live)


def scrape(url: str) -> dict:
    """``{(name, frozenset(labels)): value}`` of one scrape."""
    response = requests.get(url + "/metrics", timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: dict, name: str, **labels) -> float:
    """Sum over the samples of ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def controller_url(platform) -> str:
    return f"http://127.0.0.1:{platform.env['REANA_WORKFLOW_CONTROLLER_PORT']}"


def test_counters_and_histograms_move_as_a_run_goes(platform):
    server0, controller0 = scrape(platform.url), scrape(controller_url(platform))
    run_id = platform.submit(serial_spec("sleep 4", "echo done"), "metered")
    platform.wait_status(run_id, statuses=("running",), seconds=120)
    during = scrape(platform.url)
    assert value(during, "reana_runs", status="running") == 1
    assert value(during, "reana_queue_depth") == 0
    assert value(during, "reana_submissions_total", outcome="admitted", reason="") == \
        value(server0, "reana_submissions_total", outcome="admitted", reason="") + 1
    controller_during = scrape(controller_url(platform))
    for phase in ("queued_to_pending", "pending_to_running"):
        name = "reana_run_scheduling_latency_seconds_count"
        assert value(controller_during, name, phase=phase) == \
            value(controller0, name, phase=phase) + 1, phase

    assert platform.wait_status(run_id, seconds=120)["status"] == "finished"
    jobs = "reana_job_duration_seconds_count"
    expected = value(controller0, jobs, compute_backend="local", outcome="finished") + 2
    deadline = time.monotonic() + 15
    while True:  # observed just after the consumer's commit, which the API shows first
        after = scrape(controller_url(platform))
        if value(after, jobs, compute_backend="local", outcome="finished") >= expected:
            break
        assert time.monotonic() < deadline, "the ended jobs were not observed"
        time.sleep(0.2)
    assert value(after, jobs, compute_backend="local", outcome="finished") == expected
    # The first job slept 4 s: the duration histogram's sum moved by at least that.
    assert value(after, "reana_job_duration_seconds_sum", compute_backend="local",
                 outcome="finished") - value(controller0, "reana_job_duration_seconds_sum",
                                             compute_backend="local", outcome="finished") >= 4
    applied = "reana_status_messages_total"
    assert value(after, applied, outcome="applied") > value(controller0, applied,
                                                            outcome="applied")
    assert value(after, "reana_status_consumer_lag_seconds_count") > \
        value(controller0, "reana_status_consumer_lag_seconds_count")
    assert total(after, "reana_process_resident_memory_bytes",
                 service="reana-job-status-consumer") > 10 * 2**20
    server_after = scrape(platform.url)
    assert value(server_after, "reana_runs", status="finished") >= 1
    started = total(server_after, "reana_http_request_duration_seconds_count",
                    endpoint="workflows.start_workflow", status="200")
    assert started >= 1

    # A refused start counts as refused (the run already ran: 403).
    refused = requests.post(f"{platform.url}/api/workflows/{run_id}/start",
                            params={"access_token": platform.token}, json={}, timeout=30)
    assert refused.status_code == 403
    counted = scrape(platform.url)
    assert value(counted, "reana_submissions_total", outcome="refused", reason="forbidden") == \
        value(server0, "reana_submissions_total", outcome="refused", reason="forbidden") + 1


def test_gunicorn_workers_add_up(platform):
    before = scrape(platform.url)
    name = "reana_http_request_duration_seconds_count"
    labels = {"service": "reana-server", "endpoint": "meta.get_you", "method": "GET",
              "status": "200"}
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(
            lambda _: requests.get(f"{platform.url}/api/you",
                                   params={"access_token": platform.token}, timeout=30)
            .status_code, range(40)))
    assert codes == [200] * 40
    expected = value(before, name, **labels) + 40
    time.sleep(0.2)
    seen = {value(scrape(platform.url), name, **labels) for _ in range(8)}
    assert seen == {expected}
    pids = {path.stem.rsplit("_", 1)[-1]
            for path in (platform.home / "metrics" / "server").glob("histogram_*.db")}
    assert len(pids) >= 2, pids  # both workers served, and were added up
    # No run id, user id or e-mail in any label.
    samples = scrape(platform.url) | scrape(controller_url(platform))
    label_names = {name for _, labels in samples for name, _ in labels}
    assert label_names <= {"status", "phase", "outcome", "reason", "compute_backend", "cause",
                           "service", "endpoint", "method", "le"}, label_names


def test_the_rate_limit_holds_across_two_workers_and_recovers(platform):
    token = platform.create_user(LIMITED)

    def call(_):
        response = requests.get(f"{platform.url}/api/you", params={"access_token": token},
                                timeout=60)
        return response.status_code, response.headers.get("Retry-After"), response.json()

    began = time.monotonic()
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(call, range(2 * LIMIT)))
    assert time.monotonic() - began < WINDOW, "too slow to stay in one window"
    codes = Counter(code for code, _, _ in answers)
    assert codes == {200: LIMIT, 429: LIMIT}, codes  # per-process counts would pass 60
    refused = [(retry, body) for code, retry, body in answers if code == 429]
    retry, body = refused[-1]
    assert 1 <= int(retry) <= WINDOW
    assert body["message"].startswith(f"Too many requests: at most {LIMIT} per {WINDOW} second")
    # The admin has the default limit of their own: not affected.
    assert platform.api("GET", "/api/you").status_code == 200
    time.sleep(max(int(r) for r, _ in refused))
    assert call(0)[0] == 200
    assert math.isfinite(float(retry))


SERVICE_LOGS = ("server", "controller", "scheduler", "consumer")


def json_lines(path) -> list[dict]:
    found = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        try:
            body = json.loads(line)
        except ValueError:
            raise AssertionError(f"{path.name}:{number} is not JSON: {line[:300]}") from None
        assert {"time", "level", "service", "logger", "message"} <= set(body), body
        found.append(body)
    return found


def test_json_logs_carry_the_request_id_into_the_controller(platform):
    run_id = platform.submit(serial_spec("echo logged"), "logged")
    status = requests.get(f"{platform.url}/api/workflows/{run_id}/status",
                          params={"access_token": platform.token},
                          headers={"X-Request-ID": "from-the-caller-42"}, timeout=30)
    assert status.headers["X-Request-ID"] == "from-the-caller-42"
    started = requests.post(f"{platform.url}/api/workflows/{run_id}/start",
                            params={"access_token": platform.token}, json={}, timeout=30)
    assert started.status_code == 403  # already started: its own id all the same
    assert len(started.headers["X-Request-ID"]) == 32
    assert platform.wait_status(run_id, seconds=120)["status"] == "finished"
    logs = platform.home / "logs"
    lines = {name: json_lines(logs / f"{name}.log") for name in SERVICE_LOGS}
    services = {name: {line["service"] for line in found} for name, found in lines.items()}
    assert "reana-workflow-controller" in services["controller"]
    assert services["scheduler"] == {"reana-scheduler"}
    # A status call: the server's id, passed on, is in the controller's line about it.
    controller = [line for line in lines["controller"]
                  if line.get("request_id") == "from-the-caller-42"]
    assert controller and controller[0]["run_id"] == run_id and controller[0]["user_id"]
    assert any(line.get("request_id") == "from-the-caller-42" for line in lines["server"])
    # The start went through the scheduler: its request id is in both of their lines.
    scheduled = [line for line in lines["scheduler"] if line.get("run_id") == run_id]
    assert scheduled, lines["scheduler"][-5:]
    start_id = scheduled[0]["request_id"]
    assert any(line.get("request_id") == start_id and "/status" in line["message"]
               for line in lines["controller"])
    assert any(line.get("request_id") == start_id for line in lines["server"])
    # The run's job controller logs JSON with its run id.
    run_logs = list(platform.home.rglob("job-controller.log"))
    own = [line for path in run_logs for line in json_lines(path) if line["run_id"] == run_id]
    assert own and {line["service"] for line in own} == {"reana-job-controller"}
    ended = [line for line in own if line["message"].startswith("job ") and "ended" in
             line["message"]]
    assert ended and all(line.get("job_id") for line in ended)
    assert {line["job_id"] for line in ended} == set(
        platform.api("GET", f"/api/workflows/{run_id}/status").json()["progress"]["finished"]
        ["job_ids"])
