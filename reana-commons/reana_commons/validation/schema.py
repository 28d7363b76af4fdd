"""reana.yaml against its JSON schema: unknown properties warn, anything else is an error."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

# jsonschema imports its optional IRI format checker (``rfc3987_syntax``) when installed:
# bravado-core's ``jsonschema[format-nongpl]`` brings it along, and it compiles lark grammars
# at import (~16 MB of memory in every service process, seconds of CPU on a busy machine).
# The reana.yaml schema uses no IRI format and no format checker is enabled here, so
# jsonschema goes without it (its own ImportError fallback).
if "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)

from jsonschema import Draft7Validator  # noqa: E402
from jsonschema.exceptions import ValidationError, best_match  # noqa: E402

from reana_commons.errors import REANAValidationError  # noqa: E402

SCHEMA_FILE = "reana_analysis_schema.json"


@lru_cache(maxsize=1)
def load_schema() -> dict:
    """The reana.yaml JSON schema shipped with this package."""
    text = resources.files("reana_commons.schemas").joinpath(SCHEMA_FILE).read_text("utf-8")
    return json.loads(text)


@lru_cache(maxsize=1)
def _validator() -> Draft7Validator:
    return Draft7Validator(load_schema())


def format_path(path: Iterable) -> str:
    """``workflow.specification.steps[0]`` from a JSON-schema error path."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _unexpected(error: ValidationError) -> list[str]:
    declared = set(error.schema.get("properties", {}))
    instance = error.instance if isinstance(error.instance, dict) else {}
    return sorted(str(key) for key in instance if key not in declared)


def _message(error: ValidationError) -> str:
    if error.validator == "anyOf" and error.context:
        if all(sub.validator == "required" for sub in error.context):
            missing = sorted({sub.message.split("'")[1] for sub in error.context})
            missing_text = " or ".join(f"'{name}'" for name in missing)
            text = f"one of {missing_text} is required"
        else:
            return _message(best_match(error.context))
    elif error.validator == "minItems":
        text = f"{error.instance!r} is too short"  # REANA's wording (older jsonschema)
    else:
        text = error.message
    where = format_path(error.absolute_path)
    return f"{where}: {text}" if where else text


def validate_reana_spec(spec) -> list[dict]:
    """Validate a loaded reana.yaml; returns warnings, raises on the first real error.

    Warnings are REANA's ``{"additional_properties": [{"property", "path"}]}``
    (empty list when there is nothing to say). Any other violation raises
    :class:`REANAValidationError` with one message naming where it is, e.g.
    ``workflow.specification.steps[0]: 'environment' is a required property``.
    """
    unexpected, errors = [], []
    for error in _validator().iter_errors(spec):
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            where = format_path(error.absolute_path)
            unexpected.extend({"property": name, "path": where} for name in _unexpected(error))
        else:
            errors.append(error)
    if errors:
        raise REANAValidationError(_message(best_match(errors)))
    return [{"additional_properties": unexpected}] if unexpected else []
