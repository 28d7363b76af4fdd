"""Fast start: ``version`` and ``status`` import no heavy library (bravado, yaml, requests...)."""

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


def test_cpu_time_well_under_the_startup_budget():
    """``make bench``'s client_startup measurement, with a bound on CPU time.

    The 0.3 s budget is wall time on an idle machine; CPU time is what load
    cannot inflate: ~60 ms here (an empty interpreter ~25 ms). 150 ms leaves
    room for slower machines and still catches an import of bravado, yaml or
    requests on the way (each ~100 ms or more).
    """
    import importlib.util
    import threading
    from http.server import ThreadingHTTPServer
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "client_startup.py"
    spec = importlib.util.spec_from_file_location("client_startup", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    server = ThreadingHTTPServer(("127.0.0.1", 0), bench.Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(
        os.environ,
        REANA_SERVER_URL=f"http://127.0.0.1:{server.server_port}",
        REANA_ACCESS_TOKEN="T",
    )
    try:
        command = bench.client_command()
        for args in (["version"], ["status", "-w", "helloworld.1"]):
            _wall_ms, cpu_ms = bench.median_ms([*command, *args], env)
            assert cpu_ms < 150, (args, cpu_ms)
    finally:
        server.shutdown()
        server.server_close()
