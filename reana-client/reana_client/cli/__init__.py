"""The ``reana-client`` command group; subcommands are imported only when used."""

from __future__ import annotations

import difflib
import importlib

import click

# command name -> (module under reana_client.cli, function name, section)
COMMANDS = {
    "ping": ("meta", "ping", "Configuration commands"),
    "info": ("meta", "info", "Configuration commands"),
    "version": ("meta", "version", "Configuration commands"),
    "quota-show": ("meta", "quota_show", "Quota commands"),
    "list": ("workflows", "workflows_list", "Workflow management commands"),
    "create": ("workflows", "create", "Workflow management commands"),
    "delete": ("workflows", "delete", "Workflow management commands"),
    "diff": ("diff", "diff", "Workflow management commands"),
    "open": ("sessions", "open_session", "Interactive sessions commands"),
    "close": ("sessions", "close_session", "Interactive sessions commands"),
    "start": ("execution", "start", "Workflow execution commands"),
    "restart": ("execution", "restart", "Workflow execution commands"),
    "run": ("execution", "run", "Workflow execution commands"),
    "status": ("execution", "status", "Workflow execution commands"),
    "logs": ("logs", "logs", "Workflow execution commands"),
    "stop": ("execution", "stop", "Workflow execution commands"),
    "validate": ("validate", "validate", "Workflow management commands"),
    "provenance": ("provenance", "provenance", "Workflow management commands"),
    "export": ("provenance", "export", "Workflow management commands"),
    "test": ("testing", "test", "Workflow execution commands"),
    "upload": ("transfers", "upload", "Workspace file management commands"),
    "download": ("transfers", "download", "Workspace file management commands"),
    "ls": ("files", "ls", "Workspace file management commands"),
    "du": ("files", "du", "Workspace file management commands"),
    "mv": ("files", "mv", "Workspace file management commands"),
    "rm": ("files", "rm", "Workspace file management commands"),
    "prune": ("files", "prune", "Workspace file management commands"),
    "retention-rules-list": (
        "sessions",
        "retention_rules_list",
        "Workspace file retention commands",
    ),
    "share-add": ("sharing", "share_add", "Workflow sharing commands"),
    "share-remove": ("sharing", "share_remove", "Workflow sharing commands"),
    "share-status": ("sharing", "share_status", "Workflow sharing commands"),
    "secrets-add": ("secrets", "secrets_add", "Secret management commands"),
    "secrets-list": ("secrets", "secrets_list", "Secret management commands"),
    "secrets-delete": ("secrets", "secrets_delete", "Secret management commands"),
}

SECTIONS = [
    "Configuration commands",
    "Workflow management commands",
    "Workflow execution commands",
    "Workflow sharing commands",
    "Workspace interactive commands",
    "Interactive sessions commands",
    "Workspace file management commands",
    "Workspace file retention commands",
    "Secret management commands",
    "Quota commands",
]


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when it is invoked or listed."""

    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, cmd_name):
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(f"reana_client.cli.{entry[0]}")
        return getattr(module, entry[1])

    def resolve_command(self, ctx, args):
        """As click's, but a mistyped command gets the closest ones suggested."""
        name = click.utils.make_str(args[0]) if args else ""
        if name and not name.startswith("-") and name not in COMMANDS:
            close = difflib.get_close_matches(name, sorted(COMMANDS), n=1, cutoff=0.6)
            if close:
                ctx.fail(f"No such command '{name}'. Did you mean '{close[0]}'?")
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx, formatter):
        for section in SECTIONS:
            rows = []
            for name in sorted(COMMANDS):
                if COMMANDS[name][2] != section:
                    continue
                command = self.get_command(ctx, name)
                # The whole first sentence: click's default cuts it at the terminal width.
                rows.append((name, command.get_short_help_str(limit=500)))
            if rows:
                with formatter.section(section):
                    formatter.write_dl(rows)


@click.group(
    cls=LazyGroup,
    help="""REANA client for interacting with REANA server.

\b
Environment:
  REANA_SERVER_URL    the server to talk to
  REANA_ACCESS_TOKEN  your access token (default of -t/--access-token)
  REANA_WORKON        default workflow (default of -w/--workflow)

\b
Shell completion (click's own), e.g. for bash add to ~/.bashrc:
  eval "$(_REANA_CLIENT_COMPLETE=bash_source reana-client)"
for zsh (~/.zshrc): eval "$(_REANA_CLIENT_COMPLETE=zsh_source reana-client)"
for fish: _REANA_CLIENT_COMPLETE=fish_source reana-client \\
  > ~/.config/fish/completions/reana-client.fish

\b
Example:
  $ reana-client ping""",
)
@click.option(
    "-l",
    "--loglevel",
    default="WARNING",
    type=click.Choice(["DEBUG", "INFO", "WARNING"]),
    help="Sets log level",
)
@click.pass_context
def cli(ctx, loglevel):
    """REANA client for interacting with REANA server."""
    if loglevel != "WARNING":  # importing logging costs startup time; only when asked
        import logging

        logging.basicConfig(format="[%(levelname)s] %(message)s", level=loglevel)
        for handler in logging.getLogger().handlers:
            handler.addFilter(_hide_tokens)


def _hide_tokens(record) -> bool:
    """A log filter: access tokens (query strings, bearer headers) become ``***``."""
    import re

    text = record.getMessage()
    hidden = re.sub(r"(access_token=)[^&\s\"']+", r"\1***", text)
    hidden = re.sub(r"(Bearer\s+)[^\s\"']+", r"\1***", hidden)
    if hidden != text:
        record.msg, record.args = hidden, ()
    return True
