"""The example analysis's reference output digests, shared by the same-result modules.

``examples/resonance-fit/expected-outputs.sha256`` (``sha256sum`` format) holds the SHA-256 of
every output the example declares, for its default parameters. Each backend's module (local
host, podman, Slurm, the Kubernetes double) runs the example and compares its outputs with
these digests, so all of them produce byte-identical results.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "resonance-fit"
EXPECTED = EXAMPLE / "expected-outputs.sha256"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def expected_digests() -> dict[str, str]:
    pairs = (line.split() for line in EXPECTED.read_text().splitlines() if line.strip())
    return {path: digest for digest, path in pairs}


def declared_outputs() -> list[str]:
    spec = yaml.safe_load((EXAMPLE / "reana.yaml").read_text())
    return list(spec["outputs"]["files"])


def check_outputs(root: Path) -> dict[str, str]:
    """Assert every declared output under ``root`` has its reference digest; the digests."""
    expected = expected_digests()
    assert sorted(expected) == sorted(declared_outputs())
    found = {path: sha256(root / path) for path in expected}
    assert found == expected, f"outputs differ from the reference: {found}"
    return found


def check_provenance_outputs(jobs: list[dict], root: Path) -> None:
    """Every declared output is recorded, with its digest, by the job that wrote it last."""
    written: dict[str, str] = {}
    for job in jobs:
        assert job["recorded"] and job["exit_code"] == 0, job
        for output in job["outputs"] or []:
            written[output["path"]] = output["sha256"]
    for path, digest in expected_digests().items():
        assert written.get(path) == digest, (path, written.get(path))


def run_example(platform, tmp_path: Path, prefix: str,
                edit: Callable[[dict], None] | None = None) -> list[dict]:
    """Run the example with the project's client (``edit`` may change its reana.yaml first),
    check its downloaded outputs and their provenance against the reference; its jobs'
    provenance records."""
    work = tmp_path / "resonance-fit"
    shutil.copytree(EXAMPLE, work)
    if edit is not None:
        spec = yaml.safe_load((work / "reana.yaml").read_text())
        edit(spec)
        (work / "reana.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    name = f"{prefix}{uuid.uuid4().hex[:6]}"
    platform.own_client("run", "-w", name, cwd=work)
    body = platform.wait_status(name, seconds=400)
    if body["status"] != "finished":
        logs = platform.own_client("logs", "-w", name, check=False).stdout
        raise AssertionError(f"{name} ended {body['status']}: {body}\n{logs}")
    out = tmp_path / "out"
    platform.own_client("download", "-w", name, "-o", str(out), cwd=work)
    check_outputs(out)
    jobs = json.loads(platform.own_client("provenance", "-w", name, "--json").stdout)["jobs"]
    check_provenance_outputs(jobs, out)
    return jobs
