"""Property-based fuzzing of the GA4GH WES 1.1 spec (schemathesis) against our WES API.

Every operation of the committed WES spec is called with generated input, valid
(``positive``) and invalid (``negative``), authenticated as a user who has a run
with a job; path values are often swapped for that run's and job's ids. ``POST
/runs`` is also sent, about half of the time, as a valid CWL submission (workflow
and input attachments) with one field replaced by generated or junk values,
through the test client (schemathesis' multipart bodies carry no file names).
No answer may be a 5xx, an undeclared status, a wrong content type or a body that
breaks the spec.
"""

from __future__ import annotations

import io
import json
import os
import random
import time
import uuid
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from reana_commons.openapi import wes_specification_path
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from .test_wes import cwl_fields, cwl_files

EXAMPLES = int(os.environ.get("REANA_FUZZ_EXAMPLES", "12"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
JUNK = [None, [1], "x", -1, 2**63, {}, [], "../..", "/etc/passwd", "file:///etc/passwd",
        "{", '{"a": [[[]]]}', "CWL", "v1.2", "\x00"]


class World:
    """A run of the user with a job, whose ids the fuzzed calls aim at."""

    def __init__(self, app, user, db):
        self.app, self.user, self.db = app, user, db
        self.client = app.test_client()
        self.run_id = self.task_id = ""

    def ensure(self) -> None:
        from reana_db.models import Job, Workflow

        self.db.expire_all()
        if self.run_id and self.db.get(Workflow, uuid.UUID(self.run_id)) is not None:
            return
        response = self.submit(cwl_fields())
        assert response.status_code == 200, response.get_json()
        self.run_id = response.get_json()["run_id"]
        job = Job(workflow_uuid=uuid.UUID(self.run_id), job_name="count", cmd="wc -l",
                  logs="3 names.txt\n")
        self.db.add(job)
        self.db.commit()
        self.task_id = str(job.id_)

    def submit(self, fields: dict, files: dict | None = None):
        data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()
                if v is not None}
        data["workflow_attachment"] = [(io.BytesIO(content), name) for name, content in
                                       (files if files is not None else cwl_files()).items()]
        return self.client.post("/ga4gh/wes/v1/runs", data=data,
                                content_type="multipart/form-data",
                                headers={"Authorization": f"Bearer {self.user.test_token}"})

    def aim(self, case, rng: random.Random) -> None:
        case.headers = {**(case.headers or {}),
                        "Authorization": f"Bearer {self.user.test_token}"}
        params = case.path_parameters or {}
        if "run_id" in params and rng.random() < 0.7:
            params["run_id"] = self.run_id
        if "task_id" in params and rng.random() < 0.7:
            params["task_id"] = self.task_id

    def mutated_submission(self, case, rng: random.Random):
        """A valid CWL submission with one field (or attachment name) replaced."""
        fields = cwl_fields()
        files = cwl_files()
        generated = case.body if isinstance(case.body, dict) else {}
        key = rng.choice([*fields, "workflow_params", "attachment name", "workflow_engine",
                          "workflow_engine_version"])
        if key == "attachment name":
            files[rng.choice(["../x", "/abs", "a//b", "data/names.txt/x", "."])] = b"x"
        else:
            value = generated.get(key) if key in generated and rng.random() < 0.5 \
                else rng.choice(JUNK)
            fields[key] = value if isinstance(value, str | type(None)) else json.dumps(value)
        return self.submit(fields, files)


@pytest.fixture
def wes_schema(app):
    schema = schemathesis.openapi.from_path(str(wes_specification_path()))
    schema.app = app
    return schema


@pytest.mark.slow
def test_wes_api_conforms_to_the_ga4gh_spec(wes_schema, app, user, server_env):
    world = World(app, user, server_env)
    operations = [result.ok() for result in wes_schema.get_all_operations()]
    assert len(operations) == 8
    failures, statuses = [], Counter()
    started = time.monotonic()
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      phases=[Phase.explicit, Phase.generate],
                      suppress_health_check=list(HealthCheck))
            def fuzz(case):
                world.ensure()
                rng = random.Random(repr((case.path_parameters, case.query, case.body)))
                world.aim(case, rng)
                if case.operation.label == "POST /runs" and rng.random() < 0.5:
                    response = world.mutated_submission(case, rng)
                    case.operation.validate_response(response)
                    assert response.status_code in (200, 400), response.get_json()
                else:
                    response = case.call_and_validate(checks=CHECKS)
                if response.status_code >= 400:
                    body = json.loads(response.content if hasattr(response, "content")
                                      else response.get_data())
                    assert body["status_code"] == response.status_code and body["msg"]
                statuses[response.status_code] += 1

            try:
                fuzz()
            except Unsatisfiable:
                assert mode == GenerationMode.NEGATIVE
            except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - collect them all
                failures.append(f"{operation.label} ({mode.value}): {error}")
    print(f"{sum(statuses.values())} calls, {time.monotonic() - started:.0f} s: "
          f"{dict(sorted(statuses.items()))}")
    assert statuses[200] > len(operations)  # the real ids were reached
    assert not failures, "\n\n".join(failures)
