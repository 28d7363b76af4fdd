"""What a run asks Snakemake to do: Snakefile, config, targets, parallelism, report.

- The Snakefile is ``--workflow-file`` (``workflow.file`` of reana.yaml), in the workspace.
- The parameters are Snakemake's config. reana-client sends the content of the
  ``inputs.parameters.input`` YAML file as the parameters; when the parameters
  still name that file (``input: config.yaml``, as REST users may send them), the
  file is the config file and the other parameters override its keys. ``-p``
  parameters always override config keys, single-letter ones included (they are
  passed as a mapping, not through Snakemake's ``--config k=v`` parser).
- Jobs that Snakemake runs itself (``run:``/``script:`` rules: ``python -m snakemake``
  in the job) read the same config from ``.snakemake/reana-parameters.json``, written
  by :func:`parameters_file` (Snakemake's ``--config k=v`` would refuse single letters).
- Operational options: ``TARGET`` (REANA's name; a rule or a file, several
  separated by commas), ``jobs`` (jobs running at once, default
  ``SNAKEMAKE_MAX_PARALLEL_JOBS`` or 300 as in REANA) and ``report`` (the HTML
  report Snakemake writes into the workspace when the run finished: as with
  REANA, ``report.html`` unless the option names another file; ``report=off``
  writes none).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from reana_commons.errors import WorkspacePathError
from reana_commons.workspace.paths import resolve

DEFAULT_SNAKEFILE = "Snakefile"
DEFAULT_REPORT = "report.html"
DEFAULT_MAX_PARALLEL_JOBS = 300
CONFIG_FILE_PARAMETER = "input"
CONFIG_FILE_SUFFIXES = (".yaml", ".yml", ".json")
PARAMETERS_FILE = ".snakemake/reana-parameters.json"


class InvalidInputs(ValueError):
    """The run's Snakefile, parameters or operational options cannot be used."""


@dataclass(frozen=True)
class WorkflowInputs:
    """Everything the engine hands to Snakemake for one run."""

    workspace: Path
    snakefile: Path
    config: dict = field(default_factory=dict)
    configfiles: tuple[Path, ...] = ()
    targets: frozenset[str] = frozenset()
    jobs: int = DEFAULT_MAX_PARALLEL_JOBS
    report: Path | None = None


def _in_workspace(workspace: Path, user_path: str, what: str, must_exist: bool) -> Path:
    try:
        return resolve(workspace, str(user_path), must_exist=must_exist)
    except WorkspacePathError as error:
        raise InvalidInputs(f"{what} {user_path!r}: {error}") from None
    except Exception:  # noqa: BLE001 - WorkspaceFileNotFound and friends
        raise InvalidInputs(f"{what} {user_path} does not exist in the workspace.") from None


def _config(workspace: Path, parameters: dict) -> tuple[dict, tuple[Path, ...]]:
    config = dict(parameters or {})
    named = config.get(CONFIG_FILE_PARAMETER)
    if isinstance(named, str) and named.lower().endswith(CONFIG_FILE_SUFFIXES):
        path = _in_workspace(workspace, named, "Config file", must_exist=False)
        if path.is_file():
            del config[CONFIG_FILE_PARAMETER]
            return config, (path,)
    return config, ()


def _targets(options_value) -> frozenset[str]:
    if options_value in (None, ""):
        return frozenset()
    values = options_value if isinstance(options_value, list) else str(options_value).split(",")
    return frozenset(value.strip() for value in map(str, values) if value.strip())


def _jobs(value) -> int:
    if value in (None, ""):
        value = os.environ.get("SNAKEMAKE_MAX_PARALLEL_JOBS") or DEFAULT_MAX_PARALLEL_JOBS
    try:
        jobs = int(str(value))
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise InvalidInputs(f"Operational option jobs must be a positive integer, not {value!r}.")
    return jobs


def _report(workspace: Path, value) -> Path | None:
    if value is False or str(value).lower() in ("false", "no", "off", "0"):
        return None
    name = DEFAULT_REPORT if value in (None, "", True) or str(value).lower() in (
        "true", "yes", "on") else str(value)
    if not name.endswith((".html", ".zip")):
        raise InvalidInputs(f"Operational option report must name an .html or .zip file, "
                            f"not {name!r}.")
    return _in_workspace(workspace, name, "Report", must_exist=False)


def workflow_inputs(run) -> WorkflowInputs:
    """The :class:`WorkflowInputs` of engine run ``run``; :class:`InvalidInputs` if unusable."""
    workspace = Path(run.workspace)
    snakefile = _in_workspace(workspace, run.workflow_file or DEFAULT_SNAKEFILE, "Snakefile",
                              must_exist=True)
    config, configfiles = _config(workspace, run.parameters)
    return WorkflowInputs(
        workspace=workspace,
        snakefile=snakefile,
        config=config,
        configfiles=configfiles,
        targets=_targets(run.option("targets", run.option("TARGET"))),
        jobs=_jobs(run.option("jobs")),
        report=_report(workspace, run.option("report")),
    )


def parameters_file(inputs: WorkflowInputs) -> Path | None:
    """The run's parameters as a config file of the workspace (for jobs that are Snakemake
    itself), or None without parameters; rewritten by every run of the workspace."""
    if not inputs.config:
        return None
    path = inputs.workspace / PARAMETERS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".part")
    temporary.write_text(json.dumps(inputs.config, indent=1, default=str))
    temporary.replace(path)
    return path
