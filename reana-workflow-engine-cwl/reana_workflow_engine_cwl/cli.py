"""``run-cwl-workflow``: the CWL engine process of one run (REANA's engine arguments)."""

from __future__ import annotations

from reana_commons.engine.harness import engine_cli

from reana_workflow_engine_cwl.engine import run_workflow

run_cwl_workflow = engine_cli("cwl", run_workflow)

SCHEMA_VERSIONS = ("v1.0", "v1.1", "v1.2")


def preload() -> None:
    """Load cwltool's CWL schemas once in the zygote, before it forks runs.

    Each run loads the schema of its document's version and v1.2 (cwltool's internal
    version): YAML parsing that is most of an engine's CPU time for a small workflow
    (about a second per schema on an idle core); the zygote's children inherit them.
    """
    from cwltool.process import get_schema

    for version in SCHEMA_VERSIONS:
        get_schema(version)
