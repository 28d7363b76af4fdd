"""``reana-job-controller``: serve the jobs API of one workflow run.

Started by the run manager with ``--port 0``: the server binds an ephemeral
port and writes its URL to ``--url-file`` atomically (temporary file +
rename). SIGTERM stops the server but leaves the jobs running, so a restarted
job controller adopts them; ``DELETE /shutdown`` is how jobs are stopped. Every
call must present the run token (``REANA_JOB_CONTROLLER_TOKEN``, else derived from
the platform's key; :mod:`reana_commons.service_auth`).
"""

from __future__ import annotations

import logging
import os
import signal
import sys

import click


def _terminate(_signum, _frame):
    raise SystemExit(0)


@click.command()
@click.option("--workflow-uuid", required=True, help="The run whose jobs this process serves.")
@click.option("--workspace", required=True, type=click.Path(file_okay=False),
              help="The run's workspace.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, type=int, show_default=True, help="0: any free port.")
@click.option("--url-file", type=click.Path(dir_okay=False), help="Write the served URL here.")
@click.option("--resync-interval", default=0.5, type=float, show_default=True,
              help="Seconds between two passes of the job monitor.")
def cli(workflow_uuid, workspace, host, port, url_file, resync_interval):
    """Serve the job controller API of one workflow run."""
    from reana_commons.config import get_config
    from reana_commons.log_redaction import configure_logging
    from reana_commons.service_auth import TOKEN_VARIABLE, run_token

    from reana_job_controller.app import create_app
    from reana_job_controller.controller import JobController
    from reana_job_controller.job_managers import prepare_backends
    from reana_job_controller.server import build_server, write_url_file

    configure_logging(
        get_config().log_level,
        "%(asctime)s | %(name)s | %(threadName)s | %(levelname)s | %(message)s",
        stream=sys.stderr,
        service="reana-job-controller",
        context={"run_id": workflow_uuid},
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # The run manager gives the run token; one started by hand derives it from the key.
    token = os.environ.pop(TOKEN_VARIABLE, "") or run_token(workflow_uuid)
    controller = JobController(workflow_uuid, workspace, resync_interval=resync_interval)
    # The default backend's libraries before listening (a no-op in a fork of the zygote, which
    # imported them): its first job's submission must not spend that time while the engine
    # waits for the answer.
    prepare_backends([controller.default_backend])
    server = build_server(host, port, create_app(controller, token))
    url = f"http://{host}:{server.server_port}"
    signal.signal(signal.SIGTERM, _terminate)
    controller.start_monitor()
    if url_file:
        write_url_file(url_file, url)
    logging.getLogger(__name__).info("job controller of %s serving at %s", workflow_uuid, url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        controller.close()


if __name__ == "__main__":
    cli()
