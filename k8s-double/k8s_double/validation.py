"""Schema validation with ``kubernetes-validate``'s OpenAPI schemas, validators cached.

``kubernetes_validate.validate`` re-reads the 1.2 MB definitions file on every
call (0.15 s); the double validates every request, so the validator of each
kind is built once from the same files and the same rules (strict schemas:
unknown fields are errors).
"""

from __future__ import annotations

import re
from functools import lru_cache


class SchemaError(ValueError):
    """An object the Kubernetes OpenAPI schema refuses."""


@lru_cache(maxsize=64)
def _validator(version: str, kind: str, api_version: str):
    import jsonschema
    from kubernetes_validate import utils
    from referencing import Registry, Resource

    known = [v for v in utils.all_versions() if utils.major_minor(v) <= version]
    if not known:
        raise SchemaError(f"kubernetes-validate has no schemas for Kubernetes {version}")
    folder = f"kubernetes-json-schema/v{known[-1]}-local-strict"
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema = utils.schema_contents(f"{folder}/{kind.lower()}-{group}.json", version)
    definitions = utils.schema_contents(f"{folder}/_definitions.json", version)
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def validate(obj: dict, version: str) -> None:
    """Raise :class:`SchemaError` (path: message) when ``obj`` breaks its schema."""
    validator = _validator(version, obj.get("kind", ""), obj.get("apiVersion", ""))
    error = next(iter(sorted(validator.iter_errors(obj), key=lambda e: list(e.path))), None)
    if error is not None:
        path = ".".join(str(p) for p in error.path)
        raise SchemaError(f"{path}: {error.message}")
