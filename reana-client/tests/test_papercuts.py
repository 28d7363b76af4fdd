"""What tripped a newcomer up (issue 14): help, typos, debugging, version, a scheme-less URL."""

from __future__ import annotations

import os
import subprocess
import sys

from click.testing import CliRunner
from reana_client.cli import COMMANDS, cli


def _run(*args, env=None, width=None):
    return CliRunner().invoke(cli, list(args), env=env or {}, prog_name="reana-client",
                              terminal_width=width)


def test_top_level_help_shows_whole_descriptions():
    result = _run("--help", width=60)  # a narrow terminal: click's default cut them with "..."
    assert result.exit_code == 0
    commands = result.output.split("Configuration commands:")[1]
    assert "..." not in commands
    for name in COMMANDS:
        command = cli.get_command(None, name)
        first_sentence = command.help.split("\n\n")[0].strip()
        # click wraps at hyphens too ("(read-" / "only)"): join those back
        flat = " ".join(result.output.split()).replace("- ", "-")
        assert f"{name} {first_sentence}" in flat, name


def test_a_mistyped_command_gets_the_right_one_suggested():
    result = _run("stauts")
    assert result.exit_code == 2
    assert "No such command 'stauts'. Did you mean 'status'?" in result.output
    assert "Did you mean 'download'" in _run("donwload").output
    assert "Did you mean" not in _run("frobnicate").output


def test_version_tells_this_client_from_pypis(reference_python):
    ours = _run("version").output.strip()
    pypi = subprocess.run(
        [str(reference_python), "-W", "ignore", "-c",
         "import sys; from reana_client.cli import cli; sys.argv[0]='reana-client'; cli()",
         "version"], capture_output=True, text=True, check=True).stdout.strip()
    assert pypi == "0.9.6"
    assert ours.startswith("0.9.6 (this platform's reana-client") and ours != pypi
    assert "not PyPI's reana-client" in ours


def test_du_help_is_spelled_right():
    text = _run("du", "--help").output
    assert "check the disk usage of a given workspace" in text and "chech" not in text


def test_a_server_url_without_scheme_is_named_not_refused(platform):
    host = platform.url.split("://", 1)[1]
    result = _run("ping", env={"REANA_SERVER_URL": host, "REANA_ACCESS_TOKEN": platform.token})
    assert result.exit_code == 1
    assert "REANA_SERVER_URL must start with http:// or https://" in result.output
    assert "Connection refused" not in result.output


def test_debug_log_level_shows_http_calls_without_the_token(platform):
    # A real process, as a user types it (logging is set up by the CLI itself).
    env = {k: v for k, v in os.environ.items() if not k.startswith("REANA_")}
    env.update(platform.client_env())
    result = subprocess.run(
        [sys.executable, "-c", "from reana_client.cli import cli; cli()", "-l", "DEBUG", "list"],
        env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert f"-> GET {platform.url}/api/workflows?" in result.stderr
    assert "<- GET /api/workflows: 200" in result.stderr
    assert platform.token not in result.stderr + result.stdout
    assert "access_token=***" in result.stderr
