"""Operational options (``-o key=value``) each workflow engine accepts."""

from __future__ import annotations

from reana_commons.errors import REANAValidationError

OPERATIONAL_OPTIONS: dict[str, dict[str, str]] = {
    "CACHE": {"serial": "CACHE"},
    "FROM": {"serial": "FROM"},
    "TARGET": {"serial": "TARGET", "cwl": "--target"},
    "toplevel": {"yadage": "toplevel"},
    "initdir": {"yadage": "initdir"},
    "initfiles": {"yadage": "initfiles"},
    "accept_metadir": {"yadage": "accept_metadir"},
    "report": {"snakemake": "report"},
}
"""Option name → {workflow type: the name the engine receives}."""


def validate_operational_options(workflow_type: str, options) -> dict:
    """Options translated for the engine of ``workflow_type`` (cwl ``TARGET`` → ``--target``).

    Raises :class:`REANAValidationError` with REANA's messages for unknown options
    and options of another engine.
    """
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise REANAValidationError("Operational options must be a dictionary.")
    translated = {}
    for name, value in options.items():
        engines = OPERATIONAL_OPTIONS.get(name)
        if engines is None:
            raise REANAValidationError(f'Operational option "{name}" not supported.')
        if workflow_type not in engines:
            raise REANAValidationError(
                f'Operational option "{name}" not supported for {workflow_type} workflows.'
            )
        translated[engines[workflow_type]] = value
    return translated
