"""A fixed subset of the CWL v1.2 conformance suite: stock cwltest through reana-cwl-runner.

One embedded platform for the module; one ``cwltest --tool reana-cwl-runner`` run
over 50 fast tests covering the ``required`` tag, expressions, scatter,
subworkflows, secondaryFiles, directories, default inputs, packing, tests that must fail,
and two requirements the platform does not support (``dockerOutputDirectory``, a
command relying on the image's ENTRYPOINT: the runner exits 33, cwltest counts them
unsupported). The whole suite is
``make cwl-conformance``.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from reana_testing.pytest_plugin import SHARED_DIR

from tests.conftest import ROOT, start_platform, stop_platform

SUITE = Path(os.environ.get("CWL_CONFORMANCE_SUITE", SHARED_DIR / "reference" / "cwl-v1.2"))
BIN = Path(sys.executable).parent

PASSING = {
    # required (not cl_basic_generation: cwltest 2.7's -s cannot select the first test)
    "nested_prefixes_arrays", "cl_optional_inputs_missing",
    "stdinout_redirect",
    "wf_default_tool_default", "wf_simple", "format_checking", "json_output_path_relative",
    "directory_output", "input_file_literal", "nameroot_nameext_stdout_expr",
    "default_path_notfound_warning", "shelldir_notinterpreted", "outputbinding_glob_sorted",
    "success_codes", "wf_step_access_undeclared_param", "any_without_defaults_unspecified_fails",
    "step_input_default_value_noexp", "stdin_from_directory_literal_with_local_file",
    "no_inputs_commandlinetool", "no_inputs_workflow", "secondary_files_in_unnamed_records",
    "secondary_files_workflow_propagation", "secondary_files_missing",
    "outputbinding_glob_directory", "outputEval_exitCode", "filename_with_hash_mark",
    "cwloutput_nolimit", "very_big_and_very_floats_nojs",
    # expressions
    "expression_parseint", "wf_wc_expressiontool", "inline_expressions", "exprtool_file_literal",
    # scatter
    "wf_wc_scatter", "wf_scatter_two_nested_crossproduct", "wf_scatter_emptylist",
    "wf_scatter_twoparam_dotproduct_valuefrom",
    # subworkflows
    "nested_workflow", "embedded_subworkflow", "scatter_multi_input_embedded_subworkflow",
    # secondaryFiles, directories, default inputs
    "directory_secondaryfiles", "job_input_secondary_subdirs", "directory_input_param_ref",
    "exprtool_directory_literal", "wf_input_default_missing", "step_input_default_value",
    "workflow_file_input_default_unspecified",
    # packing: documents of several CWL versions; an output named as its tool's input
    "mixed_version_v10_wf", "iwd-subdir",
}
UNSUPPORTED = {"dockeroutputdir", "docker_entrypoint"}
SELECTED = sorted(PASSING | UNSUPPORTED)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.skipif(not (SUITE / "conformance_tests.yaml").is_file(),
                       reason=f"no CWL v1.2 conformance suite at {SUITE}"),
]


def _summarise(badges: Path) -> dict:
    spec = importlib.util.spec_from_file_location("cwl_conformance",
                                                  ROOT / "scripts" / "cwl_conformance.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.summarise(badges)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """cwltest's verdict on each test of the subset, and what it printed."""
    scratch = tmp_path_factory.mktemp("cwl-conformance")
    platform = start_platform(scratch / "reana-home", "embedded")
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("REANA_")}
        (scratch / "tmp").mkdir()
        env.update({"REANA_SERVER_URL": platform.url, "REANA_ACCESS_TOKEN": platform.token,
                    "PATH": f"{BIN}{os.pathsep}{env['PATH']}", "TMPDIR": str(scratch / "tmp")})
        junit = scratch / "junit.xml"
        ran = subprocess.run(
            [str(BIN / "cwltest"), "--test", "conformance_tests.yaml", "--tool",
             "reana-cwl-runner", "-j", "4", "--timeout", "240", "--junit-xml", str(junit),
             "--badgedir", str(scratch / "badges"), "-s", ",".join(SELECTED)],
            cwd=SUITE, env=env, capture_output=True, text=True, timeout=840)
        assert junit.is_file(), ran.stdout + ran.stderr
        summary = _summarise(scratch / "badges")
        verdicts = _verdicts(junit)
        # cwltest's badge pages count right; a failure without a message has no junit entry
        assert list(verdicts.values()).count("passed") == summary["passed"], ran.stderr[-3000:]
        yield verdicts, _details(junit) or {"": ran.stderr}
    finally:
        stop_platform(platform)


def _cases(junit: Path) -> list:
    """cwltest 2.7 names the results of ``-s`` after the suite's first tests: the k-th
    case of its report is the k-th selected test."""
    import xml.etree.ElementTree as ET

    return list(zip(SELECTED, ET.parse(junit).getroot().iter("testcase"), strict=True))


def _verdicts(junit: Path) -> dict[str, str]:
    verdicts = {}
    for name, case in _cases(junit):
        if case.find("failure") is not None or case.find("error") is not None:
            verdicts[name] = "failed"
        elif case.find("skipped") is not None:
            verdicts[name] = "unsupported"
        else:
            verdicts[name] = "passed"
    return verdicts


def _details(junit: Path) -> dict[str, str]:
    """What cwltest recorded of each test: failure message, runner's stdout and stderr."""

    details = {}
    for name, case in _cases(junit):
        parts = [f"{child.tag}: {child.get('message') or ''} {child.text or ''}"
                 for child in case]
        details[name] = "\n".join(parts)[-4000:]
    return details


def test_the_subset_ran_whole(results):
    verdicts, details = results
    assert sorted(verdicts) == sorted(SELECTED), details


@pytest.mark.parametrize("test_id", sorted(PASSING))
def test_conformance_test_passes(results, test_id):
    verdicts, details = results
    assert verdicts[test_id] == "passed", details.get(test_id)


def test_an_unsupported_requirement_is_reported_as_such(results):
    """The runner exits 33 for them; cwltest counts them unsupported."""
    verdicts, details = results
    assert {name: verdicts[name] for name in UNSUPPORTED} == dict.fromkeys(
        UNSUPPORTED, "unsupported"), {name: details.get(name) for name in UNSUPPORTED}
