"""Validating RO-Crates offline with ``rocrate-validator`` (PyPI ``roc-validator``).

The validator fetches the crate's JSON-LD context (``https://w3id.org/ro/crate/1.1/context``)
over HTTP through a ``requests_cache`` SQLite cache. Test machines have no network, so
:func:`fill_cache` stores, for that address, the RO-Crate context that the PyPI ``rocrate``
package ships (``rocrate/data/ro-crate.jsonld``, the 1.3 context: every 1.1 term is in it),
and :func:`validate` runs ``rocrate-validator validate --offline --cache-path <cache>``: a
request the cache cannot answer fails instead of reaching the network.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

CONTEXT_URLS = (
    "https://w3id.org/ro/crate/1.1/context",
)
PROFILE = "provenance-run-crate-0.5"


def shipped_context() -> bytes:
    """The RO-Crate JSON-LD context document shipped in the ``rocrate`` package."""
    return resources.files("rocrate").joinpath("data/ro-crate.jsonld").read_bytes()


def fill_cache(cache_path: Path) -> Path:
    """Store the shipped context in the validator's HTTP cache at ``cache_path`` (a name:
    requests_cache adds ``.sqlite``); returns ``cache_path``."""
    import requests
    import urllib3
    from requests_cache import CachedSession

    body = shipped_context()
    json.loads(body)  # a broken package must fail here, not inside the validator
    session = CachedSession(cache_name=str(cache_path), backend="sqlite", expire_after=-1,
                            allowable_methods=("GET",), allowable_codes=(200, 302, 404))
    try:
        for url in CONTEXT_URLS:
            request = requests.Request("GET", url, headers={
                "Accept": "application/ld+json, application/json"}).prepare()
            headers = {"Content-Type": "application/ld+json"}
            response = requests.Response()
            response.raw = urllib3.HTTPResponse(body=io.BytesIO(body), headers=headers,
                                                status=200, preload_content=False,
                                                request_url=url)
            response.status_code = 200
            response._content = body
            response.url = url
            response.request = request
            response.headers.update(headers)
            response.encoding = "utf-8"
            session.cache.save_response(response)
    finally:
        session.close()
    return cache_path


def validator_command() -> list[str]:
    """``rocrate-validator`` beside this interpreter (the venv's), else on PATH."""
    beside = Path(sys.executable).with_name("rocrate-validator")
    found = str(beside) if beside.exists() else shutil.which("rocrate-validator")
    if not found:
        raise FileNotFoundError("rocrate-validator is not installed (pip install roc-validator)")
    return [found]


def validate(crate: Path, cache_path: Path, profile: str = PROFILE) -> tuple[bool, str]:
    """Validate ``crate`` (a directory or a zip) at the REQUIRED level, offline.

    Returns ``(passed, the validator's text report)``; the text report (its JSON one fails on
    zips in roc-validator 0.13) ends with ``[OK] RO-Crate is a valid <profile>``.
    """
    completed = subprocess.run(
        [*validator_command(), "-y", "--disable-color", "validate", "-p", profile,
         "-l", "required", "--offline", "--cache-path", str(cache_path), "--no-paging",
         "--verbose", str(crate)],
        capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "COLUMNS": "200"})
    output = completed.stdout + completed.stderr
    passed = completed.returncode == 0 and f"[OK] RO-Crate is a valid {profile}" in output
    return passed, output
