"""Our client and reana-client 0.9.6 print the same for the same platform (no runs needed)."""

from __future__ import annotations

import pytest

META_COMMANDS = [
    ["ping"],
    ["info"],
    ["info", "--json"],
    ["quota-show", "--resources"],
    ["quota-show", "--resource", "disk"],
    ["quota-show", "--resource", "cpu", "-h"],
    ["quota-show", "--resource", "disk", "--report", "limit"],
    ["quota-show", "--resource", "disk", "--report", "usage"],
    ["quota-show", "--resource", "nope"],
    ["secrets-list"],
    ["secrets-add", "--env", "FOO=bar"],
    ["secrets-add", "--env", "FOO=bar"],
    ["secrets-list"],
    ["secrets-delete", "FOO"],
    ["secrets-delete", "FOO"],
    ["list"],
    ["list", "--json"],
    ["list", "-s"],
    ["list", "--filter", "status=bogus"],
    ["list", "--filter", "colour=red"],
    ["status", "-w", "nosuchworkflow"],
    ["ls", "-w", "nosuchworkflow"],
]


def assert_same(mine, theirs, args):
    assert (mine.exit_code, mine.stdout) == (theirs.exit_code, theirs.stdout), args
    assert mine.stderr.strip() == theirs.stderr.strip(), args


def test_meta_commands_match_reana_client(ours, reference):
    theirs = reference(META_COMMANDS)
    for args, ref in zip(META_COMMANDS, theirs, strict=True):
        assert_same(ours(*args), ref, args)


@pytest.mark.parametrize(
    "args, code, text",
    [
        (["status"], 1, "Workflow name must be provided"),
        (["ping", "-t", "wrong-token"], 1, "Status: ERROR: INVALID ACCESS TOKEN"),
        (["quota-show"], 1, "At least one of the options: `resource` or `resources`"),
    ],
)
def test_errors(ours, args, code, text):
    result = ours(*args)
    assert result.exit_code == code
    assert text in result.output


def test_bravado_backend_gives_the_same_answers(ours):
    """The validating bravado client (REANA's way) accepts our server's answers."""
    for args in (["ping"], ["info", "--json"], ["list", "--json"], ["secrets-list"]):
        fast = ours(*args)
        validated = ours(*args, env={"REANA_CLIENT_BRAVADO": "1"})
        assert (validated.exit_code, validated.stdout) == (fast.exit_code, fast.stdout), args
