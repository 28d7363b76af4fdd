"""Fast start: ``version`` and ``status`` import no heavy library (bravado, yaml, requests...).

How long they take is measured by ``make bench`` (benchmarks/client_startup.py:
client_startup_ms, client_status_cpu_ms), not asserted here: timings under a loaded CI
machine are not a test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .test_api_client import (
    _Handler,  # noqa: F401 - the stub server of those tests
    stub_url,  # noqa: F401
)

HEAVY = {
    "bravado",
    "bravado_core",
    "yaml",
    "jsonschema",
    "requests",
    "urllib3",
    "email",
    "http",
    "tablib",
    "gherkin",
    "pathspec",
    "reana_db",
    "sqlalchemy",
    "logging",
    "cwltool",  # only reana-cwl-runner imports it
}
SNIPPET = """
import json, sys
from reana_client.cli import cli
try:
    cli(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def _modules_after(args, env):
    proc = subprocess.run(
        [sys.executable, "-c", SNIPPET, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("args", [["version"], ["status", "-w", "helloworld.1"]])
def test_no_heavy_imports(args, stub_url):  # noqa: F811
    result = _modules_after(args, {"REANA_SERVER_URL": stub_url, "REANA_ACCESS_TOKEN": "T"})
    assert HEAVY.isdisjoint(result["modules"]), HEAVY & set(result["modules"])
