"""Domain errors of the job controller; the app maps each to an HTTP status once."""

from __future__ import annotations

from reana_commons.errors import REANAError


class JobControllerError(REANAError):
    """Base class; ``status_code`` is the HTTP answer, ``str(error)`` the message."""


class JobRequestError(JobControllerError):
    """A malformed or refused job request."""

    status_code = 400


class ShuttingDown(JobRequestError):
    """The job controller is shutting down and accepts no new job."""


class JobNotFound(JobControllerError):
    """No job with this id in this run."""

    status_code = 404

    def __init__(self, job_id: str):
        super().__init__(f"The job {job_id} doesn't exist")


class BackendError(JobControllerError):
    """The compute backend failed."""

    status_code = 502
