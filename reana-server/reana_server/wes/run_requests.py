"""A WES RunRequest made a REANA run: workflow types, the specification, parameters, options.

Three workflow types (matched case-insensitively, answered upper-case):

- ``CWL`` (v1.0, v1.1, v1.2): ``workflow_url`` names the CWL document among the
  attachments, packed with what it references (:mod:`.cwl_documents`);
  ``workflow_params`` is the CWL input object, its Files resolved against the
  attachments. The specification is what ``reana-client`` sends for a
  ``type: cwl`` reana.yaml.
- ``SMK``: ``workflow_url`` names the Snakefile; ``workflow_params`` is
  Snakemake's config (an ``input`` key names a config file attachment).
- ``REANA`` (0.9.0): ``workflow_url`` names a reana.yaml attachment; its
  ``workflow.file`` is loaded from the attachments as ``reana-client`` loads it;
  ``workflow_params`` override its ``inputs.parameters``.

``workflow_engine_parameters`` are the run's operational options; ``tags`` are
kept with the request (``workflow_name`` names the run).
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from reana_server.errors import BadRequest
from reana_server.wes import cwl_documents
from reana_server.wes.attachments import Attachments
from reana_server.wes.engine_versions import engine_versions

SPEC_VERSION = "0.9.0"


@dataclass(frozen=True)
class WesType:
    """A workflow type WES offers and the REANA engine running it."""

    name: str
    versions: tuple[str, ...]
    engine: str


WES_TYPES = {
    "CWL": WesType("CWL", ("v1.0", "v1.1", "v1.2"), "cwl"),
    "SMK": WesType("SMK", ("1.0",), "snakemake"),
    "REANA": WesType("REANA", (SPEC_VERSION,), ""),
}
"""``REANA``'s engine is the one its reana.yaml names (``serial``, ``cwl``, ...)."""


@dataclass
class WesRunRequest:
    """A RunRequest as decoded from the form (JSON fields decoded, types checked)."""

    workflow_type: str
    workflow_type_version: str
    workflow_url: str
    workflow_params: dict = field(default_factory=dict)
    tags: dict = field(default_factory=dict)
    workflow_engine_parameters: dict = field(default_factory=dict)
    workflow_engine: str | None = None
    workflow_engine_version: str | None = None

    def stored(self) -> dict:
        """The request as WES echoes it back (RunLog ``request``)."""
        body = {
            "workflow_params": self.workflow_params,
            "workflow_type": self.workflow_type,
            "workflow_type_version": self.workflow_type_version,
            "tags": self.tags,
            "workflow_engine_parameters": self.workflow_engine_parameters,
            "workflow_url": self.workflow_url,
        }
        if self.workflow_engine:
            body["workflow_engine"] = self.workflow_engine
        if self.workflow_engine_version:
            body["workflow_engine_version"] = self.workflow_engine_version
        return body


@dataclass
class ReanaRun:
    """What REANA needs to create and start the run."""

    name: str
    specification: dict
    input_parameters: dict
    operational_options: dict


def json_object(name: str, value: str | None, values_are_strings: bool = False) -> dict:
    """A JSON-encoded object field of the form (absent or empty: ``{}``), or 400."""
    if value is None or not value.strip():
        return {}
    try:
        decoded = json.loads(value)
    except ValueError:
        raise BadRequest(f"{name} must be a JSON-encoded object.") from None
    if not isinstance(decoded, dict):
        raise BadRequest(f"{name} must be a JSON-encoded object.")
    if values_are_strings and not all(isinstance(v, str) for v in decoded.values()):
        raise BadRequest(f"{name} must map strings to strings.")
    return decoded


def wes_type(request: WesRunRequest) -> WesType:
    """The offered type and version the request asks for, or 400."""
    found = WES_TYPES.get(request.workflow_type.strip().upper())
    if found is None:
        raise BadRequest(f"workflow_type {request.workflow_type} is not supported "
                         f"(supported: {', '.join(WES_TYPES)}).")
    if request.workflow_type_version.strip() not in found.versions:
        raise BadRequest(f"workflow_type_version {request.workflow_type_version} of "
                         f"{found.name} is not supported (supported: {', '.join(found.versions)}).")
    return found


def run_name(request: WesRunRequest) -> str:
    """The run's name: the ``workflow_name`` tag, else the workflow file's stem."""
    if request.tags.get("workflow_name"):
        return request.tags["workflow_name"]
    stem = posixpath.basename(request.workflow_url.split("#", 1)[0]).split(".", 1)[0]
    return re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-") or "workflow"


def reana_run(request: WesRunRequest, attachments: Attachments) -> ReanaRun:
    """The REANA run a WES request asks for (its specification not yet validated)."""
    type_ = wes_type(request)
    options = dict(request.workflow_engine_parameters)
    if type_.name == "REANA":
        spec, parameters = _reana_yaml(request, attachments), dict(request.workflow_params)
    elif type_.name == "CWL":
        params = attachments.resolve_locations(request.workflow_params)
        spec = {"version": SPEC_VERSION, "inputs": {"parameters": params},
                "workflow": {"type": "cwl", "file": _file_name(request, attachments),
                             "specification": cwl_documents.packed_workflow(
                                 attachments, request.workflow_url)}}
        parameters = {}
    else:
        spec = {"version": SPEC_VERSION, "inputs": {"parameters": dict(request.workflow_params)},
                "workflow": {"type": "snakemake", "file": _file_name(request, attachments)}}
        parameters = {}
    _check_engine(request, type_, spec)
    return ReanaRun(run_name(request), spec, parameters, options)


def _file_name(request: WesRunRequest, attachments: Attachments) -> str:
    return attachments.resolve(request.workflow_url, what="workflow_url")


def _reana_yaml(request: WesRunRequest, attachments: Attachments) -> dict:
    name = _file_name(request, attachments)
    try:
        spec = yaml.safe_load(attachments.get(name).text())
    except yaml.YAMLError as error:
        raise BadRequest(f"The reana.yaml {name} is not valid YAML: {error}") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("workflow"), dict):
        raise BadRequest(f"The reana.yaml {name} has no workflow section.")
    workflow = dict(spec["workflow"])
    file = workflow.get("file")
    if workflow.get("specification") is None and isinstance(file, str) and file:
        workflow["specification"] = _workflow_file(workflow.get("type"), file, attachments)
    return dict(spec, workflow=workflow)


def _workflow_file(type_, file: str, attachments: Attachments) -> Any:
    """What ``reana-client`` puts in ``workflow.specification`` for ``workflow.file``."""
    if type_ == "cwl":
        return cwl_documents.packed_workflow(attachments, file)
    if type_ == "serial":
        name = attachments.resolve(file, what="workflow.file")
        try:
            return yaml.safe_load(attachments.get(name).text())
        except yaml.YAMLError as error:
            raise BadRequest(f"The workflow file {name} is not valid YAML: {error}") from None
    return None  # snakemake and yadage load their file in the engine


def _check_engine(request: WesRunRequest, type_: WesType, spec: dict) -> None:
    engine = type_.engine or str(spec["workflow"].get("type"))
    if request.workflow_engine and request.workflow_engine != engine:
        raise BadRequest(f"workflow_engine {request.workflow_engine} cannot run this "
                         f"workflow (its engine: {engine}).")
    if request.workflow_engine_version:
        if not request.workflow_engine:
            raise BadRequest("workflow_engine_version needs a workflow_engine.")
        offered = engine_versions().get(engine, [])
        if request.workflow_engine_version not in offered:
            raise BadRequest(f"workflow_engine_version {request.workflow_engine_version} of "
                             f"{engine} is not offered (offered: {', '.join(offered)}).")
