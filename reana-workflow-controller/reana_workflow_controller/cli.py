"""``reana-workflow-controller``: the internal API and the job-status consumer."""

from __future__ import annotations

import click


@click.group()
def cli():
    """REANA workflow controller processes."""


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=30081, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int, help="Threads per worker.")
def api(host, port, workers, threads):
    """Serve the internal REST API (gunicorn)."""
    from reana_workflow_controller.app import serve

    serve(host, port, workers, threads)


@cli.command()
def consume():
    """Consume the jobs-status queue and reconcile alive runs."""
    from reana_workflow_controller.consumers.jobs_status import main

    main()
