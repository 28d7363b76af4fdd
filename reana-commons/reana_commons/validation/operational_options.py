"""Operational options (``-o key=value``) each workflow engine accepts.

The options of each type live in :mod:`reana_commons.workflow_types`; this module
checks a run's options against them with REANA's messages.
"""

from __future__ import annotations

from reana_commons.errors import REANAValidationError
from reana_commons.workflow_types import WORKFLOW_TYPE_TABLE, UnknownWorkflowType, workflow_type


def _by_option() -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = {}
    for type_ in WORKFLOW_TYPE_TABLE:
        for name, engine_name in type_.operational_options.items():
            table.setdefault(name, {})[type_.name] = engine_name
    return table


OPERATIONAL_OPTIONS: dict[str, dict[str, str]] = _by_option()
"""Option name → {workflow type: the name the engine receives} (derived from the table)."""


def validate_operational_options(workflow_type_name: str, options) -> dict:
    """Options translated for the engine of ``workflow_type_name`` (cwl ``TARGET`` → ``--target``).

    Raises :class:`REANAValidationError` with REANA's messages for unknown options
    and options of another engine.
    """
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise REANAValidationError("Operational options must be a dictionary.")
    try:
        accepted = workflow_type(workflow_type_name).operational_options
    except UnknownWorkflowType:
        accepted = {}
    translated = {}
    for name, value in options.items():
        if name not in OPERATIONAL_OPTIONS:
            raise REANAValidationError(f'Operational option "{name}" not supported.')
        if name not in accepted:
            raise REANAValidationError(
                f'Operational option "{name}" not supported for {workflow_type_name} workflows.'
            )
        translated[accepted[name]] = value
    return translated
