"""Loading and checking reana.yaml on the client (REANA's ``load_validate_reana_spec``).

Schema validation and parameter checks come from reana-commons
(``reana_commons.specification`` / ``reana_commons.parameters``) when installed;
this module adds the client-only parts: finding the file, the server
capabilities check and image checks, and the messages ``validate`` prints.
"""

from __future__ import annotations

import os
import sys

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


def load(path: str) -> dict:
    """Read reana.yaml (unexpanded, as sent to the server)."""
    try:
        from reana_commons.specification import load_reana_spec
    except ImportError:
        load_reana_spec = None
    if load_reana_spec is not None:
        try:
            return load_reana_spec(path)
        except TypeError:
            pass
    import yaml

    with open(path, encoding="utf-8") as handle:
        spec = yaml.safe_load(handle)
    if not isinstance(spec, dict):
        raise SpecificationError("the file does not contain a mapping")
    workflow = spec.get("workflow") or {}
    base = os.path.dirname(os.path.abspath(path))
    if (
        workflow.get("type") == "serial"
        and workflow.get("file")
        and not workflow.get("specification")
    ):
        with open(os.path.join(base, workflow["file"]), encoding="utf-8") as handle:
            workflow["specification"] = yaml.safe_load(handle)
    elif workflow.get("type") == "yadage":
        workflow["specification"] = None
    return spec


def schema_warnings(spec: dict) -> list[str]:
    """Validate against REANA's JSON schema; returns warnings, raises on errors."""
    try:
        from reana_commons.specification import validate_reana_spec
    except ImportError:
        return []
    from reana_commons.errors import REANAValidationError

    try:
        result = validate_reana_spec(spec)
    except REANAValidationError as error:
        raise SpecificationError(error.message) from error
    return _as_messages(result)


def _as_messages(result) -> list[str]:
    if not result:
        return []
    if isinstance(result, dict):
        out = []
        for key, items in result.items():
            for item in items if isinstance(items, list) else [items]:
                if isinstance(item, dict) and "property" in item:
                    out.append(
                        'Unexpected property "{}" found in "{}".'.format(
                            item["property"], item.get("path", "")
                        )
                    )
                else:
                    out.append(f"{key}: {item}")
        return out
    return [str(item) for item in result]
