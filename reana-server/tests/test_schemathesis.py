"""Property-based fuzzing of the whole public spec (schemathesis), with real ids and data.

Every operation of our served spec is called with generated input, valid
(``positive``) and invalid (``negative``). Path and query values are often
swapped for things that exist, so the calls get past the lookups: the run
``fuzz`` (by name, ``name.N`` and UUID), its workspace files, directories and
globs, a job id, the user's secret. Destructive operations (delete, move,
prune, stop, start, delete secrets) run too: the world is put back before each
case. Reana.yaml bodies are often a valid specification with one part
replaced by generated junk. No answer may be a 5xx, an undeclared status, a
wrong content type or a body that breaks our spec.
"""

from __future__ import annotations

import copy
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
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

EXAMPLES = int(os.environ.get("REANA_FUZZ_EXAMPLES", "12"))
"""Examples per operation and generation mode (the whole run stays around a minute)."""

FILES = {
    "data/names.txt": b"Jane\nJohn\n",
    "code/helloworld.py": b"print('hello')\n",
    "results/deep/out.csv": b"1,2\n",
    "odd name/résumé ☃.txt": b"snow\n",
}
FILE_NAMES = [*FILES, "data", "results", "**/*.txt", "data/*", "*", "missing.txt"]
SECRET = "FUZZ_SECRET"
JUNK = [None, [1], "x", -1, 2**63, {}, [], {"a": [[[]]]}, True, 1.5, "../..", "/etc"]
SPEC_PARTS = [
    ("workspace",),
    ("workspace", "root_path"),
    ("workspace", "retention_days"),
    ("inputs",),
    ("inputs", "files"),
    ("inputs", "parameters"),
    ("inputs", "options"),
    ("outputs",),
    ("outputs", "files"),
    ("workflow",),
    ("workflow", "type"),
    ("workflow", "specification"),
    ("workflow", "specification", "steps"),
    ("version",),
]


def no_server_error(ctx, response, case):
    """Like schemathesis' ``not_a_server_error``, but REANA's declared 501 is an answer.

    REANA answers ``POST /api/workflows?spec=...`` with 501 "Not implemented"
    (declared in its spec); every other 5xx is a bug.
    """
    if response.status_code == 501 and response.json() == {"message": "Not implemented"}:
        return None
    return not_a_server_error(ctx, response, case)


CHECKS = [
    no_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


class World:
    """The data the fuzzed calls aim at, restored before every case."""

    def __init__(self, app, user, spec, analysis_url):
        self.client = app.test_client()
        self.user = user
        self.spec = spec
        self.analysis_url = analysis_url
        self.run_id = ""
        self.run_name = "fuzz.1"
        self.job_id = str(uuid.uuid4())
        self.secret_deleted = True

    def _call(self, method, path, **kwargs):
        query = {**kwargs.pop("query_string", {}), "access_token": self.user.test_token}
        return self.client.open(path, method=method, query_string=query, **kwargs)

    def ensure(self, db) -> None:
        """The run ``fuzz`` (not deleted) with its files and a job, and the secret."""
        from reana_db.enums import RunStatus
        from reana_db.models import Job, Workflow
        from sqlalchemy import select

        db.expire_all()
        run = db.scalars(
            select(Workflow)
            .where(Workflow.owner_id == self.user.id_, Workflow.name == "fuzz")
            .order_by(Workflow.run_number_major.desc())
            .limit(1)
        ).first()
        if run is None or run.status == RunStatus.deleted:
            created = self._call(
                "POST", "/api/workflows", query_string={"workflow_name": "fuzz"}, json=self.spec
            )
            assert created.status_code == 201, created.get_json()
            run = db.get(Workflow, uuid.UUID(created.get_json()["workflow_id"]))
        self.run_id, self.run_name = str(run.id_), run.full_name
        for name, content in FILES.items():
            if not os.path.isfile(os.path.join(run.workspace_path, name)):
                uploaded = self._call(
                    "POST",
                    f"/api/workflows/{self.run_id}/workspace",
                    query_string={"file_name": name},
                    data=content,
                    content_type="application/octet-stream",
                )
                assert uploaded.status_code == 200, uploaded.get_json()
        job = db.scalars(select(Job).where(Job.workflow_uuid == run.id_).limit(1)).first()
        if job is None:
            job = Job(workflow_uuid=run.id_, job_name="step", logs="a log line\n" * 50)
            db.add(job)
            db.commit()
        self.job_id = str(job.id_)
        if self.secret_deleted:
            self.secret_deleted = False
            self._call(
                "POST", "/api/secrets/", json={SECRET: {"value": "c2VjcmV0", "type": "env"}}
            )

    def aim(self, case, rng: random.Random) -> None:
        """Swap some generated values for real ones (about half of the time each)."""
        case.query = {**(case.query or {}), "access_token": self.user.test_token}
        params = case.path_parameters or {}
        for name in params:
            if rng.random() < 0.4:
                continue
            if name.startswith("workflow_id_or_name"):
                params[name] = rng.choice(["fuzz", self.run_name, self.run_id])
            elif name == "file_name":
                params[name] = rng.choice(FILE_NAMES)
            elif name == "job_id":
                params[name] = self.job_id
            elif name == "interactive_session_type":
                params[name] = "jupyter"
        for name in ("file_name", "source", "target"):
            if name in case.query and rng.random() < 0.6:
                case.query[name] = rng.choice(FILE_NAMES)
        label = case.operation.label
        if label == "POST /api/workflows" and rng.random() < 0.7:
            case.body = self._mutated_spec(case.body, rng)
        elif label == "POST /api/launch" and isinstance(case.body, dict):
            case.body["url"] = self.analysis_url if rng.random() < 0.7 else "not a url"
        elif label == "DELETE /api/secrets/" and rng.random() < 0.5:
            case.body = [SECRET]
            self.secret_deleted = True
        elif label in (
            "POST /api/workflows/{workflow_id_or_name}/start",
            "PUT /api/workflows/{workflow_id_or_name}/status",
        ) and isinstance(case.body, dict) and rng.random() < 0.5:
            generated = case.body.get("reana_specification")
            case.body["reana_specification"] = self._mutated_spec(generated, rng)

    def _mutated_spec(self, generated, rng: random.Random) -> dict:
        """The valid specification with one part replaced by ``generated`` or junk."""
        spec = copy.deepcopy(self.spec)
        spec["workspace"] = {"retention_days": {"**/*.csv": 1}}
        path = rng.choice(SPEC_PARTS)
        target = spec
        for key in path[:-1]:
            if not isinstance(target.get(key), dict):
                target[key] = {}
            target = target[key]
        usable = _is_json(generated) and rng.random() < 0.5
        target[path[-1]] = copy.deepcopy(generated) if usable else rng.choice(JUNK)
        return spec


def _is_json(value) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


@pytest.fixture
def world(app, user, helloworld_spec, tmp_path, database_uri):
    if not database_uri.startswith("sqlite"):
        pytest.skip("fuzzing runs on one database")
    analysis = tmp_path / "analysis"
    analysis.mkdir()
    (analysis / "reana.yaml").write_text(json.dumps(helloworld_spec))
    return World(app, user, helloworld_spec, f"file://{analysis}/reana.yaml")


@pytest.fixture
def served_spec(app, user):
    """Our spec as served by the app."""
    return schemathesis.openapi.from_wsgi(
        "/api/apispec", app, query_string={"access_token": user.test_token}
    )


@pytest.mark.slow
def test_whole_api_conforms_to_its_spec(served_spec, world, server_env):
    failures = []
    operations = [result.ok() for result in served_spec.get_all_operations()]
    assert len(operations) >= 35
    started = time.monotonic()
    statuses: Counter = Counter()
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],  # no shrinking: bounded time
                suppress_health_check=list(HealthCheck),
            )
            def fuzz(case):
                world.ensure(server_env)
                world.aim(case, random.Random(repr((case.path_parameters, case.query))))
                response = case.call_and_validate(checks=CHECKS)
                statuses[response.status_code] += 1

            try:
                fuzz()
            except Unsatisfiable:
                assert mode == GenerationMode.NEGATIVE  # nothing to make invalid: no inputs
            except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - collect them all
                failures.append(f"{operation.label} ({mode.value}): {error}")
    elapsed = time.monotonic() - started
    print(f"{sum(statuses.values())} calls, {len(operations)} operations, {elapsed:.0f} s: "
          f"{dict(sorted(statuses.items()))}")
    assert statuses[200] + statuses[201] > len(operations)  # the real ids were reached
    assert not failures, "\n\n".join(failures)
