"""Callers of the internal APIs prove they are the platform.

The workflow controller's API trusts the ``?user=`` its caller names, and a
run's job controller runs whatever command it is sent: on a shared host (or a
pod network) anyone who reaches them could act as any user. So both require a
credential in ``Authorization: Bearer <credential>``:

- the workflow controller accepts the **service credential**, derived from the
  platform's secret key (reana-server and the scheduler hold the key; jobs do not);
- a run's job controller accepts its **run token**, derived from the key and the
  run's id. The run manager hands it to that run's job controller and engine only
  (``REANA_JOB_CONTROLLER_TOKEN``), so one run's token opens no other run.

Both are HMAC-SHA256 of a purpose string under the key: nothing to store, the
same on every replica, changed with the key. Comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac

from reana_commons.config import get_config

TOKEN_VARIABLE = "REANA_JOB_CONTROLLER_TOKEN"
"""The environment variable giving a run's job controller and engine the run token."""

MISSING = "This internal API answers only the platform's own services: no credential was sent."
WRONG = "This internal API answers only the platform's own services: the credential is wrong."


def _derive(purpose: str, secret_key: str | None) -> str:
    key = (secret_key or get_config().secret_key).encode()
    return hmac.new(key, purpose.encode(), hashlib.sha256).hexdigest()


def service_credential(secret_key: str | None = None) -> str:
    """The credential of calls to the workflow controller's internal API."""
    return _derive("reana-workflow-controller/v1", secret_key)


def run_token(workflow_uuid, secret_key: str | None = None) -> str:
    """The token of calls to the job controller of run ``workflow_uuid``."""
    return _derive(f"reana-job-controller/v1/{str(workflow_uuid).lower()}", secret_key)


def bearer(token: str) -> dict[str, str]:
    """The request header presenting ``token``."""
    return {"Authorization": f"Bearer {token}"}


def refusal(authorization: str | None, expected: str) -> tuple[int, str] | None:
    """``(status, message)`` when the ``Authorization`` header does not present
    ``expected``; None when it does."""
    scheme, _, presented = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        return 401, MISSING
    if not hmac.compare_digest(presented.strip().encode(), expected.encode()):
        return 403, WRONG
    return None
