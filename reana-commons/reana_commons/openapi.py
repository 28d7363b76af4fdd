"""The committed OpenAPI specifications of the platform's REST services (package data)."""

from __future__ import annotations

from pathlib import Path

SPECIFICATIONS_DIR = Path(__file__).resolve().parent / "openapi_specifications"


def specification_path(service: str) -> Path:
    """The committed specification of ``service`` (e.g. ``reana_server``)."""
    return SPECIFICATIONS_DIR / f"{service}.json"
