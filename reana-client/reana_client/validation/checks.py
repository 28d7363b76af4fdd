"""The client's validation of reana.yaml, printed step by step as reana-client 0.9.6 does."""

from __future__ import annotations

import os
import sys

from reana_client.output import message


def _group(info: str, success: str, warnings: list[str]) -> None:
    message(info, "info")
    for warning in warnings:
        message(warning, "warning", indented=True)
    if not warnings:
        message(success, "success", indented=True)


def validate_spec(
    spec: dict,
    path: str,
    access_token=None,
    server_capabilities=False,
    environments=False,
    pull=False,
    skip_validation=False,
) -> None:
    """Validate a loaded reana.yaml, printing REANA's messages; exit 1 on an error."""
    from reana_client.specification import (
        SpecificationError,
        operational_options,
        parameter_warnings,
        schema_warnings,
    )

    inputs = spec.get("inputs") or {}
    if "options" in inputs:
        try:
            inputs["options"] = operational_options(
                (spec.get("workflow") or {}).get("type"), inputs["options"]
            )
        except SpecificationError as error:
            message(str(error), "error")
            sys.exit(1)
    if not skip_validation:
        message(f"Verifying REANA specification file... {path}", "info")
        warnings = schema_warnings(spec)
        if warnings:
            message(
                "The REANA specification appears valid, but some warnings were found.",
                "warning",
                indented=True,
            )
            for warning in warnings:
                message(warning, "warning", indented=True)
            message(
                "Please make sure that the REANA specification file is correct.",
                "warning",
                indented=True,
            )
        else:
            message("Valid REANA specification file.", "success", indented=True)
        params = parameter_warnings(spec)
        _group(
            "Verifying REANA specification parameters... ",
            "REANA specification parameters appear valid.",
            params["reana_params"],
        )
        _group(
            "Verifying workflow parameters and commands... ",
            "Workflow parameters and commands appear valid.",
            params["workflow_params"],
        )
        _group(
            "Verifying dangerous workflow operations... ",
            "Workflow operations appear valid.",
            params["operations"],
        )
        if server_capabilities:
            validate_server_capabilities(spec, access_token)
    if environments:
        from reana_client.validation.environments import validate_environments

        message("Verifying environments in REANA specification file...", "info")
        validate_environments(spec, pull=pull)


def validate_server_capabilities(spec: dict, access_token: str) -> None:
    """Compute backends and workspace root against ``GET /api/info``."""
    from reana_client.cli.common import api

    info = api().call("info", access_token=access_token)
    message("Verifying compute backends in REANA specification file...", "info")
    supported = (info.get("compute_backends") or {}).get("value") or []
    workflow = spec.get("workflow") or {}
    if workflow.get("type") == "serial":
        for step in (workflow.get("specification") or {}).get("steps") or []:
            backend = step.get("compute_backend")
            if backend and backend not in supported:
                message(
                    f'Compute backend "{backend}" found in step "{step.get("name")}" is not '
                    f'supported. List of supported compute backends: "{", ".join(supported)}"',
                    "error",
                    indented=True,
                )
                sys.exit(1)
    message("Workflow compute backends appear to be valid.", "success", indented=True)
    root_path = (spec.get("workspace") or {}).get("root_path")
    if root_path:
        available = (info.get("workspaces_available") or {}).get("value") or []
        message("Verifying workspace in REANA specification file...", "info")
        inside = any(
            os.path.join(os.path.abspath(root_path), "").startswith(
                os.path.join(os.path.abspath(path), "")
            )
            for path in available
        )
        if not inside:
            message(
                f'Desired workspace "{root_path}" is not valid.\n'
                f"Available workspace prefix values are: {', '.join(available)}",
                "error",
            )
            sys.exit(1)
        message("Workflow workspace appears valid.", "success", indented=True)
