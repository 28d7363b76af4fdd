"""A run as an RO-Crate (Workflow Run Crate / Provenance Run Crate 0.5, issue 19).

The zip holds ``reana.yaml`` (the run's specification, the crate's main entity), the declared
inputs and outputs of ``reana.yaml`` that exist in the workspace, and
``ro-crate-metadata.json``. The metadata describes:

* the workflow (``reana.yaml``: File, SoftwareSourceCode, ComputationalWorkflow, HowTo) with
  one HowToStep and one tool (SoftwareApplication) per step name, and FormalParameters for the
  input parameters, input files and output files;
* one CreateAction for the run (instrument: the workflow; object: inputs and parameters;
  result: outputs) and one per job (instrument: its step's tool; object: the files it read;
  result: the files it wrote; its image as a ContainerImage with its digest; where it ran);
* one ControlAction per job and one OrganizeAction for the workflow engine.

Files that only jobs exchanged (not declared in ``reana.yaml``) are described by path, size and
SHA-256 under ``#workspace/<path>`` identifiers, without their content.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import yaml
from reana_commons.workspace import fingerprints
from reana_commons.workspace.paths import open_file

RO_CRATE = "https://w3id.org/ro/crate/1.1"
PROFILES = {
    "https://w3id.org/ro/wfrun/process/0.5": "Process Run Crate",
    "https://w3id.org/ro/wfrun/workflow/0.5": "Workflow Run Crate",
    "https://w3id.org/ro/wfrun/provenance/0.5": "Provenance Run Crate",
    "https://w3id.org/workflowhub/workflow-ro-crate/1.0": "Workflow RO-Crate",
}
CONTEXT = [
    f"{RO_CRATE}/context",
    {
        # RO-Crate 1.1's own mappings of the Bioschemas terms (the same under the 1.1 context;
        # written out so the crate means the same under a later context, e.g. 1.3's).
        "ComputationalWorkflow": "https://bioschemas.org/ComputationalWorkflow",
        "FormalParameter": "https://bioschemas.org/FormalParameter",
        "input": "https://bioschemas.org/ComputationalWorkflow#input",
        "output": "https://bioschemas.org/ComputationalWorkflow#output",
        "wfrun": "https://w3id.org/ro/terms/workflow-run#",
        "ContainerImage": "wfrun:ContainerImage",
        "containerImage": "wfrun:containerImage",
        "DockerImage": "wfrun:DockerImage",
        "registry": "wfrun:registry",
        "tag": "wfrun:tag",
        "environment": "wfrun:environment",
        "exitCode": "https://w3id.org/ro/terms/reana#exitCode",
        "computeBackend": "https://w3id.org/ro/terms/reana#computeBackend",
        "runtime": "https://w3id.org/ro/terms/reana#runtime",
        "node": "https://w3id.org/ro/terms/reana#node",
        "cachedFrom": "https://w3id.org/ro/terms/reana#cachedFrom",
    },
]
SPEC_NAME = "reana.yaml"
STATUS = {"finished": "CompletedActionStatus", "failed": "FailedActionStatus",
          "stopped": "FailedActionStatus"}


def _declared(specification: dict, section: str) -> tuple[list[str], list[str]]:
    part = (specification or {}).get(section) or {}
    return list(part.get("files") or []), list(part.get("directories") or [])


def _existing(workspace: Path, files: list[str], directories: list[str],
              state: dict) -> list[str]:
    found = {os.path.normpath(f) for f in files if os.path.normpath(f) in state}
    for directory in directories:
        prefix = os.path.normpath(directory).rstrip("/") + "/"
        found.update(path for path in state if path.startswith(prefix))
    return sorted(found)


def _servable(workspace: Path, path: str) -> bool:
    """Only files the workspace API would serve go into the zip (one link: not a job's
    hard link to a file elsewhere; see reana_commons.workspace.paths.served_file_refusal)."""
    try:
        return os.lstat(workspace / path).st_nlink == 1
    except OSError:
        return False


class CrateBuilder:
    """Builds the metadata of one run from its provenance document and workspace."""

    def __init__(self, provenance: dict, workspace: Path):
        self.run = provenance
        self.workspace = Path(workspace)
        self.state = fingerprints.scan(self.workspace)
        spec = self.run["specification"]
        self.inputs = _existing(self.workspace, *_declared(spec, "inputs"), self.state)
        self.outputs = _existing(self.workspace, *_declared(spec, "outputs"), self.state)
        self.payload = [path for path in sorted(set(self.inputs) | set(self.outputs))
                        if path not in (SPEC_NAME, "ro-crate-metadata.json")
                        and _servable(self.workspace, path)]
        self.entities: dict[str, dict] = {}

    def add(self, entity: dict) -> dict:
        self.entities.setdefault(entity["@id"], {}).update(entity)
        return {"@id": entity["@id"]}

    def file_ref(self, item: dict) -> dict:
        """A File entity for a recorded ``{path, sha256, size}`` (payload or workspace-only)."""
        path = item["path"]
        identifier = path if path in self.payload else f"#workspace/{path}"
        return self.add({"@id": identifier, "@type": "File", "name": path,
                         "sha256": item.get("sha256"), "contentSize": str(item.get("size", ""))})

    def metadata(self) -> dict:
        run = self.run
        name = run["workflow_name"]
        workflow = {"@id": SPEC_NAME}
        engine = self.add({"@id": "#engine", "@type": "SoftwareApplication",
                           "name": f"REANA-compatible {run['type']} workflow engine"})
        language = self.add({"@id": "#reana-language", "@type": "ComputerLanguage",
                             "name": f"REANA {run['type']} workflow",
                             "url": {"@id": "https://docs.reana.io/"}})
        parameters_in, parameters_out, run_objects, run_results = [], [], [], []
        for key, value in sorted((run["input_parameters"] or {}).items()):
            parameters_in.append(self._formal(f"#param-{key}", key, "Text",
                                              self.add({"@id": f"#pv-{key}",
                                                        "@type": "PropertyValue",
                                                        "name": key, "value": str(value)})))
            run_objects.append({"@id": f"#pv-{key}"})
        for path in self.inputs:
            ref = self._payload_file(path)
            parameters_in.append(self._formal(f"#input-{path}", path, "File", ref))
            run_objects.append(ref)
        for path in self.outputs:
            ref = self._payload_file(path)
            parameters_out.append(self._formal(f"#output-{path}", path, "File", ref))
            run_results.append(ref)
        steps, tools, job_actions, controls = self._jobs()
        self.add({
            "@id": SPEC_NAME,
            "@type": ["File", "SoftwareSourceCode", "ComputationalWorkflow", "HowTo"],
            "name": f"{name} workflow specification", "programmingLanguage": language,
            "input": parameters_in, "output": parameters_out, "hasPart": tools or [engine],
            "step": steps,
        })
        run_action = self.add({
            "@id": f"#run-{run['workflow_id']}", "@type": "CreateAction",
            "name": f"Run of {name}", "instrument": workflow, "object": run_objects,
            "result": run_results, "startTime": run["started_at"] or run["created"],
            "endTime": run["finished_at"],
            "actionStatus": STATUS.get(run["status"], "ActiveActionStatus"),
        })
        organize = self.add({"@id": f"#organize-{run['workflow_id']}", "@type": "OrganizeAction",
                             "name": f"Orchestration of {name}", "instrument": engine,
                             "object": controls, "result": run_action,
                             "startTime": run["started_at"] or run["created"],
                             "endTime": run["finished_at"]})
        root = {
            "@id": "./", "@type": "Dataset", "name": f"Run {name}",
            "description": f"Run {name} of a REANA {run['type']} workflow, its inputs, "
                           "outputs and the provenance of every job.",
            "datePublished": run["finished_at"] or run["created"],
            "license": {"@id": "https://spdx.org/licenses/CC-BY-4.0"},
            "conformsTo": [self.add({"@id": uri, "@type": "CreativeWork", "name": title,
                                     "version": uri.rsplit("/", 1)[1]})
                           for uri, title in PROFILES.items()],
            "mainEntity": workflow,
            "hasPart": [workflow, *[{"@id": p} for p in self.payload]],
            "mentions": [run_action, organize, *job_actions],
        }
        descriptor = {"@id": "ro-crate-metadata.json", "@type": "CreativeWork",
                      "conformsTo": {"@id": RO_CRATE}, "about": {"@id": "./"}}
        return {"@context": CONTEXT,
                "@graph": [descriptor, root, *self.entities.values()]}

    def _payload_file(self, path: str) -> dict:
        found = fingerprints.sha256_of(self.workspace, path)
        entity = {"@id": path, "@type": "File", "name": path}
        if found is not None:
            entity.update(sha256=found[0], contentSize=str(found[1]))
        return self.add(entity)

    def _formal(self, identifier: str, name: str, kind: str, example: dict) -> dict:
        return self.add({"@id": identifier, "@type": "FormalParameter", "name": name,
                         "additionalType": kind, "workExample": example,
                         "conformsTo": {"@id": "https://bioschemas.org/profiles/"
                                               "FormalParameter/1.0-RELEASE"}})

    def _jobs(self) -> tuple[list, list, list, list]:
        steps: dict[str, dict] = {}
        tools: dict[str, dict] = {}
        actions, controls = [], []
        for index, job in enumerate(self.run["jobs"]):
            step_name = job["job_name"] or f"job-{index + 1}"
            if step_name not in tools:
                tools[step_name] = self.add({"@id": f"#tool-{step_name}",
                                             "@type": "SoftwareApplication",
                                             "name": step_name})
                steps[step_name] = self.add({"@id": f"#step-{step_name}", "@type": "HowToStep",
                                             "name": step_name, "position": str(len(steps)),
                                             "workExample": tools[step_name]})
            action = {
                "@id": f"#job-{job['job_id']}", "@type": "CreateAction",
                "name": f"{step_name}: {job['command'] or ''}"[:500],
                "instrument": tools[step_name],
                "object": [self.file_ref(i) for i in job["inputs"] or []],
                "result": [self.file_ref(o) for o in job["outputs"] or []],
                "startTime": job["started_at"], "endTime": job["finished_at"],
                "actionStatus": STATUS.get(job["status"], "ActiveActionStatus"),
                "exitCode": job["exit_code"], "computeBackend": job["compute_backend"],
                "runtime": job["runtime"], "node": job["node"],
            }
            if job["image"]:
                action["containerImage"] = self._image(job)
            if job["cached_from"]:
                action["cachedFrom"] = {"@id": f"#job-{job['cached_from']}"}
            actions.append(self.add({k: v for k, v in action.items() if v is not None}))
            controls.append(self.add({"@id": f"#control-{job['job_id']}",
                                      "@type": "ControlAction", "name": f"Step {step_name}",
                                      "instrument": steps[step_name],
                                      "object": {"@id": action["@id"]}}))
        return list(steps.values()), list(tools.values()), actions, controls

    def _image(self, job: dict) -> dict:
        image = job["image"]
        name, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "",
                                                                                       "latest")
        registry, _, repository = name.partition("/") if "." in name.split("/")[0] else (
            "docker.io", "", name)
        digest = job["image_digest"] or ""
        entity = {"@id": f"#image-{image}{'@' + digest if digest else ''}",
                  "@type": "ContainerImage", "additionalType": {"@id": "wfrun:DockerImage"},
                  "name": repository, "registry": registry, "tag": tag}
        if digest.startswith("sha256:"):
            entity["sha256"] = digest.removeprefix("sha256:")
        return self.add(entity)


def write_crate(provenance: dict, workspace: Path, directory: str | None = None):
    """The run's crate as an open temporary zip file (deleted when closed)."""
    builder = CrateBuilder(provenance, workspace)
    metadata = builder.metadata()
    spec = yaml.safe_dump(provenance["specification"], sort_keys=False)
    handle = tempfile.TemporaryFile(dir=directory)
    with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ro-crate-metadata.json", json.dumps(metadata, indent=1))
        archive.writestr(SPEC_NAME, spec)
        for path in builder.payload:
            with open_file(workspace, path) as source, archive.open(path, "w") as target:
                while chunk := source.read(1 << 20):
                    target.write(chunk)
    handle.seek(0)
    return handle
