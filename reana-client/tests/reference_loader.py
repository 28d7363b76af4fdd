"""Load reana.yaml files with reana-client 0.9.6's own loader (cwltool, Snakemake).

Executed by the reference venv's Python: reads a JSON list of reana.yaml paths
on stdin; prints, as the last line, a JSON object mapping each path to the
specification reana-client 0.9.6 sends on ``create`` (``{"error": ...}`` when
it refuses it). Snakemake prints its own lines before.
"""

import json
import os
import sys
import warnings

warnings.simplefilter("ignore")
from reana_client.utils import load_validate_reana_spec  # noqa: E402

loaded = {}
for path in json.load(sys.stdin):
    directory, name = os.path.split(path)
    cwd = os.getcwd()
    os.chdir(directory)
    try:
        spec = load_validate_reana_spec(name, skip_validation=True)
        loaded[path] = json.loads(json.dumps(spec, sort_keys=True))
    except Exception as error:  # noqa: BLE001 - reported to the test
        loaded[path] = {"error": repr(error)}
    finally:
        os.chdir(cwd)
print(json.dumps(loaded))
