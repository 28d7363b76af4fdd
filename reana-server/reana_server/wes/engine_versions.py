"""The engines' versions WES offers (service-info) and checks (RunWorkflow)."""

from __future__ import annotations

import functools
from importlib import metadata

from reana_commons.config import REANA_VERSION

ENGINE_PACKAGES = {
    "serial": "reana-workflow-engine-serial",
    "cwl": "cwltool",
    "snakemake": "snakemake",
    "yadage": "yadage",
}
"""The package whose version is an engine's version (serial: the platform's engine)."""


@functools.cache
def engine_versions() -> dict[str, list[str]]:
    """Each engine's version, as far as this installation knows it (empty: not here)."""
    versions = {}
    for engine, package in ENGINE_PACKAGES.items():
        try:
            versions[engine] = [metadata.version(package)]
        except metadata.PackageNotFoundError:
            versions[engine] = [REANA_VERSION] if engine == "serial" else []
    return versions
