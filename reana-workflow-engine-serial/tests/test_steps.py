"""Step selection, job requests and the plan (pure functions)."""

from __future__ import annotations

from types import SimpleNamespace

from reana_commons.engine.jobs import job_request
from reana_workflow_engine_serial.steps import targeted_steps

STEPS = [{"name": "A"}, {"name": "b"}, {}, {"name": "D"}]


def _names(options):
    return [index for index, _ in targeted_steps(STEPS, options)]


def test_targeted_steps():
    assert _names({}) == [0, 1, 2, 3]
    assert _names({"FROM": "B"}) == [1, 2, 3]
    assert _names({"TARGET": "b"}) == [0, 1]
    assert _names({"from": "b", "target": "d"}) == [1, 2, 3]
    assert _names({"FROM": "d", "TARGET": "a"}) == [0, 1, 2, 3]
    assert _names({"FROM": "zzz", "TARGET": "a"}) == [0]


def test_job_request_passes_step_resources():
    step = {"name": "fit", "environment": "img:1", "compute_backend": "slurmcern",
            "kubernetes_memory_limit": "1Gi", "slurm_time": "", "unpacked_image": True,
            "commands": ["x"]}
    run = SimpleNamespace(workflow_uuid="uuid", workspace="/ws")
    request = job_request(run, image=step["environment"], name=step["name"],
                          command_for_display="x", hints=step)
    assert request == {"workflow_uuid": "uuid", "workflow_workspace": "/ws", "docker_img": "img:1",
                       "job_name": "fit", "prettified_cmd": "x", "compute_backend": "slurmcern",
                       "kubernetes_memory_limit": "1Gi", "unpacked_img": True}
    assert job_request(run, image="", name="", command_for_display="y",
                       hints={"commands": ["y"]})["job_name"] == ""


def test_plan_expands_parameters_and_accepts_a_whole_reana_yaml():
    import pytest
    from reana_commons.errors import REANAValidationError
    from reana_workflow_engine_serial.engine import plan

    spec = {"workflow": {"type": "serial", "specification": {"steps": [
        {"name": "a", "commands": ["echo ${x} $y", "echo $$z"]}]}}}
    run = SimpleNamespace(specification=spec, parameters={"x": 1, "y": "two"}, options={})
    assert [command for _, _, command in plan(run)] == ["echo 1 two", "echo $z"]
    run.parameters = {}
    with pytest.raises(REANAValidationError, match="'x'"):
        plan(run)
