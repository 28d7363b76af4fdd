"""Secret commands: secrets-add, secrets-list, secrets-delete."""

from __future__ import annotations

import base64
import os

import click

from reana_client.cli.common import OneOf, access_token_option, api, check_connection, fail
from reana_client.output import message, print_table


def _encode(data: bytes) -> str:
    return base64.b64encode(data).decode("utf-8")


@click.command("secrets-add")
@click.option(
    "--env",
    multiple=True,
    cls=OneOf,
    partner="file",
    help="Secrets to be uploaded from literal string, e.g. PASSWORD=password123",
)
@click.option(
    "--file",
    multiple=True,
    cls=OneOf,
    partner="env",
    type=click.Path(exists=True, file_okay=True, dir_okay=False, readable=True),
    help="Secrets to be uploaded from file (the secret is named after the file).",
)
@click.option(
    "--overwrite", is_flag=True, default=False, help="Overwrite the secret if already present"
)
@access_token_option
@check_connection
def secrets_add(env, file, overwrite, access_token):
    """Add secrets from literal string or from file.

    Examples:

      $ reana-client secrets-add --env PASSWORD=password

      $ reana-client secrets-add --file ~/.keytab

      $ reana-client secrets-add --env USER=reanauser --env PASSWORD=password --overwrite
    """
    from reana_client.api.client import APIError

    secrets = {}
    for literal in env:
        name, sep, value = literal.partition("=")
        if not sep:
            fail(
                f'Option "{literal}" is invalid: \nFor literal strings use '
                '"SECRET_NAME=VALUE" format'
            )
        secrets[name] = {"value": _encode(value.encode("utf-8")), "type": "env"}
    for path in file:
        with open(os.path.expanduser(path), "rb") as handle:
            secrets[os.path.basename(path)] = {"value": _encode(handle.read()), "type": "file"}
    try:
        api().call("add_secrets", secrets=secrets, overwrite=overwrite, access_token=access_token)
    except APIError as error:
        if error.status_code == 409:
            fail(
                "One of the secrets already exists. No secrets were added. If you want to "
                "overwrite it use --overwrite option."
            )
        fail("Something went wrong while uploading secrets")
    message("Secrets {} were successfully uploaded.".format(", ".join(secrets)), "success")


@click.command("secrets-delete")
@access_token_option
@check_connection
@click.argument("secrets", type=str, nargs=-1, required=True)
def secrets_delete(secrets, access_token):
    """Delete user secrets by name.

    Examples:

      $ reana-client secrets-delete PASSWORD
    """
    from reana_client.api.client import APIError

    try:
        deleted = api().call("delete_secrets", secrets=list(secrets), access_token=access_token)
    except APIError as error:
        if error.status_code == 404 and isinstance(error.payload, list):
            fail("Secrets {} do not exist. Nothing was deleted".format(", ".join(error.payload)))
        fail("Something went wrong while deleting secrets")
    message("Secrets {} were successfully deleted.".format(", ".join(deleted)), "success")


@click.command("secrets-list")
@access_token_option
@check_connection
def secrets_list(access_token):
    """List user secrets.

    Examples:

      $ reana-client secrets-list
    """
    from reana_client.api.client import APIError

    try:
        secrets = api().call("get_secrets", access_token=access_token)
    except APIError:
        fail("Something went wrong while listing secrets")
    print_table(["name", "type"], [[str(s["name"]), str(s["type"])] for s in secrets])
