"""Interactive sessions on the Kubernetes runtime (the k8s double): Deployment, Service, Secret.

The objects are validated against Kubernetes 1.30's schemas by the double (any refusal
fails the test); close and the session keeper's closure of a vanished Deployment delete
them. The double does not run the Deployment's pod (no Jupyter answers): the session stays
``created``, as it would while its image is pulled.
"""

from __future__ import annotations

import base64
import uuid

import pytest
from k8s_double.pytest_plugin import k8s_cluster, reana_on_k8s  # noqa: F401 - fixtures
from k8s_double.store import ApiError
from reana_db.sessions import open_session_of

pytestmark = pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)


def q(user):
    return {"user": str(user.id_)}


def test_session_objects_and_their_deletion(reana_on_k8s, api, db, user, make_workflow):  # noqa: F811
    cluster = reana_on_k8s
    run = make_workflow(user)
    run_id = run["workflow_id"]
    opened = api.post(f"/api/workflows/{run_id}/open/jupyter", query_string=q(user),
                      json={"image": "docker.io/jupyter/scipy-notebook:2024-01-01"})
    assert (opened.status_code, opened.get_json()) == (200, {"path": f"/{run_id}"})
    name = f"reana-run-session-{run_id}"
    session = open_session_of(db, uuid.UUID(run_id))
    assert session.handle == {"namespace": "default", "name": name,
                              "base_url": f"/{run_id}/",
                              "endpoint": f"http://{name}.default.svc:8888"}
    [secret] = [s for s in cluster.sent("Secret") if s["metadata"]["name"] == name]
    assert base64.b64decode(secret["data"]["token"]).decode() == session.secret
    [deployment] = cluster.sent("Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "docker.io/jupyter/scipy-notebook:2024-01-01"
    assert f"--ServerApp.base_url=/{run_id}/" in container["args"]
    assert session.secret not in str(deployment)  # only through the Secret
    assert container["env"][0] == {"name": "JUPYTER_TOKEN", "valueFrom": {
        "secretKeyRef": {"name": name, "key": "token"}}}
    assert deployment["spec"]["template"]["spec"]["automountServiceAccountToken"] is False
    [service] = cluster.sent("Service")
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]

    from reana_workflow_controller.sessions import SessionKeeper

    assert SessionKeeper(interval=1).keep_once() == []  # alive, not answering yet
    listed = api.get("/api/workflows", query_string={**q(user), "type": "interactive"})
    assert listed.get_json()["items"][0]["session_status"] == "created"

    closed = api.post(f"/api/workflows/{run_id}/close/", query_string=q(user))
    assert closed.status_code == 200, closed.get_json()
    for resource in ("deployments", "services", "secrets"):
        with pytest.raises(ApiError):
            cluster.store.get(resource, "default", name)

    # a Deployment deleted behind the platform's back: the keeper closes the session
    assert api.post(f"/api/workflows/{run_id}/open/jupyter", query_string=q(user),
                    json={}).status_code == 200
    cluster.delete("deployments", "default", name, {})
    assert SessionKeeper(interval=1).keep_once() == ["its Jupyter server ended"]
    assert open_session_of(db, uuid.UUID(run_id)) is None
    with pytest.raises(ApiError):
        cluster.store.get("services", "default", name)
