"""Step selection and job requests (pure functions)."""

from __future__ import annotations

from reana_workflow_engine_serial.steps import job_request, targeted_steps

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
    request = job_request(step, "x", "uuid", "/ws")
    assert request == {"workflow_uuid": "uuid", "workflow_workspace": "/ws", "docker_img": "img:1",
                       "job_name": "fit", "prettified_cmd": "x", "compute_backend": "slurmcern",
                       "kubernetes_memory_limit": "1Gi", "unpacked_img": True}
    assert job_request({"commands": ["y"]}, "y", "u", "/w")["job_name"] == ""


def test_plan_expands_parameters_and_accepts_a_whole_reana_yaml():
    import pytest
    from reana_commons.errors import REANAValidationError
    from reana_workflow_engine_serial.engine import SerialEngine

    spec = {"workflow": {"type": "serial", "specification": {"steps": [
        {"name": "a", "commands": ["echo ${x} $y", "echo $$z"]}]}}}
    engine = SerialEngine("uuid", "/ws", spec, {"x": 1, "y": "two"}, {}, jobs=None)
    assert [command for _, _, command in engine.plan()] == ["echo 1 two", "echo $z"]
    engine.parameters = {}
    with pytest.raises(REANAValidationError, match="'x'"):
        engine.plan()
