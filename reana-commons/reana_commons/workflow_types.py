"""The workflow types: everything the platform knows about an engine, in one table.

The server (type and operational-option checks), the workflow controller, both
run managers (engine command line, Kubernetes image) and the zygote (which engines
to preload, through the ``reana.workflow_engines`` entry-point group) read this
table; an engine package itself only provides its console script. Adding a type
is one :class:`WorkflowType` row here.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

ENGINE_ENTRY_POINTS = "reana.workflow_engines"
"""Entry-point group: engine name → module the zygote imports before forking engines."""

CONFORMANCE_ENTRY_POINTS = "reana.workflow_engines.conformance"
"""Entry-point group: engine name → factory of the conformance suite's workflows."""

ENGINES_BIN_DIR_ENV = "REANA_WORKFLOW_ENGINES_BIN_DIR"
DEFAULT_ENGINES_VENV = ".venv-engines"


@dataclass(frozen=True)
class WorkflowType:
    """One workflow type (``workflow.type`` of reana.yaml) and its engine."""

    name: str
    engine_command: str
    """The engine's console script (REANA's ``run-<type>-workflow``)."""
    operational_options: Mapping[str, str]
    """Operational options accepted (``-o name=value``) → the name the engine receives."""
    passes_workflow_json: bool = True
    """Whether the engine gets ``--workflow-json`` (snakemake reads its Snakefile instead)."""
    passes_workflow_file: bool = True
    """Whether the engine gets ``--workflow-file`` (serial's steps are all in the JSON)."""
    spec_loader: str | None = None
    """``module:function(workflow_file, analysis_dir) -> specification`` filling
    ``workflow.specification`` from ``workflow.file`` when a spec is loaded; None: the
    client sends the specification (cwl: packed) or the engine reads the file."""
    parameter_file: bool = False
    """Whether ``inputs.parameters.input`` names a YAML file of the parameters."""
    engine_loads_workflow_file: bool = False
    """Whether a null ``workflow.specification`` is fine when ``workflow.file`` is given
    (reana-client 0.9.6 sends yadage so; its engine loads the file from the workspace)."""
    description: str = field(default="", compare=False)
    engine_tool: str = ""
    """The Python distribution whose version is the engine's version (``cwltool``...)."""

    @property
    def image_setting(self) -> str:
        """The :class:`~reana_commons.config.Config` field of the engine's image (Kubernetes);
        environment ``REANA_WORKFLOW_ENGINE_IMAGE_<TYPE>``."""
        return f"workflow_engine_image_{self.name}"

    def engine_argv(self, workflow_uuid, workspace, specification, workflow_file,
                    parameters: dict, options: dict) -> list[str]:
        """REANA's engine command line (console script first) for one run."""
        argv = [self.engine_command, "--workflow-uuid", str(workflow_uuid),
                "--workflow-workspace", str(workspace)]
        if self.passes_workflow_json:
            argv += ["--workflow-json", _b64(specification or {})]
        if self.passes_workflow_file and workflow_file:
            argv += ["--workflow-file", str(workflow_file)]
        return argv + ["--workflow-parameters", _b64(parameters or {}),
                       "--operational-options", _b64(options or {})]


def _options(*names: str, **translated: str) -> Mapping[str, str]:
    return MappingProxyType({**{name: name for name in names}, **translated})


WORKFLOW_TYPE_TABLE: tuple[WorkflowType, ...] = (
    WorkflowType(
        "serial", "run-serial-workflow",
        _options("CACHE", "FROM", "TARGET"),
        passes_workflow_file=False,
        spec_loader="reana_commons.specification:load_serial_file",
        description="steps of shell commands run one after the other",
        engine_tool="reana-workflow-engine-serial",
    ),
    WorkflowType(
        "cwl", "run-cwl-workflow",
        # REANA translates TARGET for cwltool; cwltool-style options pass as they are.
        _options("--target", "--parallel", "--default-container", TARGET="--target"),
        parameter_file=True,
        description="a CWL workflow (packed by the client), run by cwltool",
        engine_tool="cwltool",
    ),
    WorkflowType(
        "snakemake", "run-snakemake-workflow",
        # TARGET becomes the engine's `targets`; clients send it translated, so that passes too.
        _options("report", "jobs", "targets", TARGET="targets"),
        passes_workflow_json=False,
        parameter_file=True,
        description="a Snakefile in the workspace, run by Snakemake",
        engine_tool="snakemake",
    ),
    WorkflowType(
        "yadage", "run-yadage-workflow",
        _options("toplevel", "initdir", "initfiles", "accept_metadir"),
        engine_loads_workflow_file=True,
        description="a yadage workflow, run by yadage/packtivity",
        engine_tool="yadage",
    ),
)

WORKFLOW_TYPES: tuple[str, ...] = tuple(t.name for t in WORKFLOW_TYPE_TABLE)
"""The workflow types' names (``serial``, ``cwl``, ``snakemake``, ``yadage``)."""

_BY_NAME = {t.name: t for t in WORKFLOW_TYPE_TABLE}


class UnknownWorkflowType(ValueError):
    """No workflow type has this name."""


def workflow_type(name: str) -> WorkflowType:
    """The workflow type called ``name``; :class:`UnknownWorkflowType` if none is."""
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):
        raise UnknownWorkflowType(f"Unknown workflow type {name!r}.") from None


def engines_bin_dir() -> Path:
    """Where engines installed in a venv of their own have their console scripts."""
    configured = os.environ.get(ENGINES_BIN_DIR_ENV)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / DEFAULT_ENGINES_VENV / "bin"


def engine_executable(script: str) -> str | None:
    """The engine console script ``script``: in the services' venv, else in
    :func:`engines_bin_dir`, else on ``PATH``; None when it is nowhere."""
    for folder in (Path(sys.executable).parent, engines_bin_dir()):
        candidate = folder / script
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(script)


def engine_modules() -> dict[str, str]:
    """Engine name → module to preload, from the ``reana.workflow_engines`` entry points."""
    from importlib.metadata import entry_points

    return {ep.name: ep.value.partition(":")[0] for ep in entry_points(group=ENGINE_ENTRY_POINTS)}


def _b64(value) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()
