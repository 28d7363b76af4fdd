"""Loading reana.yaml: YAML, then the engine-specific parts, then validation.

``load_reana_spec`` does what REANA's loader does, engine-independently:
serial specifications are inline (or in ``workflow.file``, loaded as YAML);
for cwl, snakemake and yadage the ``workflow.file`` reference is kept (their
engines load it), unless a loader for the type is passed in; for cwl and
snakemake, ``inputs.parameters.input`` names a YAML file whose content becomes
``inputs.parameters``. Paths in the spec are resolved inside the analysis
directory (the spec's own directory by default) and cannot leave it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import yaml

from reana_commons.errors import REANAValidationError, WorkspaceFileNotFound, WorkspacePathError
from reana_commons.validation import validate_operational_options, validate_reana_spec
from reana_commons.workflow_types import WORKFLOW_TYPE_TABLE, WORKFLOW_TYPES
from reana_commons.workspace import resolve

log = logging.getLogger(__name__)

PARAMETER_FILE_TYPES = tuple(t.name for t in WORKFLOW_TYPE_TABLE if t.parameter_file)

__all__ = [
    "WORKFLOW_TYPES",
    "complete_spec",
    "load_reana_spec",
    "load_yaml_file",
    "validate_operational_options",
    "validate_reana_spec",
]

SpecLoader = Callable[[Path, Path], dict]
"""``loader(workflow_file, analysis_dir) -> specification`` for one workflow type."""


def load_yaml_file(path: str | os.PathLike, what: str = "") -> object:
    """Parse a YAML file safely; parse errors become :class:`REANAValidationError`."""
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except FileNotFoundError as error:
        raise REANAValidationError(f"{what or path} not found: {path}") from error
    except yaml.YAMLError as error:
        raise REANAValidationError(f"{what or path} is not valid YAML: {error}") from error


def _inside(analysis_dir: Path, relative: str, what: str) -> Path:
    try:
        return resolve(analysis_dir, relative, must_exist=True)
    except WorkspaceFileNotFound as error:
        raise REANAValidationError(f"{what} '{relative}' does not exist.") from error
    except WorkspacePathError as error:
        raise REANAValidationError(f"{what} '{relative}': {error.message}") from error


def load_serial_file(workflow_file: Path, _analysis_dir: Path) -> dict:
    """The serial specification in ``workflow_file`` (YAML)."""
    spec = load_yaml_file(workflow_file, "Serial workflow file")
    if not isinstance(spec, dict):
        raise REANAValidationError(f"Serial workflow file {workflow_file.name} is not a mapping.")
    return spec


def load_reana_spec(
    path: str | os.PathLike,
    workspace_path: str | os.PathLike | None = None,
    skip_validation: bool = False,
    loaders: dict[str, SpecLoader] | None = None,
) -> dict:
    """Load, complete and validate a reana.yaml; returns the specification dict.

    ``workspace_path`` is the analysis directory the spec's relative paths
    refer to (default: the spec's directory). Validation warnings are logged
    (use :func:`validate_reana_spec` to get them); errors raise
    :class:`REANAValidationError`.
    """
    path = Path(path)
    analysis = Path(workspace_path) if workspace_path is not None else path.resolve().parent
    spec = load_yaml_file(path, path.name)
    if not isinstance(spec, dict):
        raise REANAValidationError(
            f"{path.name} must contain a mapping, not {type(spec).__name__}."
        )
    if not skip_validation:
        for warning in validate_reana_spec(spec):
            for item in warning.get("additional_properties", []):
                log.warning(
                    'Unexpected property "%s" found in "%s"', item["property"], item["path"]
                )
    return complete_spec(spec, analysis, loaders)


def complete_spec(spec: dict, analysis_dir: Path, loaders: dict[str, SpecLoader] | None = None):
    """Fill ``workflow.specification`` and file-based parameters (in place; returned)."""
    workflow = spec.get("workflow") or {}
    workflow_type = workflow.get("type")
    all_loaders = {**_table_loaders(), **(loaders or {})}
    workflow_file = workflow.get("file")
    if workflow_file and workflow_type in all_loaders and not workflow.get("specification"):
        source = _inside(analysis_dir, workflow_file, "Workflow file")
        workflow["specification"] = all_loaders[workflow_type](source, analysis_dir)
    parameters = (spec.get("inputs") or {}).get("parameters")
    if workflow_type in PARAMETER_FILE_TYPES and isinstance(parameters, dict):
        input_file = parameters.get("input")
        if isinstance(input_file, str):
            source = _inside(analysis_dir, input_file, "Input parameters file")
            loaded = load_yaml_file(source, "Input parameters file")
            spec["inputs"]["parameters"] = loaded if isinstance(loaded, dict) else {}
    return spec


def _table_loaders() -> dict[str, SpecLoader]:
    """The spec loaders the workflow-type table names (``module:function``)."""
    import importlib

    found = {}
    for type_ in WORKFLOW_TYPE_TABLE:
        if type_.spec_loader:
            module, _, function = type_.spec_loader.partition(":")
            found[type_.name] = getattr(importlib.import_module(module), function)
    return found
