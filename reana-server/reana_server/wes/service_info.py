"""The WES service-info document: the platform, its workflow types and engines."""

from __future__ import annotations

from reana_commons.config import REANA_VERSION

from reana_server.wes.engine_versions import engine_versions
from reana_server.wes.run_requests import WES_TYPES
from reana_server.wes.states import STATES

WES_VERSION = "1.1.0"
def service_info(base_url: str, state_counts: dict[str, int]) -> dict:
    """The ``ServiceInfo`` of this platform; ``base_url`` is the public API's root."""
    return {
        "id": "io.reana.wes",
        "name": "REANA workflow execution service",
        "type": {"group": "org.ga4gh", "artifact": "wes", "version": WES_VERSION},
        "description": "GA4GH WES 1.1 over a REANA 0.9-compatible platform: a run submitted "
                       "here is an ordinary REANA run of its user.",
        "organization": {"name": "REANA-compatible platform", "url": "https://reanahub.io"},
        "documentationUrl": "https://docs.reana.io",
        "version": REANA_VERSION,
        "environment": "production",
        "workflow_type_versions": {
            name: {"workflow_type_version": list(type_.versions)}
            for name, type_ in WES_TYPES.items()
        },
        "supported_wes_versions": [WES_VERSION],
        "supported_filesystem_protocols": ["file"],
        "workflow_engine_versions": {
            engine: {"workflow_engine_version": versions}
            for engine, versions in engine_versions().items()
        },
        "default_workflow_engine_parameters": [],
        "system_state_counts": {state: state_counts.get(state, 0) for state in STATES},
        "auth_instructions_url": f"{base_url}/api/you",
        "tags": {"reana_api": f"{base_url}/api", "workflow_name_tag": "workflow_name"},
    }
