"""The packtivity backend's pieces: commands, images, job fields, options, workflow errors."""

from __future__ import annotations

import base64
import subprocess

import pytest
from reana_workflow_engine_yadage.backend import hints_of, image_of, shell_command
from reana_workflow_engine_yadage.options import OptionError, init_data, resolve_options
from reana_workflow_engine_yadage.specification import (
    WorkflowLoadError,
    load_workflow,
    validate_workflow,
)


def test_a_command_runs_in_the_workspace():
    cmd, shown = shell_command({"command": "echo hi > out"}, {}, "/ws/a b")
    assert cmd == "cd '/ws/a b' && echo hi > out" and shown == "echo hi > out"


def test_a_script_is_piped_into_its_interpreter(tmp_path):
    script = "import sys\nprint('from', sys.argv[0] or 'stdin', \"'quoted'\")\n"
    cmd, shown = shell_command({"script": script, "interpreter": "python3"}, {}, str(tmp_path))
    assert shown == script
    assert base64.b64encode(script.encode()).decode() in cmd
    result = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, check=True)
    assert result.stdout == "from stdin 'quoted'\n"


def test_environment_variables_envscript_and_workdir(tmp_path):
    (tmp_path / "setup.sh").write_text("export FROM_SCRIPT=yes\n")
    environment = {"env": {"GREETING": "hello world"}, "envscript": str(tmp_path / "setup.sh"),
                   "workdir": str(tmp_path)}
    cmd, _ = shell_command({"command": 'echo "$GREETING $FROM_SCRIPT $PWD"'}, environment, "/")
    result = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, check=True)
    assert result.stdout == f"hello world yes {tmp_path}\n"


def test_a_job_without_command_or_script_is_refused():
    with pytest.raises(RuntimeError, match="neither command nor script"):
        shell_command({"instructions": "by hand"}, {}, "/ws")


@pytest.mark.parametrize(("environment", "image"), [
    ({"image": "docker.io/library/python", "imagetag": "3.11-slim"},
     "docker.io/library/python:3.11-slim"),
    ({"image": "busybox", "imagetag": "latest"}, "busybox:latest"),
    ({"image": "registry:5000/busybox:1.36", "imagetag": "latest"},
     "registry:5000/busybox:1.36"),
    ({"environment_type": "localproc-env"}, ""),
])
def test_image_of_an_environment(environment, image):
    assert image_of(environment) == image


def test_resources_become_job_fields():
    hints = hints_of({"resources": [{"compute_backend": "slurmcern"}, {"slurm_time": "60"},
                                    "not-a-mapping", {"kubernetes_memory_limit": "1Gi"}]})
    assert hints == {"compute_backend": "slurmcern", "slurm_time": "60",
                     "kubernetes_memory_limit": "1Gi"}


def test_options_default_to_the_workspace(tmp_path):
    options = resolve_options(str(tmp_path), {})
    assert options.toplevel == options.initdir == str(tmp_path)
    assert options.initfiles == [] and options.accept_metadir is False


def test_options_resolve_inside_the_workspace(tmp_path):
    options = resolve_options(str(tmp_path), {"toplevel": "wf", "initdir": "in/put",
                                              "initfiles": "init.yaml", "ACCEPT_METADIR": "yes"})
    assert options.toplevel == str(tmp_path / "wf")
    assert options.initdir == str(tmp_path / "in/put")
    assert options.initfiles == [str(tmp_path / "init.yaml")]
    assert options.accept_metadir is True
    assert resolve_options(str(tmp_path), {"toplevel": "github:owner/repo"}).toplevel == \
        "github:owner/repo"
    assert resolve_options(str(tmp_path), {"accept_metadir": "false"}).accept_metadir is False


@pytest.mark.parametrize(("options", "message"), [
    ({"initdir": "../elsewhere"}, '"initdir" must name a path inside the workspace'),
    ({"toplevel": "/etc"}, '"toplevel" must name a path inside the workspace'),
    ({"initfiles": ["ok.yaml", "../../x.yaml"]}, '"initfiles" must name a path inside'),
    ({"initfiles": {"a": 1}}, '"initfiles" must be a list of files'),
    ({"initdir": 3}, '"initdir" must be a path, not 3'),
])
def test_options_that_leave_the_workspace_are_refused(tmp_path, options, message):
    with pytest.raises(OptionError, match=message):
        resolve_options(str(tmp_path), options)


def test_init_data_merges_files_then_parameters(tmp_path):
    (tmp_path / "a.yaml").write_text("x: 1\ny: 2\n")
    (tmp_path / "b.yaml").write_text("y: 3\nz: 4\n")
    (tmp_path / "empty.yaml").write_text("")
    options = resolve_options(str(tmp_path), {"initfiles": ["a.yaml", "b.yaml", "empty.yaml"]})
    assert init_data(options, {"z": "5"}, str(tmp_path)) == {"x": 1, "y": 3, "z": "5"}


@pytest.mark.parametrize(("content", "message"), [
    (None, "Init file init.yaml does not exist."),
    ("- a\n- b\n", "Init file init.yaml must hold a mapping of parameters."),
    ("a: [\n", "Init file init.yaml is not valid YAML"),
])
def test_bad_init_files(tmp_path, content, message):
    if content is not None:
        (tmp_path / "init.yaml").write_text(content)
    options = resolve_options(str(tmp_path), {"initfiles": ["init.yaml"]})
    with pytest.raises(OptionError, match=message):
        init_data(options, {}, str(tmp_path))


STAGE_WITHOUT_CMD = """\
stages:
  - name: hello
    dependencies: [init]
    scheduler:
      scheduler_type: singlestep-stage
      parameters: {a: 1}
      step:
        process:
          process_type: string-interpolated-cmd
        publisher:
          publisher_type: frompar-pub
          outputmap: {}
        environment:
          environment_type: docker-encapsulated
          image: busybox
"""


def test_a_schema_error_names_the_property_and_where(tmp_path):
    (tmp_path / "flow.yaml").write_text(STAGE_WITHOUT_CMD)
    with pytest.raises(WorkflowLoadError) as error:
        load_workflow("flow.yaml", str(tmp_path), str(tmp_path))
    assert str(error.value) == ("Yadage workflow file flow.yaml is invalid: 'cmd' is a required "
                                "property (at stages/0/scheduler/step/process)")


def test_a_mistyped_process_type_lists_the_choices(tmp_path):
    (tmp_path / "flow.yaml").write_text(
        STAGE_WITHOUT_CMD.replace("string-interpolated-cmd", "string-interpolated-cmdd"))
    with pytest.raises(WorkflowLoadError) as error:
        load_workflow("flow.yaml", str(tmp_path), str(tmp_path))
    assert str(error.value).startswith(
        "Yadage workflow file flow.yaml is invalid: 'string-interpolated-cmdd' is not one of ")
    assert "interpolated-script-cmd" in str(error.value)
    assert str(error.value).endswith("(at stages/0/scheduler/step/process/process_type)")


def test_a_stage_of_the_wrong_shape(tmp_path):
    (tmp_path / "flow.yaml").write_text("stages:\n  - name: x\n    scheduler: 3\n")
    with pytest.raises(WorkflowLoadError, match="is invalid: a stage or one of its parts does "
                                                "not have yadage's structure"):
        load_workflow("flow.yaml", str(tmp_path), str(tmp_path))


def test_a_missing_workflow_file(tmp_path):
    with pytest.raises(WorkflowLoadError,
                       match=r"^Yadage workflow file wf/flow.yaml does not exist.$"):
        load_workflow("flow.yaml", str(tmp_path / "wf"), str(tmp_path))


def test_a_missing_reference_names_the_file(tmp_path):
    (tmp_path / "flow.yaml").write_text(
        "stages:\n  - name: x\n    dependencies: [init]\n"
        "    scheduler: {$ref: 'steps/missing.yaml'}\n")
    with pytest.raises(WorkflowLoadError) as error:
        load_workflow("flow.yaml", str(tmp_path), str(tmp_path))
    assert "could not be loaded" in str(error.value)
    assert "steps/missing.yaml" in str(error.value)


def test_a_yaml_syntax_error(tmp_path):
    (tmp_path / "flow.yaml").write_text("stages: [\n")
    with pytest.raises(WorkflowLoadError, match="could not be loaded|not valid YAML"):
        load_workflow("flow.yaml", str(tmp_path), str(tmp_path))


def test_a_json_specification_is_validated_with_defaults():
    with pytest.raises(WorkflowLoadError, match="has no stages"):
        validate_workflow({"steps": []})
    with pytest.raises(WorkflowLoadError, match="'cmd' is a required property"):
        import yaml

        validate_workflow(yaml.safe_load(STAGE_WITHOUT_CMD))
