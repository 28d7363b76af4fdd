"""A readable HTML page of the OpenAPI (Swagger 2.0) specification, served at ``/api/docs``.

Rendered on the server from the same spec as ``/api/swagger.json``: no JavaScript, no CDN, so
it works offline and behind a firewall.
"""

from __future__ import annotations

import json

from markupsafe import Markup, escape

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
.op { border: 1px solid #ddd; border-radius: 6px; margin: 1em 0; padding: .6em 1em; }
.method { display: inline-block; min-width: 4.5em; font-weight: bold; color: #fff;
          border-radius: 4px; padding: .1em .4em; text-align: center; margin-right: .6em; }
.get { background: #2b7bb9; } .post { background: #2e8540; } .put { background: #c77c02; }
.delete { background: #b52d2d; } .patch { background: #6a4ea1; }
code, pre { font-family: ui-monospace, monospace; } pre { background: #f6f8fa; padding: .5em; }
table { border-collapse: collapse; margin: .4em 0; } td, th { border: 1px solid #ddd;
padding: .2em .5em; text-align: left; vertical-align: top; }
nav a { display: block; font-family: ui-monospace, monospace; }
"""


def _anchor(path: str, method: str) -> str:
    return f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", "")


def _type_of(parameter: dict) -> str:
    if "type" in parameter:
        items = parameter.get("items", {}).get("type")
        return f"{parameter['type']} of {items}" if items else parameter["type"]
    if "schema" in parameter:
        return "JSON body"
    return ""


def _parameters(parameters: list[dict]) -> str:
    if not parameters:
        return ""
    rows = "".join(
        f"<tr><td><code>{escape(p.get('name', ''))}</code></td><td>{escape(p.get('in', ''))}</td>"
        f"<td>{'yes' if p.get('required') else 'no'}</td><td>{escape(_type_of(p))}</td>"
        f"<td>{escape(p.get('description', ''))}</td></tr>"
        for p in parameters)
    return ("<table><tr><th>parameter</th><th>in</th><th>required</th><th>type</th>"
            f"<th>description</th></tr>{rows}</table>")


def _responses(responses: dict) -> str:
    parts = []
    for code, response in sorted(responses.items()):
        schema = response.get("schema")
        body = (f"<details><summary>schema</summary><pre>{escape(json.dumps(schema, indent=1))}"
                "</pre></details>") if schema else ""
        parts.append(f"<li><b>{escape(code)}</b> {escape(response.get('description', ''))}"
                     f"{body}</li>")
    return "<ul>" + "".join(parts) + "</ul>"


def render(spec: dict, spec_url: str = "/api/swagger.json") -> str:
    """The whole page: an index of the operations, then each one with parameters and answers."""
    info = spec.get("info", {})
    operations = [(path, method, op) for path, methods in sorted(spec.get("paths", {}).items())
                  for method, op in methods.items()]
    index = "".join(
        f'<a href="#{_anchor(path, method)}">{method.upper():7} {escape(path)}</a>'
        for path, method, _op in operations)
    sections = "".join(
        f'<div class="op" id="{_anchor(path, method)}">'
        f'<span class="method {method}">{method.upper()}</span><code>{escape(path)}</code>'
        f"<p>{escape(op.get('summary', ''))}</p>"
        f"{_parameters(op.get('parameters', []))}{_responses(op.get('responses', {}))}</div>"
        for path, method, op in operations)
    title = escape(f"{info.get('title', 'API')} {info.get('version', '')}")
    return str(Markup(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
        f"<style>{STYLE}</style></head><body><h1>{title}</h1>"
        f"<p>{escape(info.get('description', ''))}. Authenticate with "
        "<code>?access_token=...</code> or an <code>Authorization: Bearer</code> header. "
        f"The machine-readable specification: <a href='{escape(spec_url)}'>"
        f"{escape(spec_url)}</a>.</p><h2>Operations</h2><nav>{index}</nav>"
        f"<h2>Reference</h2>{sections}</body></html>"))
