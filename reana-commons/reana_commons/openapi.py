"""The committed OpenAPI specifications of the platform's REST services (package data)."""

from __future__ import annotations

from pathlib import Path

SPECIFICATIONS_DIR = Path(__file__).resolve().parent / "openapi_specifications"


def specification_path(service: str) -> Path:
    """The committed specification of ``service`` (e.g. ``reana_server``)."""
    return SPECIFICATIONS_DIR / f"{service}.json"


def wes_specification_path() -> Path:
    """GA4GH WES 1.1.0's OpenAPI specification (Apache-2.0, see ``ga4gh/PROVENANCE.md``), its
    service-info ``$ref`` pointing at the committed copy beside it (works offline)."""
    return SPECIFICATIONS_DIR / "ga4gh" / "workflow_execution_service.openapi.yaml"
