"""Launching a workflow from a URL: a git repository, a zip archive or a reana.yaml file."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path
from urllib.parse import urlparse

import requests
from reana_commons.config import Config
from reana_commons.errors import REANAError, REANAValidationError
from reana_commons.json_input import check_depth, load_json
from reana_commons.specification import load_reana_spec

from reana_server.errors import BadRequest

MAX_DOWNLOAD_BYTES = 1024**3
FETCH_TIMEOUT = 60
SPEC_NAMES = ("reana.yaml", "reana.yml")


def _allowed(url: str, config: Config) -> str:
    scheme = urlparse(url).scheme.lower()
    if scheme in ("http", "https"):
        return scheme
    if scheme == "file" and (config.extra or {}).get("launch_allow_file_urls"):
        return scheme
    raise BadRequest(f"URL {url} is not supported: only http and https URLs can be launched.")


def _download(url: str, target: Path) -> str:
    """Stream ``url`` into ``target``; returns the response's content type."""
    try:
        with requests.get(url, stream=True, timeout=FETCH_TIMEOUT) as response:
            if response.status_code != 200:
                raise BadRequest(f"Cannot fetch {url}: HTTP {response.status_code}.")
            size = 0
            with open(target, "wb") as out:
                for chunk in response.iter_content(1024 * 1024):
                    size += len(chunk)
                    if size > MAX_DOWNLOAD_BYTES:
                        raise BadRequest(f"Cannot fetch {url}: it is larger than 1 GiB.")
                    out.write(chunk)
            return response.headers.get("Content-Type", "")
    except requests.RequestException as error:
        raise BadRequest(f"Cannot fetch {url}: {error}") from error


def _extract_zip(archive: Path, target: Path) -> Path:
    """Extract safely (no absolute names, no ``..``, no links); a single top folder is entered."""
    try:
        with zipfile.ZipFile(archive) as bundle:
            for member in bundle.infolist():
                parts = Path(member.filename).parts
                if member.filename.startswith("/") or ".." in parts:
                    raise BadRequest(f"Archive member {member.filename} is not allowed.")
                if (member.external_attr >> 16) & 0o170000 == 0o120000:
                    continue
                bundle.extract(member, target)
    except zipfile.BadZipFile as error:
        raise BadRequest(f"The archive could not be read: {error}") from error
    entries = [p for p in target.iterdir() if p.name != "__MACOSX"]
    if len(entries) == 1 and entries[0].is_dir() and not _find_spec(target, None, quiet=True):
        return entries[0]
    return target


def _clone(url: str, target: Path) -> Path:
    try:
        subprocess.run(
            ["git", "clone", "--depth", "1", "--quiet", "--", url, str(target)],
            check=True,
            capture_output=True,
            timeout=FETCH_TIMEOUT * 5,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )
    except subprocess.CalledProcessError as error:
        message = error.stderr.decode(errors="replace").strip()
        raise BadRequest(f"Cannot clone {url}: {message}") from error
    except subprocess.TimeoutExpired as error:
        raise BadRequest(f"Cannot clone {url}: timed out.") from error
    return target


def fetch(url: str, workdir: Path, config: Config) -> Path:
    """Bring the analysis at ``url`` into ``workdir``; returns the analysis directory."""
    scheme = _allowed(url, config)
    path = urlparse(url).path.lower()
    analysis = workdir / "analysis"
    analysis.mkdir()
    if path.endswith((".yaml", ".yml")):
        name = Path(urlparse(url).path).name
        _download(url, analysis / name) if scheme != "file" else shutil.copy(
            urlparse(url).path, analysis / name
        )
        return analysis
    if path.endswith(".zip"):
        archive = workdir / "download.zip"
        if scheme == "file":
            shutil.copy(urlparse(url).path, archive)
        else:
            _download(url, archive)
        return _extract_zip(archive, analysis)
    shutil.rmtree(analysis)
    return _clone(url, analysis)


def _find_spec(directory: Path, name: str | None, quiet: bool = False) -> Path | None:
    candidates = [name] if name else list(SPEC_NAMES)
    for candidate in candidates:
        if candidate is None:
            continue
        path = (directory / candidate).resolve()
        if path.is_file() and path.is_relative_to(directory.resolve()):
            return path
    if not quiet:
        wanted = name or " or ".join(SPEC_NAMES)
        raise BadRequest(f"The analysis does not contain a specification file {wanted}.")
    return None


def load_spec(directory: Path, name: str | None) -> tuple[Path, dict]:
    """The reana.yaml of the analysis, loaded (the workflow file is read for file-based types)."""
    spec_path = _find_spec(directory, name)
    try:
        spec = check_depth(
            load_reana_spec(str(spec_path), workspace_path=str(directory)), "The specification"
        )
    except (REANAError, ValueError, OSError, RecursionError) as error:
        raise BadRequest(f"The specification {spec_path.name} is not valid: {error}") from error
    if not isinstance(spec, dict):
        raise BadRequest(f"The specification {spec_path.name} is not valid.")
    return spec_path, spec


def parse_parameters(text: str | None) -> dict:
    """The ``parameters`` of a launch: a JSON object given as a string."""
    if not text:
        return {}
    try:
        value = load_json(text, "Parameters")
    except REANAValidationError as error:
        raise BadRequest(error.message) from error
    except ValueError as error:
        raise BadRequest("Parameters must be a JSON object.") from error
    if not isinstance(value, dict):
        raise BadRequest("Parameters must be a JSON object.")
    return {str(k): v for k, v in value.items()}


def analysis_files(directory: Path):
    """Regular files of the analysis to upload, ``.git`` excluded, as (relative name, path)."""
    for root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if d != ".git" and not Path(root, d).is_symlink()]
        for name in files:
            path = Path(root, name)
            if path.is_symlink() or not path.is_file():
                continue
            yield path.relative_to(directory).as_posix(), path


def workflow_name_from(url: str, name: str | None) -> str:
    """The launch name, or one derived from the URL (its last path component)."""
    if name:
        return name
    base = Path(urlparse(url).path.rstrip("/")).name or "workflow"
    for suffix in (".zip", ".yaml", ".yml", ".git"):
        base = base.removesuffix(suffix)
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in base) or "workflow"


def temporary_directory():
    """Where a launch fetches its analysis (removed afterwards)."""
    return tempfile.TemporaryDirectory(prefix="reana-launch-")
