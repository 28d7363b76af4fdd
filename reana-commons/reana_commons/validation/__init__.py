"""Validation of reana.yaml: JSON schema and operational options.

Parameter checks live in :mod:`reana_commons.parameters`.
"""

from reana_commons.validation.operational_options import (
    OPERATIONAL_OPTIONS,
    validate_operational_options,
)


def __getattr__(name: str):
    # The schema half imports jsonschema (~5 MB): only for the processes that validate
    # reana.yaml, not for those that only check operational options (the controller's API).
    if name in ("load_schema", "validate_reana_spec"):
        from reana_commons.validation import schema

        return getattr(schema, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "OPERATIONAL_OPTIONS",
    "load_schema",
    "validate_operational_options",
    "validate_reana_spec",
]
