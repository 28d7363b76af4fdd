"""``POST /api/launch``: fetch an analysis from a URL, create, upload and start it."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, jsonify
from reana_commons.config import get_config
from reana_db.database import db_session

from reana_server import engines, launch, schemas, submission
from reana_server.api import controller, current_user, quota_used_up
from reana_server.errors import BadRequest
from reana_server.operations import operation
from reana_server.schemas import Message
from reana_server.workflows import create_run, get_user_workflow

blueprint = Blueprint("launch", __name__)


def _upload_all(client, user, workflow_id: str, directory: Path) -> None:
    for name, path in launch.analysis_files(directory):
        with open(path, "rb") as stream:
            response = client.upload_file(user.id_, workflow_id, name, stream)
        if response.status_code != 200:
            raise BadRequest(f"Uploading {name} failed: {response.text.strip()}")


@blueprint.post("/api/launch")
@operation(
    "launch",
    "Launch a workflow from a URL (git repository, zip archive or reana.yaml).",
    {200: schemas.Launched, 400: Message, 403: Message, 500: Message},
    body=schemas.LaunchBody,
    body_name="data",
    body_required=True,
    consumes=("application/json",),
)
def launch_workflow(body):
    config = get_config()
    session = db_session()
    user = current_user()
    client = controller()
    parameters = launch.parse_parameters(body.get("parameters"))
    with launch.temporary_directory() as workdir:
        directory = launch.fetch(body["url"], Path(workdir), config)
        _, spec = launch.load_spec(directory, body.get("specification"))
        name = launch.workflow_name_from(body["url"], body.get("name"))
        created = create_run(session, user, name, spec, config, quota_used_up(),
                             launcher_url=body["url"], engines=engines.installed(client))
        workflow_id = str(created.id_)
        session.commit()  # the workflow controller stores the uploads: it must see the run
        _upload_all(client, user, workflow_id, directory)
    session.expire_all()
    workflow = get_user_workflow(session, user, workflow_id)
    queued, start_parameters = submission.start(
        session, user, workflow, {"input_parameters": parameters, "operational_options": {}},
        quota_used_up(),
    )
    session.commit()
    submission.publish(user, queued, start_parameters)
    return jsonify(
        workflow_id=str(queued.id_),
        workflow_name=queued.name,
        message="The workflow has been successfully submitted.",
    )
