"""Validation of reana.yaml: JSON schema and operational options.

Parameter checks live in :mod:`reana_commons.parameters`.
"""

from reana_commons.validation.operational_options import (
    OPERATIONAL_OPTIONS,
    validate_operational_options,
)
from reana_commons.validation.schema import load_schema, validate_reana_spec

__all__ = [
    "OPERATIONAL_OPTIONS",
    "load_schema",
    "validate_operational_options",
    "validate_reana_spec",
]
