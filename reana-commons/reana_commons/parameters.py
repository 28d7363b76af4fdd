"""Workflow parameters: serial ``$name`` / ``${name}`` expansion and reana.yaml checks.

Expansion follows Python's :class:`string.Template` (what REANA's serial engine
uses): ``$name`` and ``${name}`` are replaced by ``str(value)``, ``$$`` is a
literal ``$``. Effective parameters are ``inputs.parameters`` updated with the
start request's overrides; the stored specification stays unexpanded.
"""

from __future__ import annotations

import string

from reana_commons.errors import REANAValidationError

DANGEROUS_OPERATIONS = ("sudo ", "cd /")


def _placeholders(command: str):
    """``(kind, name)`` for each placeholder: kind is ``named``, ``braced`` or ``invalid``."""
    for match in string.Template.pattern.finditer(command):
        if match.group("escaped") is not None:
            continue
        for kind in ("named", "braced", "invalid"):
            if match.group(kind) is not None:
                yield kind, match.group(kind) if kind != "invalid" else match.start("invalid")
                break


def find_parameters(command: str, braced_only: bool = False) -> set[str]:
    """Names of the parameters ``command`` refers to (``${x}`` only if ``braced_only``)."""
    kinds = ("braced",) if braced_only else ("named", "braced")
    return {name for kind, name in _placeholders(command) if kind in kinds}


def expand_parameters(command: str, params: dict) -> str:
    """``command`` with its parameters substituted; raises on unknown names.

    A missing parameter raises :class:`REANAValidationError` with REANA's text,
    ``Workflow parameter(s) could not be expanded. Please take a look to 'x'``.
    """
    values = {str(key): str(value) for key, value in (params or {}).items()}
    missing = []
    for kind, name in _placeholders(command):
        if kind == "invalid":
            raise REANAValidationError(
                f"Workflow parameter(s) could not be expanded. Invalid '$' at position {name}"
                f" of command: {command} (write '$$' for a literal '$')"
            )
        if name not in values and name not in missing:
            missing.append(name)
    if missing:
        names = ", ".join(f"'{name}'" for name in missing)
        raise REANAValidationError(
            f"Workflow parameter(s) could not be expanded. Please take a look to {names}"
        )
    return string.Template(command).substitute(values)


def merge_parameters(spec_parameters: dict | None, overrides: dict | None) -> dict:
    """Effective parameters: reana.yaml ``inputs.parameters`` updated with start overrides."""
    merged = dict(spec_parameters or {})
    merged.update(overrides or {})
    return merged


def _serial_steps(spec: dict) -> list[dict]:
    workflow_spec = (spec.get("workflow") or {}).get("specification") or {}
    steps = workflow_spec.get("steps") or []
    return [step for step in steps if isinstance(step, dict)]


def validate_parameters(spec: dict) -> list[str]:
    """Warnings about parameters of a serial reana.yaml (``reana-client validate``).

    Unused ``inputs.parameters``, parameters used in commands but not defined,
    and dangerous operations (``sudo``, ``cd /``). Like REANA, only ``${x}`` is
    looked for; other engines get only the missing-inputs warning.
    """
    warnings = []
    inputs = spec.get("inputs")
    if inputs is None:
        warnings.append('Workflow "inputs" are missing in the REANA specification.')
    if (spec.get("workflow") or {}).get("type") != "serial":
        return warnings
    defined = set(((inputs or {}).get("parameters") or {}).keys())
    used: set[str] = set()
    for index, step in enumerate(_serial_steps(spec)):
        step_name = step.get("name") or str(index)
        for command in step.get("commands") or []:
            if not isinstance(command, str):
                continue
            names = find_parameters(command, braced_only=True)
            used |= names
            for name in sorted(names - defined):
                warnings.append(
                    f'Serial parameter "{name}" found on step "{step_name}" is not defined '
                    "in input parameters."
                )
            for operation in DANGEROUS_OPERATIONS:
                if operation in command:
                    warnings.append(
                        f'Operation "{operation.strip()}" found in step "{step_name}" '
                        "might be dangerous."
                    )
    for name in sorted(defined - used):
        warnings.append(f'REANA input parameter "{name}" does not seem to be used.')
    return warnings
