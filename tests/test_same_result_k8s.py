"""The example analysis on Kubernetes (the double): the same outputs as everywhere (issue 19).

examples/resonance-fit runs through the kubernetes run manager and backend against the
Kubernetes double (every step a pod, run as local processes; see tests/test_k8s_e2e.py); its
outputs have the reference digests (tests/same_result.py) and its provenance, as the public
API serves it (:func:`reana_db.provenance.run_provenance`), records the pods' node.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from reana_db.enums import RunStatus
from reana_db.provenance import run_provenance
from reana_workflow_controller import runs

from tests.conftest import wait_run_status
from tests.same_result import EXAMPLE, check_outputs, check_provenance_outputs
from tests.test_k8s_e2e import make_run

pytestmark = [pytest.mark.slow,
              pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)]


def test_example_on_kubernetes_gives_the_reference_outputs(db, user, k8s_platform):
    spec = yaml.safe_load((EXAMPLE / "reana.yaml").read_text())
    workflow = make_run(db, user, spec["workflow"]["specification"]["steps"], name="fitk8s")
    workflow.reana_specification = spec
    db.commit()
    workspace = Path(workflow.workspace_path)
    for path in spec["inputs"]["files"]:
        (workspace / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(EXAMPLE / path, workspace / path)
    runs.start_run(db, workflow, spec["inputs"]["parameters"], {})
    run = wait_run_status(db, workflow, {RunStatus.finished, RunStatus.failed}, seconds=240)
    assert RunStatus(run.status) == RunStatus.finished, run.logs
    check_outputs(workspace)
    db.expire_all()
    jobs = run_provenance(db, db.merge(run))["jobs"]
    assert [job["job_name"] for job in jobs] == ["generate", "fit", "plot", "report"]
    check_provenance_outputs(jobs, workspace)
    nodes = {node for node in k8s_platform.nodes}
    for job in jobs:
        assert job["compute_backend"] == "kubernetes"
        assert job["runtime"] == "kubernetes pod" and job["node"] in nodes, job
