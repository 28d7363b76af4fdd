"""Fixtures of the workflow-controller tests (the shared chain comes from reana_commons)."""

from __future__ import annotations

import pytest

HELLOWORLD_SPEC = {
    "version": "0.9.0",
    "inputs": {
        "files": ["code/helloworld.py", "data/names.txt"],
        "parameters": {
            "helloworld": "code/helloworld.py",
            "inputfile": "data/names.txt",
            "outputfile": "results/greetings.txt",
            "sleeptime": 0,
        },
    },
    "workflow": {
        "type": "serial",
        "specification": {
            "steps": [
                {
                    "environment": "docker.io/library/python:3.10-bookworm",
                    "commands": [
                        "python \"${helloworld}\" --inputfile \"${inputfile}\" "
                        "--outputfile \"${outputfile}\" --sleeptime ${sleeptime}"
                    ],
                }
            ]
        },
    },
    "outputs": {"files": ["results/greetings.txt"]},
}


@pytest.fixture
def api_app(db):
    """The internal API on the test's database."""
    from reana_workflow_controller.app import create_app

    return create_app({"TESTING": True})


@pytest.fixture
def api(api_app):
    """A Flask test client of the internal API."""
    return api_app.test_client()


@pytest.fixture
def other_user(db):
    """A second user, to prove isolation."""
    from reana_db.users import create_user

    created, _ = create_user(db, "john@example.org", full_name="John Doe")
    db.commit()
    return created


@pytest.fixture
def make_workflow(api):
    """``make_workflow(user, name="helloworld", spec=None, **body)``: create a run (201)."""

    def create(user, name="helloworld", spec=None, **body):
        payload = {
            "reana_specification": spec or HELLOWORLD_SPEC,
            "workflow_name": name,
            "operational_options": {},
            "retention_rules": [],
            **body,
        }
        response = api.post(
            "/api/workflows", query_string={"user": str(user.id_)}, json=payload
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return create


@pytest.fixture
def spec():
    """A copy of the helloworld reana.yaml (as the client sends it)."""
    import copy

    return copy.deepcopy(HELLOWORLD_SPEC)
