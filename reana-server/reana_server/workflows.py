"""Workflow rules that live in reana-server: lookup, quota, the stored specification's shape.

Which runs may be created (names, specification, options, retention rules,
workspace root) and restarted is decided by :mod:`reana_db.creation` alone.
"""

from __future__ import annotations

from reana_commons.config import Config
from reana_db.creation import create_run as store_run
from reana_db.creation import validate_run_request
from reana_db.models import User, Workflow
from reana_db.quota import has_exceeded_quota
from reana_db.run_numbers import WorkflowNotFound, get_workflow_by_uuid_or_name
from reana_db.sharing import find_shared_run
from reana_db.sharing import get_readable_workflow as readable_run
from sqlalchemy.orm import Session

from reana_server.engines import check_engine
from reana_server.errors import BadRequest, Forbidden, WorkflowLookupError
from reana_server.schemas import WorkflowSpecification

_SPECIFICATION_SHAPE = WorkflowSpecification().fields["specification"].schema


def get_user_workflow(
    session: Session, user: User, workflow_id_or_name: str, status_code: int = 403
) -> Workflow:
    """The user's run named or identified by ``workflow_id_or_name``, or REANA's lookup error.

    A run only shared with the user is refused (403, read-only): this lookup is for changes.
    """
    try:
        return get_workflow_by_uuid_or_name(session, workflow_id_or_name, user.id_)
    except WorkflowNotFound:
        shared = find_shared_run(session, workflow_id_or_name, user.id_)
        if shared is not None:
            raise Forbidden(
                f"{shared.full_name} is shared with you read-only: only its owner can change it."
            ) from None
        raise WorkflowLookupError(workflow_id_or_name, status_code) from None


def get_readable_workflow(
    session: Session, user: User, workflow_id_or_name: str, status_code: int = 403
) -> Workflow:
    """A run the user may read: their own, or one actively shared with them (REANA 0.95)."""
    try:
        return readable_run(session, workflow_id_or_name, user.id_)
    except WorkflowNotFound:
        raise WorkflowLookupError(workflow_id_or_name, status_code) from None


def check_quota(session: Session, user: User, used_up: bool) -> None:
    """Refuse (403) when the user has used up a limited resource.

    ``used_up`` is what authentication found in the same request (its query asks
    it along with the token); only then does reana-db's :func:`has_exceeded_quota`
    read the rows, to word the refusal.
    """
    if not used_up:
        return
    exceeded, message = has_exceeded_quota(session, user)
    if exceeded:
        raise Forbidden(message)


def check_specification_shape(spec: dict) -> None:
    """Refuse (400) a specification whose known parts have the wrong types.

    What is stored is what every answer shows: ``GET .../specification`` must
    match the published response schema (``steps`` a list of objects, ``inputs``
    an object...). The full JSON-schema validation stays at start, as in REANA
    (a run may be created with an incomplete step and fixed by a restart).
    """
    errors = _SPECIFICATION_SHAPE.validate(spec)
    if errors:
        raise BadRequest(f"The REANA specification is malformed: {_first_problem(errors)}")


def _first_problem(errors, where: str = "") -> str:
    key, value = next(iter(errors.items()))
    here = f"{where}.{key}" if where else str(key)
    if isinstance(value, dict):
        return _first_problem(value, here)
    return f"{here}: {value[0] if isinstance(value, list) else value}"


def create_run(session: Session, user: User, name, spec, config: Config, quota_used_up: bool,
               git_data=None, launcher_url: str | None = None,
               engines: dict[str, str] | None = None) -> Workflow:
    """Check a creation and store the run with its empty workspace (flushed, not committed).

    The rules are reana-db's (:mod:`reana_db.creation`, the one owner of run
    creation, which the workflow controller's internal API uses too); here only
    the quota and what the server's answers promise about a stored
    specification. The server stores the run itself instead of asking the
    workflow controller over HTTP: that hop cost more than the rest of the request.
    ``engines`` (workflow type -> version, :mod:`reana_server.engines`): a run of another
    type is refused, naming them; None: not known, not checked.
    """
    check_quota(session, user, quota_used_up)
    request = validate_run_request(name, spec, config=config)
    check_engine(request.type_, engines)
    check_specification_shape(spec)  # after the JSON schema: its messages are more precise
    return store_run(session, user.id_, request, git_data=git_data,
                     launcher_url=launcher_url, config=config)
