"""Step definitions: one regular expression and one check per step sentence.

Each check gets a :class:`RunData` (lazy, cached access to the run through the
API) and raises :class:`StepFailed` with a readable reason when the property
does not hold.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime

UNITS = {
    "B": 1,
    "KB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
    "KIB": 1024,
    "MIB": 1024**2,
    "GIB": 1024**3,
    "TIB": 1024**4,
    "BYTES": 1,
    "BYTE": 1,
}
TIME_UNITS = {"second": 1, "seconds": 1, "minute": 60, "minutes": 60, "hour": 3600, "hours": 3600}


class StepFailed(AssertionError):
    """The property of a step does not hold; ``str()`` says why."""


class UndefinedStep(LookupError):
    """No step definition matches the sentence."""


def to_bytes(number: str, unit: str) -> float:
    """``"30", "KiB"`` → 30720."""
    try:
        return float(number) * UNITS[unit.upper()]
    except KeyError as error:
        raise StepFailed(f"unknown size unit {unit!r}") from error


def _time(value: str | None) -> datetime | None:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S") if value else None


class RunData:
    """What the steps need to know about one run, fetched once from reana-server."""

    def __init__(self, client, transfer, workflow: str, access_token: str):
        self.client, self.transfer = client, transfer
        self.workflow, self.token = workflow, access_token
        self._cache: dict = {}

    def _get(self, key, fetch):
        if key not in self._cache:
            self._cache[key] = fetch()
        return self._cache[key]

    def status(self) -> dict:
        return self._get(
            "status",
            lambda: self.client.call(
                "get_workflow_status", workflow_id_or_name=self.workflow, access_token=self.token
            ),
        )

    def logs(self) -> dict:
        return self._get(
            "logs",
            lambda: json.loads(
                self.client.call(
                    "get_workflow_logs", workflow_id_or_name=self.workflow, access_token=self.token
                )["logs"]
            ),
        )

    def files(self) -> list[dict]:
        def fetch():
            response = self.client.call(
                "get_files", workflow_id_or_name=self.workflow, access_token=self.token
            )
            return response.get("items", []) if isinstance(response, dict) else response

        return self._get("files", fetch)

    def specification(self) -> dict:
        return self._get(
            "spec",
            lambda: self.client.call(
                "get_workflow_specification",
                workflow_id_or_name=self.workflow,
                access_token=self.token,
            )["specification"],
        )

    def disk_usage(self) -> int:
        def fetch():
            response = self.client.call(
                "get_workflow_disk_usage",
                workflow_id_or_name=self.workflow,
                access_token=self.token,
                parameters={"summarize": True},
            )
            return sum(e["size"]["raw"] for e in response["disk_usage_info"])

        return self._get("du", fetch)

    def chunks(self, path: str):
        return self.transfer(self.workflow, path, self.token)

    def file_names(self) -> set[str]:
        return {f["name"].lstrip("/") for f in self.files()}

    def file_size(self, path: str) -> int:
        for entry in self.files():
            if entry["name"].lstrip("/") == path.strip("/"):
                return entry["size"]["raw"]
        raise StepFailed(f'the workspace has no file "{path}"')

    def has_path(self, path: str) -> bool:
        path = path.strip("/")
        names = self.file_names()
        return path in names or any(n.startswith(path + "/") for n in names)

    def job_logs_of(self, step: str) -> list[dict]:
        jobs = [j for j in self.logs().get("job_logs", {}).values() if j.get("job_name") == step]
        if not jobs:
            raise StepFailed(f'no job of step "{step}" in the run\'s logs')
        return jobs


STEPS: list[tuple[re.Pattern, object]] = []


def step(pattern: str):
    """Register a step definition for sentences matching ``pattern`` (whole sentence)."""

    def register(func):
        STEPS.append((re.compile(f"^{pattern}$"), func))
        return func

    return register


@step(r"the workflow is finished")
def workflow_finished(run: RunData, doc):
    status = run.status()["status"]
    if status != "finished":
        raise StepFailed(f"the workflow is {status}, not finished")


@step(r"the workflow execution completes")
def workflow_completed(run: RunData, doc):
    status = run.status()["status"]
    if status not in ("finished", "failed", "stopped"):
        raise StepFailed(f"the workflow is {status}, it has not completed")


@step(r'the workflow status should be "(?P<expected>[^"]*)"')
def workflow_status(run: RunData, doc, expected):
    status = run.status()["status"]
    if status != expected:
        raise StepFailed(f'the workflow status is "{status}", expected "{expected}"')


@step(r'the engine logs should contain(?: "(?P<text>.*)")?')
def engine_logs_contain(run: RunData, doc, text=None):
    wanted = doc if text is None else text
    logs = run.logs()
    haystack = (logs.get("workflow_logs") or "") + "\n" + (logs.get("engine_specific") or "")
    if wanted not in haystack:
        raise StepFailed(f"the engine logs do not contain {wanted!r}")


@step(r'the job logs for the "(?P<name>[^"]*)" step should contain(?: "(?P<text>.*)")?')
def job_logs_contain(run: RunData, doc, name, text=None):
    wanted = doc if text is None else text
    if not any(wanted in (j.get("logs") or "") for j in run.job_logs_of(name)):
        raise StepFailed(f'the job logs of step "{name}" do not contain {wanted!r}')


@step(r'the workspace should (?:include|contain) "(?P<path>[^"]*)"')
def workspace_includes(run: RunData, doc, path):
    if not run.has_path(path):
        raise StepFailed(f'the workspace does not contain "{path}"')


@step(r'the file "(?P<path>[^"]*)" should contain "(?P<text>.*)"')
def file_contains(run: RunData, doc, path, text):
    content = b"".join(run.chunks(path)).decode("utf-8", "replace")
    if text not in content:
        raise StepFailed(f'the file "{path}" does not contain {text!r}')


@step(
    r'the size of the file "(?P<path>[^"]*)" should be between '
    r"(?P<low>[\d.]+)\s*(?P<low_unit>\w+) and (?P<high>[\d.]+)\s*(?P<high_unit>\w+)"
)
def file_size_between(run: RunData, doc, path, low, low_unit, high, high_unit):
    size = run.file_size(path)
    low_b, high_b = to_bytes(low, low_unit), to_bytes(high, high_unit)
    if not low_b <= size <= high_b:
        raise StepFailed(
            f'the file "{path}" has {size} bytes, not between {low}{low_unit} and {high}{high_unit}'
        )


@step(r'the sha256 checksum of the file "(?P<path>[^"]*)" should be "(?P<digest>[0-9a-fA-F]+)"')
def file_checksum(run: RunData, doc, path, digest):
    sha = hashlib.sha256()
    for chunk in run.chunks(path):
        sha.update(chunk)
    if sha.hexdigest() != digest.lower():
        raise StepFailed(f'the sha256 of "{path}" is {sha.hexdigest()}, expected {digest}')


@step(r"all the outputs should be included in the workspace")
def outputs_included(run: RunData, doc):
    outputs = run.specification().get("outputs") or {}
    missing = [
        p
        for p in (outputs.get("files") or []) + (outputs.get("directories") or [])
        if not run.has_path(p)
    ]
    if missing:
        raise StepFailed("outputs missing from the workspace: " + ", ".join(missing))


@step(
    r"the workspace size should be (?P<relation>less|more) than "
    r"(?P<number>[\d.]+)\s*(?P<unit>\w+)"
)
def workspace_size(run: RunData, doc, relation, number, unit):
    size, bound = run.disk_usage(), to_bytes(number, unit)
    ok = size < bound if relation == "less" else size > bound
    if not ok:
        raise StepFailed(f"the workspace size is {size} bytes, not {relation} than {number}{unit}")


def _seconds(number: str, unit: str) -> float:
    return float(number) * TIME_UNITS[unit.lower()]


@step(
    r"the workflow run duration should be less than (?P<number>[\d.]+) "
    r"(?P<unit>seconds?|minutes?|hours?)"
)
def run_duration(run: RunData, doc, number, unit):
    progress = run.status().get("progress") or {}
    start = _time(progress.get("run_started_at"))
    end = _time(progress.get("run_finished_at") or progress.get("run_stopped_at"))
    if not start or not end:
        raise StepFailed("the run has no start or end time")
    took = (end - start).total_seconds()
    if took >= _seconds(number, unit):
        raise StepFailed(f"the run took {took:.0f} s, not less than {number} {unit}")


@step(
    r'the duration of the step "(?P<name>[^"]*)" should be less than (?P<number>[\d.]+) '
    r"(?P<unit>seconds?|minutes?|hours?)"
)
def step_duration(run: RunData, doc, name, number, unit):
    for job in run.job_logs_of(name):
        start, end = _time(job.get("started_at")), _time(job.get("finished_at"))
        if not start or not end:
            raise StepFailed(f'step "{name}" has no start or end time')
        took = (end - start).total_seconds()
        if took >= _seconds(number, unit):
            raise StepFailed(f'step "{name}" took {took:.0f} s, not less than {number} {unit}')


def find_step(text: str):
    """``(function, keyword arguments)`` of the definition matching ``text``."""
    for pattern, func in STEPS:
        match = pattern.match(text.strip())
        if match:
            return func, {k: v for k, v in match.groupdict().items() if v is not None}
    raise UndefinedStep(f'undefined step: "{text}"')
