"""The sharing commands (REANA 0.95's share-add, share-remove, share-status, list --shared...)."""

from __future__ import annotations

import subprocess

from .conftest import ROOT


def _new_user(platform, email: str) -> str:
    home = platform.env["REANA_HOME"]
    with open(f"{home}/secret-key") as key:
        env = dict(platform.env, REANA_SECRET_KEY=key.read().strip())
    result = subprocess.run([str(ROOT / ".venv/bin/reana-admin"), "user-create", "--email", email],
                            env=env, capture_output=True, text=True, timeout=120, check=True)
    return result.stdout.strip().splitlines()[-1]


def test_share_commands(platform, ours, helloworld):
    created = ours("create", "-w", "sharedflow", cwd=helloworld)
    assert created.exit_code == 0, created.output
    bob = _new_user(platform, "bob@example.org")

    assert ours("share-status", "-w", "sharedflow.1").stdout.strip() == (
        "==> Workflow sharedflow.1 is not shared with anyone.")
    added = ours("share-add", "-w", "sharedflow.1", "-u", "bob@example.org", "-u",
                 "nobody@example.org", "-m", "Please review", "--valid-until", "2999-12-31")
    assert added.exit_code == 1
    assert added.stdout.strip() == (
        "==> SUCCESS: sharedflow.1 is now read-only shared with bob@example.org")
    assert added.stderr.strip() == ("==> ERROR: Failed to share sharedflow.1 with "
                                    "nobody@example.org: User with email 'nobody@example.org' "
                                    "does not exist.")
    status = ours("share-status", "-w", "sharedflow.1")
    assert status.stdout.split() == ["USER_EMAIL", "VALID_UNTIL", "bob@example.org",
                                     "2999-12-31T23:59:59"]
    mine = ours("list", "--shared-with", "anybody")
    assert mine.stdout.split()[:7] == ["NAME", "RUN_NUMBER", "CREATED", "STARTED", "ENDED",
                                       "STATUS", "SHARED_WITH"]
    assert mine.stdout.split()[7:9] == ["sharedflow", "1"]
    assert mine.stdout.split()[-1] == "bob@example.org"

    theirs = ours("list", "--shared-by", "anybody", env={"REANA_ACCESS_TOKEN": bob})
    assert theirs.stdout.split()[-1] == platform_email(platform)
    assert "sharedflow" in theirs.stdout
    assert ours("status", "-w", "sharedflow.1", env={"REANA_ACCESS_TOKEN": bob}).exit_code == 0
    refused = ours("delete", "-w", "sharedflow.1", env={"REANA_ACCESS_TOKEN": bob})
    assert refused.exit_code == 1
    assert "read-only" in refused.stderr
    both = ours("list", "--shared-by", "x", "--shared-with", "y")
    assert (both.exit_code, both.stderr.strip()) == (
        1, "==> ERROR: Please provide either --shared-by or --shared-with, not both.")

    removed = ours("share-remove", "-w", "sharedflow.1", "-u", "bob@example.org")
    assert removed.stdout.strip() == "==> SUCCESS: sharedflow.1 is no longer shared with " \
                                     "bob@example.org"
    assert ours("status", "-w", "sharedflow.1", env={"REANA_ACCESS_TOKEN": bob}).exit_code == 1
    again = ours("share-remove", "-w", "sharedflow.1", "-u", "bob@example.org")
    assert again.exit_code == 1
    assert again.stderr.strip() == ("==> ERROR: Failed to unshare sharedflow.1 with "
                                    "bob@example.org: sharedflow.1 is not shared with "
                                    "bob@example.org.")


def platform_email(platform) -> str:
    from reana_client.api.client import SpecClient

    return SpecClient(platform.url).call("get_you", access_token=platform.token)["email"]
