"""Terminal output: messages, tables, ``--json`` and ``--format`` as in reana-client 0.9.6."""

from __future__ import annotations

import json
import shlex

import click

COLOURS = {"success": "green", "warning": "yellow", "error": "red", "info": "cyan"}
JOB_STATUS_COLOURS = {"failed": "red", "finished": "green", "running": "bright_blue"}
HEALTH_COLOURS = {"healthy": "green", "warning": "yellow", "critical": "red"}


def message(text, kind: str | None = None, indented: bool = False) -> None:
    """Print ``==> KIND: text`` (errors on stderr), or ``text`` alone without a kind."""
    if kind == "info":
        if indented:
            click.secho("  -> INFO: ", bold=True, nl=False, fg=COLOURS["info"])
            click.secho(str(text))
        else:
            click.secho("==> ", bold=True, nl=False)
            click.secho(str(text), bold=True)
    elif kind in ("error", "warning", "success"):
        prefix = ("  -> {}: " if indented else "==> {}: ").format(kind.upper())
        err = kind == "error"
        click.secho(prefix, bold=True, nl=False, err=err, fg=COLOURS[kind])
        click.secho(str(text), err=err)
    else:
        click.secho(str(text))


def print_table(headers: list[str], rows: list[list], colours: list | None = None) -> None:
    """Columns left-aligned, three spaces apart, upper-case headers."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, value in enumerate(row[: len(headers)]):
            widths[i] = max(widths[i], len(str(value)))
    line = "   ".join(f"{{:<{w}}}" for w in widths)
    click.echo(line.format(*[h.upper() for h in headers]))
    colours = colours if colours and len(colours) == len(rows) else None
    for i, row in enumerate(rows):
        click.secho(line.format(*row[: len(headers)]), fg=colours[i] if colours else None)


def parse_format(format_options) -> list[tuple[str, str | None]]:
    """``--format name,status=finished`` → ``[("name", None), ("status", "finished")]``."""
    columns = []
    for item in shlex.split(" ".join(format_options).replace(",", " ")):
        name, sep, value = item.partition("=")
        columns.append((name.lower(), value.split("=")[0] if sep else None))
    return columns


def display_formatted_output(rows, headers, format_options, output_format) -> None:
    """Print rows as a table or JSON, reduced to the ``--format`` columns and values."""
    records = [dict(zip(headers, row, strict=False)) for row in rows]
    if format_options:
        wanted = [(c, v) for c, v in parse_format(format_options) if c in headers]
        columns = [c for c, _ in wanted] or list(headers)
        selected = []
        for record in records:
            if any(v is not None and v != record[c] for c, v in wanted):
                continue
            selected.append({c: record[c] for c in columns})
        if output_format == "json":
            message(json.dumps(selected))
        else:
            print_table(columns, [list(r.values()) for r in selected])
        return
    if output_format == "json":
        message(json.dumps(records))
    else:
        print_table(headers, rows)


def format_progress(progress: dict | None) -> str:
    """``finished/total`` jobs, with ``-`` for zero or unknown (``list``)."""
    progress = progress or {}
    total = (progress.get("total") or {}).get("total") or "-"
    finished = (progress.get("finished") or {}).get("total") or "-"
    return f"{finished}/{total}"
