"""Job controller: REST API for the jobs of one run and its compute backends.

Its public seam for other services is :func:`preload`; everything else is internal.
"""

from __future__ import annotations

import importlib

_PRELOADED = (
    "reana_job_controller.cli",
    # What the CLI imports inside functions (else each fork imports it, ~0.2 s).
    "reana_job_controller.app",
    "reana_job_controller.api.jobs",
    "reana_job_controller.controller",
    "reana_job_controller.job_managers.local",
    "reana_job_controller.server",
)


def preload() -> None:
    """Do once, in a parent that forks job controllers, what each would do at start.

    Imports the job controller's modules, builds its Flask application (the next
    ``create_app`` in this process or a fork of it takes it) and compiles its SQL
    statements without connecting, so nothing live is shared with a fork. The workflow
    controller's zygote calls this before forking; a job controller started without it
    does the same work itself. Raises what a failing step raises.
    """
    for module in _PRELOADED:
        importlib.import_module(module)
    from reana_commons.config import get_config

    from reana_job_controller.app import prepare
    from reana_job_controller.job_managers import prepare_backends
    from reana_job_controller.store import warm_up

    prepare()
    warm_up()
    # The enabled backends' libraries (the Kubernetes client: 5 s of CPU) once for every fork,
    # not in a job's submission, which the engine waits for.
    prepare_backends(get_config().compute_backends)
