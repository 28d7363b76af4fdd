"""Sharing endpoints (REANA 0.95): read-only access of other users to a run, until an expiry."""

from __future__ import annotations

from flask import Blueprint, jsonify
from reana_commons.config import WORKFLOW_TIME_FORMAT
from reana_db import sharing
from reana_db.database import db_session

from reana_server import sharing_schemas as schemas
from reana_server.api import current_user
from reana_server.operations import operation
from reana_server.schemas import Message
from reana_server.workflows import get_user_workflow

blueprint = Blueprint("sharing", __name__)

W = "/api/workflows/<workflow_id_or_name>"
ERRORS = {400: Message, 403: Message, 404: Message, 500: Message}


def _answer(message: str, workflow):
    return jsonify(message=message, workflow_id=str(workflow.id_),
                   workflow_name=workflow.full_name)


@blueprint.post(W + "/share")
@operation(
    "share_workflow",
    "Let another user read a run (status, logs, specification, diff, workspace files), "
    "optionally until a date.",
    {200: schemas.SharedWorkflow, **ERRORS, 409: Message},
    body=schemas.ShareBody,
    body_name="share_details",
    body_required=True,
    consumes=("application/json",),
)
def share_workflow(workflow_id_or_name, body):
    session = db_session()
    user = current_user()
    workflow = get_user_workflow(session, user, workflow_id_or_name, status_code=404)
    sharing.share_workflow(session, user, workflow, body["user_email_to_share_with"],
                           body.get("message"), body.get("valid_until"))
    session.commit()
    return _answer("The workflow has been shared with the user.", workflow)


@blueprint.post(W + "/unshare")
@operation(
    "unshare_workflow",
    "End another user's access to a run.",
    {200: schemas.SharedWorkflow, **ERRORS, 409: Message},
    query=schemas.UnshareQuery,
)
def unshare_workflow(workflow_id_or_name, args):
    session = db_session()
    user = current_user()
    workflow = get_user_workflow(session, user, workflow_id_or_name, status_code=404)
    sharing.unshare_workflow(session, user, workflow, args["user_email_to_unshare_with"])
    session.commit()
    return _answer("The workflow has been unshared with the user.", workflow)


@blueprint.get(W + "/share-status")
@operation(
    "get_workflow_share_status",
    "With whom a run is shared, and until when.",
    {200: schemas.ShareStatus, **ERRORS},
)
def get_workflow_share_status(workflow_id_or_name):
    session = db_session()
    workflow = get_user_workflow(session, current_user(), workflow_id_or_name, status_code=404)
    shares = sharing.share_status(session, workflow)
    return jsonify(
        workflow_id=str(workflow.id_),
        workflow_name=workflow.full_name,
        shared_with=[
            {"user_email": share.user_email,
             "valid_until": share.valid_until.strftime(WORKFLOW_TIME_FORMAT)
             if share.valid_until else None}
            for share in shares
        ],
    )


@blueprint.get("/api/users/shared-with-you")
@operation(
    "get_users_shared_with_you",
    "Users who share at least one run with you.",
    {200: schemas.SharingUsers, 403: Message, 500: Message},
)
def get_users_shared_with_you():
    emails = sharing.owners_sharing_with(db_session(), current_user().id_)
    return jsonify(users=[{"email": email} for email in emails])


@blueprint.get("/api/users/you-shared-with")
@operation(
    "get_users_you_shared_with",
    "Users you share at least one run with.",
    {200: schemas.SharingUsers, 403: Message, 500: Message},
)
def get_users_you_shared_with():
    emails = sharing.users_shared_with(db_session(), current_user().id_)
    return jsonify(users=[{"email": email} for email in emails])
