"""Fixtures of the CWL engine tests: a real job controller, real messaging, the engine CLI.

The engine does not touch the database or the broker itself (the kit does, and has
its own tests on every profile), so these tests use the embedded profile only.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from reana_testing.engine import (  # noqa: F401 - fixtures: the embedded profile only
    JsonSpecEnginePlatform,
    embedded_broker_only,
    platform_fixture,
    sqlite_only,
)


class Platform(JsonSpecEnginePlatform):
    engine_main = "from reana_workflow_engine_cwl.cli import run_cwl_workflow as r; r()"
    run_timeout = 120.0


platform = platform_fixture(Platform)
"""A running workflow with its job controller; the engine started by the test."""


@pytest.fixture
def pack(tmp_path):
    """``pack(files)``: the packed document of ``files`` (CWL YAML by name), as
    ``cwltool --pack`` (and so reana-client) makes it."""
    folder = tmp_path / "cwl-sources"
    folder.mkdir()
    return lambda files, main="main.cwl": _pack(folder, files, main)


def _pack(folder: Path, files: dict[str, str], main: str) -> dict:
    import io

    from cwltool.main import main as cwltool_main

    for name, text in files.items():
        (folder / name).write_text(text)
    out, err = io.StringIO(), io.StringIO()
    code = cwltool_main(["--pack", str(folder / main)], stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue())
