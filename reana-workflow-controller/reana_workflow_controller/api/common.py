"""What every handler needs: argument parsing, the session, the owner and the run."""

from __future__ import annotations

from functools import cache

from flask import request
from marshmallow import Schema
from reana_db.database import db_session
from reana_db.models import User, Workflow
from webargs.flaskparser import FlaskParser

from reana_workflow_controller.errors import BadRequest
from reana_workflow_controller.workflows import get_readable_workflow, get_user, get_workflow

_LOCATIONS = ("query", "querystring", "json", "form", "headers", "files", "view_args")


def _first_error(messages) -> str:
    """``Field 'page': Must be greater than or equal to 1.`` from marshmallow's messages."""
    if isinstance(messages, dict) and len(messages) == 1 and next(iter(messages)) in _LOCATIONS:
        messages = next(iter(messages.values()))
    if isinstance(messages, dict) and messages:
        field, errors = next(iter(messages.items()))
        return f"Field '{field}': {_flatten(errors)}"
    return _flatten(messages)


def _flatten(errors) -> str:
    if isinstance(errors, dict):
        return "; ".join(f"{key}: {_flatten(value)}" for key, value in errors.items())
    if isinstance(errors, list):
        return " ".join(_flatten(error) for error in errors)
    return str(errors)


class ArgumentParser(FlaskParser):
    """webargs' Flask parser answering REANA's 400 ``{"message"}`` on invalid input."""

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        raise BadRequest(_first_error(error.normalized_messages()))

    def load_json(self, req, schema):
        if not req.get_data(cache=True):
            return {}
        if not req.is_json:
            raise BadRequest("The request body must be JSON (Content-Type: application/json).")
        try:
            body = req.get_json(silent=False)
        except Exception:  # noqa: BLE001 - werkzeug's BadRequest on invalid JSON
            raise BadRequest("Your request contains not valid JSON.") from None
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object.")
        return body


parser = ArgumentParser()


@cache
def _instance(schema: type[Schema]) -> Schema:
    """One instance per schema class: building a marshmallow schema costs more than loading."""
    return schema()


def query(schema: type[Schema]) -> dict:
    """The query string validated by ``schema``."""
    return parser.parse(_instance(schema), request, location="query")


def json_body(schema: type[Schema]) -> dict:
    """The JSON body validated by ``schema`` (an absent body is ``{}``)."""
    return parser.parse(_instance(schema), request, location="json")


def json_list_body() -> list[str] | None:
    """A JSON array of strings as body (``/logs`` steps), or ``None`` without a body."""
    if not request.get_data(cache=True):
        return None
    try:
        body = request.get_json(force=True, silent=False)
    except Exception:  # noqa: BLE001 - werkzeug's BadRequest on invalid JSON
        raise BadRequest("Your request contains not valid JSON.") from None
    if body is None or body == []:
        return None
    if not isinstance(body, list) or not all(isinstance(item, str) for item in body):
        raise BadRequest("The request body must be a JSON array of step names.")
    return body


def session():
    """The request's database session (committed or rolled back at the end of the request)."""
    return db_session()


def owner(args: dict) -> User:
    """The user named by ``?user=``; unknown → 404."""
    return get_user(session(), args["user"])


def owned_workflow(args: dict, workflow_id_or_name: str) -> tuple[User, Workflow]:
    """The user and their run named in the path; another user's run is never found
    (one shared with the user is refused as read-only)."""
    user = owner(args)
    return user, get_workflow(session(), user, workflow_id_or_name)


def readable_workflow(args: dict, workflow_id_or_name: str) -> tuple[User, Workflow]:
    """The user and the run named in the path, their own or one shared with them (reads)."""
    user = owner(args)
    return user, get_readable_workflow(session(), user, workflow_id_or_name)
