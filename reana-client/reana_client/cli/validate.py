"""The ``validate`` command."""

from __future__ import annotations

import os
import sys

import click

from reana_client.cli.common import MISSING_TOKEN, server_url, spec_file_option
from reana_client.output import message


def _requires_environments(ctx, param, value):
    if value and not ctx.params.get("environments"):
        message(f"`{param.opts[0]}` flag requires `--environments` flag.", "error")
        sys.exit(1)
    return value


@click.command("validate")
@spec_file_option
@click.option(
    "--environments",
    is_flag=True,
    default=False,
    is_eager=True,
    help="If set, check all images in the REANA specification file: tag "
    "(none/latest/master warn) and presence among local podman/docker images.",
)
@click.option(
    "--pull",
    is_flag=True,
    default=False,
    callback=_requires_environments,
    help="Ask for UID/GID checks (needs a pulled image; reported as skipped "
    "offline). Requires ``--environments`` flag.",
)
@click.option(
    "--server-capabilities",
    is_flag=True,
    default=False,
    help="If set, check the server capabilities such as workspace validation.",
)
@click.option(
    "-t",
    "--access-token",
    default=lambda: os.environ.get("REANA_ACCESS_TOKEN"),
    help="Access token of the current user.",
)
def validate(file, environments, pull, server_capabilities, access_token):
    """Validate workflow specification file.

    The ``validate`` command allows to check syntax and validate the reana.yaml
    workflow specification file: JSON schema, input parameters (unused,
    undefined), dangerous commands, and optionally the server's capabilities
    and the container images.

    Examples:

      $ reana-client validate -f reana.yaml

      $ reana-client validate --environments --server-capabilities
    """
    from reana_client.api.client import APIError
    from reana_client.specification import SpecificationError, load
    from reana_client.validation.checks import validate_spec

    if server_capabilities:
        if not access_token:
            message(MISSING_TOKEN, "error")
            sys.exit(1)
        if not server_url():
            message("REANA client is not connected to any REANA cluster.", "error")
            sys.exit(1)
    path = click.format_filename(file)
    try:
        spec = load(path)
        validate_spec(
            spec,
            path,
            access_token=access_token,
            server_capabilities=server_capabilities,
            environments=environments,
            pull=pull,
        )
    except SpecificationError as error:
        message(f"{path} is not a valid REANA specification:\n{error}", "error")
        sys.exit(1)
    except (APIError, OSError) as error:
        message(f"Something went wrong when trying to validate {path}: {error}", "error")
        sys.exit(1)
    except Exception as error:  # noqa: BLE001 - YAML errors and the like
        import logging
        import traceback

        logging.debug(traceback.format_exc())
        if type(error).__module__.startswith("yaml"):
            message(
                f"{click.format_filename(path, shorten=True)} is not a valid YAML file:\n{error}",
                "error",
            )
        else:
            message(f"Something went wrong when trying to validate {path}", "error")
        sys.exit(1)
