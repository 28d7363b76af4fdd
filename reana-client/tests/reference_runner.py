"""Run several reana-client 0.9.6 commands in one process (it takes seconds to import).

Executed by the reference venv's Python: reads ``{"env": {...}, "cwd": str,
"commands": [[args...], ...]}`` as JSON on stdin and prints a JSON list of
``{"stdout", "stderr", "exit_code"}``, one per command.
"""

import json
import os
import sys
import warnings

warnings.simplefilter("ignore")
job = json.load(sys.stdin)
os.environ.update(job["env"])
os.chdir(job["cwd"])

from click.testing import CliRunner  # noqa: E402
from reana_client.cli import cli  # noqa: E402

results = []
for args in job["commands"]:
    result = CliRunner().invoke(cli, args, catch_exceptions=True, prog_name="reana-client")
    results.append(
        {"stdout": result.stdout, "stderr": result.stderr, "exit_code": result.exit_code}
    )
print(json.dumps(results))
