"""One owner of run creation: the rules both APIs used to decide differently, decided once.

reana-server and the workflow controller both create through
:mod:`reana_db.creation`; these are the decisions that disagreed between them
(name length, the retention maximum, the workspace root) or came too late
(a malformed specification stored as ``created``), and restarts.
"""

from __future__ import annotations

import pytest
from reana_commons.config import get_config, load_config
from reana_db import creation
from reana_db.creation import ForbiddenRunRequest, InvalidRunRequest, validate_run_request
from reana_db.enums import RunStatus, WorkspaceRetentionRuleStatus
from reana_db.models import WorkspaceRetentionRule
from reana_db.status import set_workflow_status

SPEC = {"version": "0.9.0", "workflow": {"type": "serial", "specification": {"steps": [
    {"environment": "docker.io/library/bash", "commands": ["echo hi"]}]}}}


@pytest.mark.parametrize(("name", "refusal", "status"), [
    ("a.b", 'contains illegal character "."', 403),  # REANA's 403 (its ValueError)
    ("3fa85f64-5717-4562-b3fc-2c963f66afa6", "cannot be a valid UUIDv4", 400),
    ("héllo", "contains illegal characters", 400),
    ("a/b", "contains illegal characters", 400),
    ("n" * 256, "longer than 255 characters", 400),
])
def test_names_are_refused_with_reanas_status(name, refusal, status):
    with pytest.raises(InvalidRunRequest, match=refusal) as error:
        validate_run_request(name, SPEC)
    assert error.value.status_code == status
    assert isinstance(error.value, ForbiddenRunRequest) == (status == 403)


def test_names_up_to_the_column_length_are_accepted():
    assert validate_run_request("n" * 255, SPEC).name == "n" * 255  # the server stopped at 200
    assert validate_run_request("", SPEC).name == "workflow"
    assert validate_run_request(None, SPEC).name == "workflow"


def test_retention_days_must_stay_below_the_maximum():
    config = load_config({"WORKSPACE_RETENTION_PERIOD": "30"})
    spec = {**SPEC, "workspace": {"retention_days": {"tmp/*": 29}}}
    assert validate_run_request("w", spec, config=config).retention_rules == [
        {"workspace_files": "tmp/*", "retention_days": 29},
        {"workspace_files": "**/*", "retention_days": 30},
    ]
    spec = {**SPEC, "workspace": {"retention_days": {"tmp/*": 30}}}  # the controller took it
    with pytest.raises(InvalidRunRequest, match="Please use less than 30 days"):
        validate_run_request("w", spec, config=config)
    requested = [{"workspace_files": "tmp/*", "retention_days": 30}]  # the internal API's form
    with pytest.raises(InvalidRunRequest, match="Please use less than 30 days"):
        validate_run_request("w", SPEC, retention_rules=requested, config=config)


@pytest.mark.parametrize("spec", [
    {"workflow": {"type": "serial", "specification": {"steps": [{"commands": ["true"]}]}}},
    {"workflow": {"type": "nope", "specification": {}}},
    {"inputs": {}},
    {**SPEC, "inputs": {"files": ["../secret"]}},
    {**SPEC, "inputs": {"directories": ["/etc"]}},
])
def test_a_malformed_specification_is_refused_at_create(spec):
    with pytest.raises(InvalidRunRequest):
        validate_run_request("w", spec)


def test_a_yadage_run_may_leave_its_specification_to_its_file():
    yadage = {"version": "0.9.0", "workflow": {"type": "yadage", "file": "workflow.yml",
                                               "specification": None}}
    assert validate_run_request("y", yadage).type_ == "yadage"


def test_operational_options_are_translated_once():
    cwl = {"version": "0.9.0", "inputs": {"options": {"TARGET": "out"}},
           "workflow": {"type": "cwl", "specification": {"$graph": []}}}
    assert validate_run_request("c", cwl).operational_options == {"--target": "out"}
    with pytest.raises(InvalidRunRequest, match='"NOPE" not supported'):
        validate_run_request("s", {**SPEC, "inputs": {"options": {"NOPE": 1}}})


def test_the_workspace_root_is_a_path_check(db, user, tmp_path):
    get_config().shared_volume_path.mkdir(parents=True, exist_ok=True)
    outside = str(get_config().shared_volume_path) + "-and-more"  # a string prefix, not below
    request = validate_run_request("w", {**SPEC, "workspace": {"root_path": outside}})
    with pytest.raises(InvalidRunRequest, match="not below an available workspace"):
        creation.create_run(db, user.id_, request)
    stored = creation.create_run(db, user.id_, validate_run_request("w", SPEC))
    assert RunStatus(stored.status) == RunStatus.created and stored.run_number == "1"


def test_restarts_share_the_workspace_and_are_checked(db, user):
    config = load_config({"WORKSPACE_RETENTION_PERIOD": "10"})
    get_config().shared_volume_path.mkdir(parents=True, exist_ok=True)
    parent = creation.create_run(db, user.id_, validate_run_request("w", SPEC, config=config))
    with pytest.raises(ForbiddenRunRequest, match="Only finished or failed"):
        creation.restart_run(db, parent)
    for status in (RunStatus.queued, RunStatus.pending, RunStatus.running, RunStatus.finished):
        set_workflow_status(db, parent, status)
    with pytest.raises(InvalidRunRequest, match="required property"):
        creation.restart_run(db, parent, {"workflow": {"type": "serial", "specification": {
            "steps": [{"commands": ["true"]}]}}})
    restart = creation.restart_run(db, parent)
    assert (restart.run_number, restart.workspace_path, restart.restart) == (
        "1.1", parent.workspace_path, True)
    statuses = {(rule.workflow_id, WorkspaceRetentionRuleStatus(rule.status))
                for rule in db.query(WorkspaceRetentionRule)}
    assert (parent.id_, WorkspaceRetentionRuleStatus.active) not in statuses
    assert (restart.id_, WorkspaceRetentionRuleStatus.created) in statuses
