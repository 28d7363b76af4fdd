"""Loading reana.yaml on the client, with reana-commons' loader and validators.

This module adds the client-only parts: finding the file in the current
directory and turning commons' results into the messages ``validate`` prints.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from reana_client.output import message

VALID_NAMES = ("reana.yaml", "reana.yml")


class SpecificationError(Exception):
    """The specification is invalid; ``str()`` is the reason."""


def default_spec_path() -> str:
    """``reana.yaml`` or ``reana.yml`` in the current directory (exactly one must exist)."""
    matches = [p for p in VALID_NAMES if os.path.exists(p)]
    if not matches:
        message("No REANA specification file (reana.yaml) found. Exiting.", "error")
        sys.exit(1)
    if len(matches) > 1:
        message(
            "Found {} REANA specification files ({}). Please use only one. Exiting.".format(
                len(matches), ", ".join(matches)
            ),
            "error",
        )
        sys.exit(1)
    return matches[0]


def skip_slow_format_checkers() -> None:
    """Keep jsonschema from loading its optional IRI checker (``rfc3987_syntax``).

    That package compiles 39 lark grammars when imported: 3 s on an idle machine,
    up to 20 s on a busy one, paid by every ``create``/``run``/``validate``. The
    reana.yaml schema uses no IRI format, so jsonschema simply goes without it.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)


def _load_cwl(workflow_file, _analysis_dir) -> dict:
    from reana_client.workflow_loaders.cwl import pack

    return pack(workflow_file)


def load(path: str) -> dict:
    """Read reana.yaml and complete it as reana-client 0.9.6 does before sending it.

    Serial: ``workflow.file`` loaded; cwl: the workflow packed (``cwltool --pack``
    form); snakemake: the Snakefile read with ``inputs.parameters`` as its
    config (steps and job dependencies); yadage: the workflow file and its ``$ref``s
    checked, specification ``null``.
    """
    skip_slow_format_checkers()
    from reana_commons.errors import REANAValidationError
    from reana_commons.specification import load_reana_spec

    try:
        spec = load_reana_spec(path, skip_validation=True, loaders={"cwl": _load_cwl})
        workflow = spec.get("workflow") or {}
        if workflow.get("type") == "snakemake" and workflow.get("file"):
            _load_snakemake(spec, path)
        if workflow.get("type") == "yadage" and workflow.get("file"):
            from reana_client.workflow_loaders import yadage

            yadage.check(Path(os.path.dirname(os.path.abspath(path))) / workflow["file"])
    except REANAValidationError as error:
        raise SpecificationError(error.message) from error
    workflow = spec.get("workflow") or {}
    if workflow.get("type") == "yadage":
        # REANA sends no yadage specification: the engine loads workflow.file at start.
        workflow["specification"] = None
    return spec


def _load_snakemake(spec: dict, path: str) -> None:
    """Snakemake needs the config (the loaded ``inputs.parameters``), so it comes second."""
    from reana_commons.errors import REANAValidationError, WorkspaceFileNotFound
    from reana_commons.workspace import resolve

    from reana_client.workflow_loaders.snakemake import load as load_snakefile

    workflow = spec["workflow"]
    if workflow.get("specification"):
        return
    try:
        snakefile = resolve(os.path.dirname(os.path.abspath(path)), workflow["file"], True)
    except WorkspaceFileNotFound as error:
        raise REANAValidationError(f"Workflow file '{workflow['file']}' does not exist.") from error
    parameters = (spec.get("inputs") or {}).get("parameters")
    workflow["specification"] = load_snakefile(
        snakefile,
        parameters if isinstance(parameters, dict) else {},
        workdir=os.path.dirname(os.path.abspath(path)),
    )


def schema_warnings(spec: dict) -> list[str]:
    """REANA's JSON schema checks: warning lines, or :class:`SpecificationError`."""
    skip_slow_format_checkers()
    from reana_commons.errors import REANAValidationError
    from reana_commons.specification import validate_reana_spec

    workflow = spec.get("workflow")
    if (
        isinstance(workflow, dict)
        and "specification" in workflow
        and workflow["specification"] is None
    ):
        # yadage: 0.9.6 validates before it blanks the specification it will not send
        spec = {**spec, "workflow": {k: v for k, v in workflow.items() if k != "specification"}}
    try:
        result = validate_reana_spec(spec)
    except REANAValidationError as error:
        raise SpecificationError(error.message) from error
    lines = []
    for warning in result or []:
        unexpected = warning.get("additional_properties") or []
        if unexpected:
            names = [
                f"'{item['property']}'" + (f" (at {item['path']})" if item.get("path") else "")
                for item in unexpected
            ]
            lines.append(
                f"Unexpected properties found in REANA specification file: {', '.join(names)}."
            )
    return lines


def parameter_warnings(spec: dict) -> dict[str, list[str]]:
    """reana-commons' parameter warnings in REANA's three printed groups."""
    from reana_commons.parameters import validate_parameters

    groups: dict[str, list[str]] = {"reana_params": [], "workflow_params": [], "operations": []}
    for warning in validate_parameters(spec):
        if warning.startswith("Operation "):
            groups["operations"].append(warning)
        elif " parameter " in warning and "found on step" in warning:
            groups["workflow_params"].append(warning)
        else:
            groups["reana_params"].append(warning)
    return groups


def operational_options(workflow_type: str, options) -> dict:
    """Checked ``-o``/``inputs.options`` (commons), or :class:`SpecificationError`."""
    from reana_commons.errors import REANAValidationError
    from reana_commons.validation.operational_options import validate_operational_options

    try:
        return validate_operational_options(workflow_type, options)
    except REANAValidationError as error:
        raise SpecificationError(f"==> ERROR: {error.message}") from error
