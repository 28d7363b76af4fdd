"""Run numbers (name.N, name.N.M) and lookup by UUID or name, per owner."""

from __future__ import annotations

import uuid

import pytest
from reana_db.enums import RunStatus
from reana_db.run_numbers import (
    WorkflowNotFound,
    get_workflow_by_uuid_or_name,
    next_run_number,
    parse_uuid,
    split_run_number,
)
from reana_db.status import set_workflow_status


def test_split_and_parse():
    assert split_run_number("3") == (3, 0)
    assert split_run_number("3.2") == (3, 2)
    for bad in ("", "a", "3.", ".2", "3.2.1", "-1", "3.x"):
        assert split_run_number(bad) is None
    value = uuid.uuid4()
    assert parse_uuid(str(value)) == value
    assert parse_uuid("helloworld") is None
    assert parse_uuid(None) is None


def test_new_runs_restarts_and_deleted_runs(db, user, make_workflow):
    first = make_workflow(user, "hello")
    second = make_workflow(user, "hello")
    assert (first.full_name, second.full_name) == ("hello.1", "hello.2")
    assert make_workflow(user, "other").full_name == "other.1"

    restart = make_workflow(user, "hello", restart_of=first)
    restart_again = make_workflow(user, "hello", restart_of=first)
    assert (restart.full_name, restart_again.full_name) == ("hello.1.1", "hello.1.2")
    assert restart.run_number == "1.1" and first.run_number == "1"
    assert restart.workspace_path == first.workspace_path
    # a restart of a restart continues the same major's minors
    assert make_workflow(user, "hello", restart_of=restart).full_name == "hello.1.3"

    # deleted runs keep their numbers: never reused
    set_workflow_status(db, second, RunStatus.deleted)
    db.commit()
    assert make_workflow(user, "hello").full_name == "hello.3"
    assert next_run_number(db, user.id_, "hello") == (4, 0)


def test_lookup(db, user, other_user, make_workflow):
    first = make_workflow(user, "hello")
    second = make_workflow(user, "hello")
    restart = make_workflow(user, "hello", restart_of=second)
    db.commit()

    def find(value, owner=user):
        return get_workflow_by_uuid_or_name(db, value, owner.id_)

    assert find(str(first.id_)) is first
    assert find("hello.1") is first
    assert find("hello.2") is second
    assert find("hello.2.1") is restart
    assert find("hello.2.0") is second
    assert find("hello") is restart  # latest run, restarts included
    for missing in ("hello.3", "hello.2.2", "nothing", "", str(uuid.uuid4()), "hello.x"):
        with pytest.raises(WorkflowNotFound):
            find(missing)


def test_other_users_runs_are_never_found(db, user, other_user, make_workflow):
    mine = make_workflow(user, "shared-name")
    theirs = make_workflow(other_user, "shared-name")
    db.commit()
    assert theirs.full_name == "shared-name.1"  # numbering is per owner
    for value in (str(theirs.id_), "shared-name", "shared-name.1"):
        assert get_workflow_by_uuid_or_name(db, value, other_user.id_) is theirs
    with pytest.raises(WorkflowNotFound) as error:
        get_workflow_by_uuid_or_name(db, str(theirs.id_), user.id_)
    assert str(error.value) == f"Workflow {theirs.id_} does not exist."
    with pytest.raises(WorkflowNotFound):
        get_workflow_by_uuid_or_name(db, str(mine.id_), other_user.id_)


def test_uniqueness_is_enforced_by_the_database(db, user, make_workflow):
    from reana_db.models import Workflow
    from sqlalchemy.exc import IntegrityError

    make_workflow(user, "dup")
    db.commit()
    db.add(Workflow(name="dup", owner_id=user.id_, type_="serial", run_number_major=1))
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()
