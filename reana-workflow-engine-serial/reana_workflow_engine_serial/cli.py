"""``run-serial-workflow``: the serial engine process of one run.

Arguments as REANA's engine harness (base64 JSON for the specification,
parameters and operational options). The job controller's URL is read from
the file ``REANA_JOB_CONTROLLER_URL_FILE`` names once its job controller wrote it
(a local run: it binds a free port itself), else from ``REANA_JOB_CONTROLLER_URL``.
SIGTERM and any error publish a failed status.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import sys
import time
from pathlib import Path

import click

DEFAULT_JOB_CONTROLLER_URL = "http://127.0.0.1:5000"
READY_TIMEOUT_SECONDS = 30.0


def decode_b64_json(value: str | None, default):
    """REANA's ``--workflow-json`` encoding: base64 of JSON (empty → ``default``)."""
    if not value:
        return default
    return json.loads(base64.b64decode(value).decode())


def job_controller_url(timeout: float) -> str:
    """Where the run's job controller listens: read from ``REANA_JOB_CONTROLLER_URL_FILE``
    (waiting up to ``timeout`` seconds for its job controller to write it), else
    ``REANA_JOB_CONTROLLER_URL``."""
    url_file = os.environ.get("REANA_JOB_CONTROLLER_URL_FILE")
    if not url_file:
        return os.environ.get("REANA_JOB_CONTROLLER_URL") or DEFAULT_JOB_CONTROLLER_URL
    deadline = time.monotonic() + timeout
    delay = 0.002
    while True:
        try:
            url = Path(url_file).read_text().strip()
        except FileNotFoundError:
            url = ""
        if url:
            return url
        if time.monotonic() >= deadline:
            raise RuntimeError(f"the job controller did not start within {timeout:g} s")
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


@click.command()
@click.option("--workflow-uuid", required=True)
@click.option("--workflow-workspace", required=True)
@click.option("--workflow-json", required=True, help="Base64 JSON of the serial specification.")
@click.option("--workflow-file", default=None, help="Accepted for compatibility; unused.")
@click.option("--workflow-parameters", default="", help="Base64 JSON of the parameters.")
@click.option("--operational-options", default="", help="Base64 JSON of FROM/TARGET/CACHE.")
@click.option("--job-controller-wait", default=READY_TIMEOUT_SECONDS, type=float, show_default=True,
              help="Seconds to wait for the job controller to answer.")
def run_serial_workflow(workflow_uuid, workflow_workspace, workflow_json, workflow_file,
                        workflow_parameters, operational_options, job_controller_wait):
    """Run one serial workflow through its job controller."""
    from reana_job_controller.client import JobControllerClient

    from reana_workflow_engine_serial.engine import SerialEngine

    jobs = JobControllerClient(DEFAULT_JOB_CONTROLLER_URL)
    engine = SerialEngine(workflow_uuid, workflow_workspace, {}, {}, {}, jobs)

    def on_sigterm(_signum, _frame):
        engine.terminate()
        raise SystemExit(1)

    def jobs_ready():
        engine.jobs = JobControllerClient(job_controller_url(job_controller_wait))
        engine.jobs.wait_until_ready(timeout=job_controller_wait)

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        engine.specification = decode_b64_json(workflow_json, {})
        engine.parameters = decode_b64_json(workflow_parameters, {})
        engine.options = decode_b64_json(operational_options, {})
        status = engine.run(jobs_ready)
    except Exception as error:  # noqa: BLE001 - any error fails the run with its text
        try:
            engine.fail(f"Workflow failed: {getattr(error, 'message', None) or error}")
        except Exception as publish_error:  # noqa: BLE001 - e.g. the broker is down too
            engine.log.error("could not publish the failure: %s", publish_error)
        sys.exit(1)
    sys.exit(0 if status == 2 else 1)
