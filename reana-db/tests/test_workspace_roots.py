"""``workspace.root_path``: real paths, allowed roots only, never inside another run's workspace."""

from __future__ import annotations

import dataclasses
import os

import pytest
from reana_commons.config import get_config
from reana_db.creation import InvalidWorkspaceRoot, store_new_run
from reana_db.workspace_roots import available_roots, requested_root, workspace_root

SPEC = {"workflow": {"type": "serial", "specification": {"steps": []}}}


@pytest.fixture(autouse=True)
def shared_volume(db):
    """The shared volume exists (the platform makes it at start)."""
    get_config().shared_volume_path.mkdir(parents=True, exist_ok=True)


def create(db, owner, root_path=None, config=None):
    return store_new_run(db, owner.id_, "w", "serial", SPEC, {}, [], root_path, config=config)


def test_default_and_custom_roots(db, user):
    shared = get_config().shared_volume_path
    default = create(db, user)
    assert os.path.dirname(os.path.dirname(default.workspace_path)) == str(
        shared / "users" / str(user.id_)
    )
    projects = shared / "projects" / "a"
    custom = create(db, user, str(projects))
    assert custom.workspace_path.startswith(str(projects / "users" / str(user.id_)))
    assert os.path.isdir(custom.workspace_path)


def test_the_real_path_is_checked(db, user, tmp_path):
    shared = get_config().shared_volume_path
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, shared / "escape")
    with pytest.raises(InvalidWorkspaceRoot, match="not below an available workspace"):
        create(db, user, str(shared / "escape"))
    with pytest.raises(InvalidWorkspaceRoot, match="not below an available workspace"):
        create(db, user, str(shared / ".." / "outside"))
    with pytest.raises(InvalidWorkspaceRoot, match="absolute path"):
        create(db, user, "relative/dir")
    assert os.listdir(outside) == []


def test_never_inside_another_run(db, user, other_user):
    victim = create(db, other_user)
    shared = get_config().shared_volume_path
    for attempt in (
        victim.workspace_path,
        os.path.join(victim.workspace_path, "sub"),
        str(shared / "users" / str(other_user.id_)),
        str(shared / "users"),
    ):
        with pytest.raises(InvalidWorkspaceRoot, match="'users' tree"):
            create(db, user, attempt)
    # A job's symlink inside its own workspace leading to another run's workspace.
    mine = create(db, user)
    os.symlink(victim.workspace_path, os.path.join(mine.workspace_path, "link"))
    with pytest.raises(InvalidWorkspaceRoot, match="'users' tree"):
        create(db, user, os.path.join(mine.workspace_path, "link"))
    assert os.listdir(victim.workspace_path) == []


def test_stored_workspaces_are_refused_wherever_they_are(db, user, other_user):
    # A run whose workspace does not follow the layout (stored by an older version).
    victim = create(db, other_user)
    odd = get_config().shared_volume_path / "legacy" / "run"
    odd.mkdir(parents=True)
    victim.workspace_path = str(odd)
    db.flush()
    with pytest.raises(InvalidWorkspaceRoot, match="inside the workspace of another run"):
        workspace_root(db, str(odd / "deeper"))


def test_other_available_roots(db, user, tmp_path):
    scratch = tmp_path / "scratch"
    config = dataclasses.replace(get_config(), extra={"workspaces_available": [str(scratch)]})
    assert available_roots(config) == [get_config().shared_volume_path, scratch]
    run = create(db, user, str(scratch), config=config)
    assert run.workspace_path.startswith(str(scratch / "users"))
    with pytest.raises(InvalidWorkspaceRoot):
        create(db, user, str(scratch))  # not available without the configuration


def test_a_component_swapped_for_a_symlink_is_not_followed(db, user, tmp_path, monkeypatch):
    from reana_db import workspace_roots

    shared = get_config().shared_volume_path
    outside = tmp_path / "outside"
    outside.mkdir()
    checked = workspace_roots.workspace_root

    def swap_after_check(*args, **kwargs):
        result = checked(*args, **kwargs)
        (shared / "proj").rmdir()
        os.symlink(outside, shared / "proj")
        return result

    (shared / "proj").mkdir()
    monkeypatch.setattr("reana_db.creation.workspace_root", swap_after_check)
    with pytest.raises(InvalidWorkspaceRoot, match="cannot be created"):
        create(db, user, str(shared / "proj"))
    assert os.listdir(outside) == []


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({}, None),
        ({"workspace": None}, None),
        ({"workspace": {"root_path": "/a"}}, "/a"),
        ({"workspace": {"root_path": ""}}, None),
    ],
)
def test_requested_root(spec, expected):
    assert requested_root(spec) == expected


@pytest.mark.parametrize(
    "spec", [{"workspace": [1]}, {"workspace": "x"}, {"workspace": {"root_path": [1]}}]
)
def test_requested_root_refuses_other_types(spec):
    with pytest.raises(InvalidWorkspaceRoot):
        requested_root(spec)
