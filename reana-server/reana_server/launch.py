"""Launching a workflow from a URL: a git repository, a zip archive or a reana.yaml file."""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from urllib.parse import urlparse

from reana_commons.config import Config
from reana_commons.errors import REANAError
from reana_commons.json_input import check_depth, load_json
from reana_commons.specification import load_reana_spec

from reana_server import launch_fetch
from reana_server.errors import BadRequest
from reana_server.launch_guard import LaunchPolicy

SPEC_NAMES = ("reana.yaml", "reana.yml")
MAX_ARCHIVE_MEMBERS = 100_000


def _policy(url: str, config: Config) -> LaunchPolicy:
    """The guard of this deployment; only http(s) URLs (and file URLs where tests allow them)."""
    policy = LaunchPolicy.from_config(config)
    try:
        scheme = urlparse(url).scheme.lower()
    except ValueError as error:  # e.g. an unclosed IPv6 bracket
        raise BadRequest(f"URL {url} is not valid: {error}") from error
    if scheme in ("http", "https") or (scheme == "file" and policy.allow_file_urls):
        return policy
    raise BadRequest(f"URL {url} is not supported: only http and https URLs can be launched.")


def _extract_zip(archive: Path, target: Path, max_bytes: int) -> Path:
    """Extract safely (no absolute names, no ``..``, no links, within the size limit); a single
    top folder is entered."""
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = bundle.infolist()
            if len(members) > MAX_ARCHIVE_MEMBERS or sum(m.file_size for m in members) > max_bytes:
                raise BadRequest(f"The archive is too large: more than {max_bytes} bytes or "
                                 f"{MAX_ARCHIVE_MEMBERS} files once extracted.")
            for member in members:
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


def fetch(url: str, workdir: Path, config: Config) -> Path:
    """Bring the analysis at ``url`` into ``workdir``; returns the analysis directory."""
    policy = _policy(url, config)
    local = urlparse(url).scheme.lower() == "file"
    path = urlparse(url).path.lower()
    analysis = workdir / "analysis"
    analysis.mkdir()
    if path.endswith((".yaml", ".yml", ".zip")):
        target = analysis / Path(urlparse(url).path).name
        if path.endswith(".zip"):
            target = workdir / "download.zip"
        if local:
            shutil.copy(urlparse(url).path, target)
        else:
            launch_fetch.download(url, target, policy)
        return _extract_zip(target, analysis, policy.max_bytes) if path.endswith(".zip") \
            else analysis
    shutil.rmtree(analysis)
    return launch_fetch.clone(url, analysis, policy)


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
        value = load_json(text, "Parameters")  # too deep: a ValueError like invalid JSON
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
