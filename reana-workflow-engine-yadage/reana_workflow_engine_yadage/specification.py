"""Loading and validating the yadage workflow, with messages a researcher can act on.

yadage's own loader logs a traceback and raises a bare ``RuntimeError`` for a
missing file, and a schema error's text is the whole offending stage; here the
workflow is loaded first, so the run fails with "Yadage workflow file X ..." and
the schema error the author can act on (its message and where in the file it is).
"""

from __future__ import annotations

import copy
import logging
import os

import jsonschema
import yadage.workflow_loader as workflow_loader
import yaml
from yadageschemas.dialects.raw_with_defaults import extend_with_defaults

SCHEMA_NAME = "yadage/workflow-schema"
MESSAGE_LIMIT = 400
_CHOICES = ("oneOf", "anyOf")
_DISCRIMINATORS = ("enum", "const")


class WorkflowLoadError(ValueError):
    """The yadage workflow could not be loaded or is invalid (the message says why)."""


def _where(error: jsonschema.ValidationError) -> str:
    return "/".join(str(part) for part in error.absolute_path)


def specific_error(error: jsonschema.ValidationError) -> tuple[str, str]:
    """``(message, path)`` of what is really wrong under ``error``.

    yadage's schema is a tree of ``oneOf`` choices keyed by a type field
    (``scheduler_type``, ``process_type``, ...), so a mistake surfaces as "... is
    not valid under any of the given schemas" at the stage. The alternative whose
    type field matched is the one the author meant: descend into it. When no
    alternative's type matched, the type field itself is wrong: list the choices.
    """
    if error.validator not in _CHOICES or not error.context:
        return error.message, _where(error)
    alternatives: dict[int, list] = {}
    for sub in error.context:
        alternatives.setdefault(sub.relative_schema_path[0], []).append(sub)
    def mismatched(sub) -> bool:  # the alternative's type field, or its very type, differs
        return sub.validator in _DISCRIMINATORS or (
            sub.validator == "type" and _where(sub) == _where(error))

    meant = [errors for errors in alternatives.values() if not any(map(mismatched, errors))]
    if meant:
        chosen = min(meant, key=len)
        return specific_error(max(chosen, key=lambda e: len(e.absolute_path)))
    discriminators = [e for errors in alternatives.values() for e in errors
                      if e.validator == "enum"]
    if discriminators:
        first = max(discriminators, key=lambda e: len(e.absolute_path))
        choices = sorted({str(choice) for e in discriminators
                          if _where(e) == _where(first) for choice in e.validator_value})
        return f"{first.instance!r} is not one of {', '.join(choices)}", _where(first)
    return error.message, _where(error)


def describe_schema_error(error: jsonschema.ValidationError) -> str:
    """``<message> (at stages/0/scheduler/...)``, shortened to a readable length."""
    message, where = specific_error(error)
    if len(message) > MESSAGE_LIMIT:
        message = message[:MESSAGE_LIMIT] + "..."
    return f"{message} (at {where})" if where else message


class _LoadErrors(logging.Handler):
    """Keeps what yadage-schemas logs while loading (it logs the URI it could not read)."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def load_workflow(workflow_file: str, toplevel: str, workspace: str) -> dict:
    """The workflow in ``workflow_file`` (relative to ``toplevel``), validated."""
    local = not toplevel.startswith(("github:", "gitlab-cern:", "http://", "https://"))
    if local and not os.path.isfile(os.path.join(toplevel, workflow_file)):
        shown = os.path.relpath(os.path.join(toplevel, workflow_file), workspace)
        raise WorkflowLoadError(f"Yadage workflow file {shown} does not exist.")
    errors = _LoadErrors()
    loader_log = logging.getLogger("yadageschemas")
    loader_log.addHandler(errors)
    propagate, loader_log.propagate = loader_log.propagate, False  # no traceback on stderr
    try:
        return workflow_loader.workflow(workflow_file, toplevel=toplevel)
    except jsonschema.ValidationError as error:
        raise WorkflowLoadError(
            f"Yadage workflow file {workflow_file} is invalid: {describe_schema_error(error)}"
        ) from error
    except yaml.YAMLError as error:
        raise WorkflowLoadError(
            f"Yadage workflow file {workflow_file} is not valid YAML: {error}") from error
    except (TypeError, KeyError, AttributeError) as error:
        # yadage-schemas fills defaults before it validates, and trips over a stage that
        # does not have the expected shape at all (a number where a mapping belongs).
        raise WorkflowLoadError(
            f"Yadage workflow file {workflow_file} is invalid: a stage or one of its parts "
            f"does not have yadage's structure ({type(error).__name__}: {error})") from error
    except Exception as error:  # noqa: BLE001 - the loader raises bare RuntimeErrors
        detail = "; ".join(errors.messages) or str(error) or type(error).__name__
        raise WorkflowLoadError(
            f"Yadage workflow file {workflow_file} could not be loaded: {detail}") from error
    finally:
        loader_log.removeHandler(errors)
        loader_log.propagate = propagate


def validate_workflow(workflow: dict) -> dict:
    """A workflow given as JSON (``--workflow-json``), validated like a loaded one."""
    if not isinstance(workflow, dict) or "stages" not in workflow:
        raise WorkflowLoadError("The yadage workflow specification has no stages.")
    workflow = copy.deepcopy(workflow)
    try:
        extend_with_defaults(workflow, SCHEMA_NAME, None)  # as the file loader does
        workflow_loader.validate(workflow)
    except jsonschema.ValidationError as error:
        raise WorkflowLoadError(
            f"The yadage workflow specification is invalid: {describe_schema_error(error)}"
        ) from error
    return workflow
