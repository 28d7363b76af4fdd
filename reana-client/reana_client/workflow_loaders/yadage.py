"""Checking a yadage workflow file before ``create``, without yadage.

reana-client 0.9.6 loads a ``type: yadage`` workflow with yadage (which
resolves every ``$ref`` and validates the result) and then sends
``specification: null``: the engine reloads the file from the workspace.
Only the check matters on the client, so that a missing or broken workflow
file is refused at ``create``/``validate`` rather than when the run starts.
This checks what can be checked without yadage's schemas: the file and every
file it references exist and are YAML, and the document has ``stages``.
"""

from __future__ import annotations

from pathlib import Path

from reana_commons.errors import REANAValidationError
from reana_commons.specification import load_yaml_file


def check(workflow_file: Path) -> None:
    """Raise :class:`REANAValidationError` when the yadage workflow cannot be loaded."""
    document = _load(workflow_file)
    if not isinstance(document, dict) or not isinstance(document.get("stages"), list):
        raise REANAValidationError(
            f"Yadage workflow file {workflow_file.name} has no list of stages."
        )
    _check_references(document, workflow_file.parent, {workflow_file.resolve()})


def _load(path: Path):
    if not path.is_file():
        raise REANAValidationError(f"Yadage workflow file {path.name} not found.")
    return load_yaml_file(path, f"Yadage workflow file {path.name}")


def _check_references(node, base: Path, seen: set[Path]) -> None:
    """Every ``{"$ref": "file.yml#/pointer"}`` names a readable YAML file (each read once)."""
    if isinstance(node, dict):
        reference = node.get("$ref")
        if isinstance(reference, str) and not reference.startswith("#"):
            target = (base / reference.split("#", 1)[0]).resolve()
            if target not in seen:
                seen.add(target)
                _check_references(_load(target), target.parent, seen)
        for value in node.values():
            _check_references(value, base, seen)
    elif isinstance(node, list):
        for item in node:
            _check_references(item, base, seen)
