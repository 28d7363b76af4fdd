"""The ``test`` command's Gherkin steps: every demo sentence is defined; checks pass and fail."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from reana_client.testing.runner import FeatureFileError, parse_feature, run_feature
from reana_client.testing.steps import RunData, find_step, to_bytes

from .conftest import DEMOS, HELLOWORLD

FEATURES = sorted(DEMOS.glob("*/tests/**/*.feature"))
GREETINGS = b"Hello Jane Doe!\nHello Joe Bloggs!\n"


class FakeRun(RunData):
    """A finished helloworld run, answered from memory instead of the API."""

    def __init__(self, files: dict[str, bytes], status="finished"):
        super().__init__(None, None, "helloworld.1", "token")
        self.contents = files
        self._cache.update(
            status={
                "status": status,
                "progress": {
                    "run_started_at": "2024-01-02T03:04:05",
                    "run_finished_at": "2024-01-02T03:04:35",
                },
            },
            logs={
                "workflow_logs": "2024-01-02 03:04:06,000 | root | MainThread | INFO | "
                'Publishing step:0, cmd: python "code/helloworld.py" --inputfile '
                '"data/names.txt", total steps 1 to MQ',
                "engine_specific": None,
                "job_logs": {
                    "j1": {
                        "job_name": "",
                        "logs": "",
                        "started_at": "2024-01-02T03:04:06",
                        "finished_at": "2024-01-02T03:04:30",
                    }
                },
            },
            files=[{"name": n, "size": {"raw": len(c)}} for n, c in files.items()],
            spec={"outputs": {"files": ["results/greetings.txt"]}},
            du=sum(len(c) for c in files.values()),
        )

    def chunks(self, path):
        yield self.contents[path]


@pytest.fixture
def helloworld_run():
    if not HELLOWORLD.exists():
        pytest.skip("helloworld demo absent")
    return FakeRun(
        {
            "code/helloworld.py": (HELLOWORLD / "code/helloworld.py").read_bytes(),
            "data/names.txt": (HELLOWORLD / "data/names.txt").read_bytes(),
            "results/greetings.txt": GREETINGS,
            "reana.yaml": (HELLOWORLD / "reana.yaml").read_bytes(),
        }
    )


def test_every_demo_step_has_a_definition():
    if not FEATURES:
        pytest.skip("demos absent")
    for path in FEATURES:
        for child in parse_feature(path.read_text())["children"]:
            for step in child.get("scenario", {}).get("steps", []):
                find_step(step["text"])  # raises UndefinedStep


def test_helloworld_serial_features_pass(helloworld_run):
    for name in ("log-messages", "run-duration", "workspace-files"):
        text = (HELLOWORLD / "tests" / "serial" / f"{name}.feature").read_text()
        results = run_feature(text, helloworld_run)
        assert results and all(r.passed for r in results), [
            (r.name, r.failed_step, r.reason) for r in results if not r.passed
        ]


def test_failing_scenario_names_step_and_reason(helloworld_run):
    text = (
        (HELLOWORLD / "tests/serial/workspace-files.feature")
        .read_text()
        .replace("Hello Joe Bloggs!", "Hello Nobody!")
    )
    results = {r.name: r for r in run_feature(text, helloworld_run)}
    failed = results["The people are correctly greeted"]
    assert not failed.passed
    assert (
        failed.failed_step == 'And the file "results/greetings.txt" should contain "Hello Nobody!"'
    )
    assert "does not contain 'Hello Nobody!'" in failed.reason
    assert sum(not r.passed for r in results.values()) == 1


def test_checksum_sizes_and_unfinished_runs(helloworld_run):
    digest = hashlib.sha256(GREETINGS).hexdigest()
    feature = f'''Feature: f
  Scenario: checksum
    When the workflow is finished
    Then the sha256 checksum of the file "results/greetings.txt" should be "{digest}"
    And the workspace size should be more than 1KiB
  Scenario: durations
    When the workflow execution completes
    Then the workflow status should be "finished"
    And the duration of the step "" should be less than 1 minutes
  Scenario: unknown
    Then the moon should be made of cheese
'''
    results = run_feature(feature, helloworld_run)
    assert results[0].passed is True
    assert results[1].passed is True
    assert "undefined step" in results[2].reason
    unfinished = FakeRun({}, status="running")
    [result] = run_feature(
        "Feature: f\n Scenario: s\n  When the workflow is finished\n", unfinished
    )
    assert "is running, not finished" in result.reason
    assert to_bytes("1.5", "KiB") == 1536


def test_broken_feature_file_is_reported():
    with pytest.raises(FeatureFileError):
        parse_feature("Scenario: a scenario outside any feature\n")
    assert isinstance(DEMOS, Path)
