"""Image tag checks of ``validate --environments`` (offline)."""

from __future__ import annotations

import pytest
from reana_client.validation.environments import check_tag, split_image


@pytest.mark.parametrize(
    "image, kind",
    [
        ("docker.io/library/python:2.7-slim", "success"),
        ("python", "warning"),
        ("reanahub/reana-env-root6:latest", "warning"),
        ("gitlab-registry.cern.ch/group/image:master", "warning"),
        ("localhost:5000/image", "warning"),
        ("bad image!", "error"),
    ],
)
def test_tags(image, kind):
    assert check_tag(image)[0] == kind


def test_registry_port_is_not_a_tag():
    assert split_image("localhost:5000/image") == ("localhost:5000/image", "")
    assert split_image("localhost:5000/image:1.0") == ("localhost:5000/image", "1.0")


def test_validate_environments_uses_local_images(tmp_path, monkeypatch):
    """``validate --environments`` asks ``docker images`` (no network) and reports each image."""
    from click.testing import CliRunner
    from reana_client.cli import cli

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(
        "#!/bin/sh\necho docker.io/library/python:3.11-slim\necho reanahub/x:latest\n"
    )
    docker.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    spec = tmp_path / "reana.yaml"
    spec.write_text(
        "inputs:\n  parameters: {}\nworkflow:\n  type: serial\n  specification:\n    steps:\n"
        "      - environment: python:3.11-slim\n        commands: [echo hi]\n"
        "      - environment: reanahub/x:latest\n        commands: [echo hi]\n"
        "      - environment: missing/image:1.0\n        commands: [echo hi]\n"
    )
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["validate", "--environments"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Environment image python:3.11-slim has the correct format." in out
    assert "Environment image python:3.11-slim exists locally." in out
    assert "Using 'latest' tag is not recommended in reanahub/x environment image." in out
    assert "Environment image reanahub/x:latest exists locally." in out
    assert "Environment image missing/image:1.0 does not exist locally." in out
    pull = CliRunner().invoke(cli, ["validate", "--pull"])
    assert pull.exit_code == 1
    assert "`--pull` flag requires `--environments` flag." in pull.stderr
