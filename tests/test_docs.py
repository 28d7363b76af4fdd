"""The user and operator guides (docs/) build with MkDocs in strict mode, their links resolve,
they cover what an operator and a newcomer need, and the commands they show exist."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
MKDOCS = [sys.executable, "-m", "mkdocs"]
OPERATOR_TOPICS = ("Install on a laptop", "With docker-compose", "With helm", "Users and tokens",
                   "Compute backends", "Secrets", "Quotas", "Upgrades", "Troubleshooting")
USER_TOPICS = ("Installing the client", "Connecting", "Running and following a run",
               "Files of a run", "Secrets", "Quotas")


def _build(config: Path, site: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*MKDOCS, "build", "--strict", "-f", str(config), "-d", str(site)],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("site")
    result = _build(ROOT / "mkdocs.yml", site)
    assert result.returncode == 0, result.stderr
    return site


def test_the_guides_build_in_strict_mode_without_anything_from_elsewhere(site):
    for page in ("index.html", "user-guide/index.html", "operator-guide/index.html",
                 "api/index.html", "adr/0004-process-manager/index.html"):
        html = (site / page).read_text()
        assert not re.search(r"<(script|link)[^>]+(src|href)=\"(https?:)?//", html), page


def test_a_broken_link_fails_the_build(tmp_path):
    """The check can fail: the same docs with one dead link and one dead anchor do not build."""
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "docs", copy / "docs")
    shutil.copy(ROOT / "mkdocs.yml", copy / "mkdocs.yml")
    guide = copy / "docs" / "user-guide.md"
    guide.write_text(guide.read_text() + "\nSee [the missing page](no-such-page.md).\n")
    broken = _build(copy / "mkdocs.yml", tmp_path / "site")
    assert broken.returncode != 0 and "no-such-page.md" in broken.stderr
    guide.write_text(guide.read_text().replace("(no-such-page.md)", "(operator-guide.md#nope)"))
    broken = _build(copy / "mkdocs.yml", tmp_path / "site2")
    assert broken.returncode != 0 and "nope" in broken.stderr


def _headings(path: Path) -> list[str]:
    return [line.lstrip("#").strip() for line in path.read_text().splitlines()
            if line.startswith("## ")]


def test_the_guides_cover_each_topic():
    operator = _headings(ROOT / "docs" / "operator-guide.md")
    for topic in OPERATOR_TOPICS:
        assert any(h.startswith(topic) for h in operator), topic
    user = _headings(ROOT / "docs" / "user-guide.md")
    for topic in USER_TOPICS:
        assert any(h.startswith(topic) for h in user), topic


def _commands(tool: str) -> set[tuple[str, str]]:
    """(command, option) pairs the guides show for ``tool`` (``reana-client``...)."""
    found = set()
    for page in (ROOT / "docs").glob("*.md"):
        for match in re.finditer(rf"{tool} (-l DEBUG )?([a-z][a-z-]+)((?: --?[a-zA-Z-]+| \S+)*)",
                                 page.read_text()):
            command = match.group(2)
            for option in re.findall(r" (--?[a-zA-Z][a-zA-Z-]*)", match.group(3)):
                found.add((command, option))
            found.add((command, ""))
    return found


@pytest.mark.parametrize("tool, module", [("reana-client", "reana_client.cli:cli"),
                                          ("reana-admin", "reana_server.cli:cli"),
                                          ("reana-db", "reana_db.cli:cli")])
def test_every_command_and_option_the_guides_show_exists(tool, module):
    import importlib

    name, _, attribute = module.partition(":")
    group = getattr(importlib.import_module(name), attribute)
    shown = _commands(tool)
    assert shown, tool
    for command, option in sorted(shown):
        if command in ("command",):  # "<command>" placeholders
            continue
        result = CliRunner().invoke(group, [command, "--help"])
        assert result.exit_code == 0, f"{tool} {command}: {result.output}"
        if option:
            assert option in result.output, f"{tool} {command} has no {option}"


def test_the_readme_first_screen_holds_the_two_commands():
    first_screen = (ROOT / "README.md").read_text().splitlines()[:12]
    assert any(line.startswith("make demo") for line in first_screen)
    assert any(line.startswith("make test") for line in first_screen)
