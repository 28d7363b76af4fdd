"""reana-server's metrics: runs by status and the queue, counted from the database at
scrape time; submissions admitted or refused (:mod:`reana_commons.metrics`)."""

from __future__ import annotations

from reana_commons import metrics
from reana_commons.errors import REANAError
from reana_db.database import new_session
from reana_db.enums import RunStatus
from reana_db.models import Workflow
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

REFUSAL_REASONS = {400: "invalid", 403: "forbidden", 404: "not_found", 409: "conflict",
                   429: "too_many"}


class RunsCollector:
    """``reana_runs{status}`` and ``reana_queue_depth``, from one GROUP BY per scrape."""

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        try:
            with new_session() as session:
                counts = dict(session.execute(
                    select(Workflow.status, func.count()).group_by(Workflow.status)).all())
        except SQLAlchemyError:
            return  # the database is away: the scrape still answers, without these
        runs = GaugeMetricFamily("reana_runs", "Runs by status (all users).", labels=["status"])
        for status in RunStatus:
            runs.add_metric([status.name], counts.get(status, 0))
        yield runs
        yield GaugeMetricFamily("reana_queue_depth",
                                "Runs waiting in the queue (status queued), all users.",
                                value=counts.get(RunStatus.queued, 0))


def run_collectors() -> list:
    """The collectors computed at each scrape of reana-server's ``/metrics``."""
    return [RunsCollector()]


def submission_refused(error: Exception) -> None:
    """Count a refused submission by its reason (the answer's status code)."""
    status = error.status_code if isinstance(error, REANAError) else 500
    metrics.SUBMISSIONS.labels("refused", REFUSAL_REASONS.get(status, "error")).inc()


def submission_admitted() -> None:
    """Count a submission that reached the queue."""
    metrics.SUBMISSIONS.labels("admitted", "").inc()
