"""The layering issue 13 asked for, checked on the source so it cannot come back silently.

* one error base: every exception of the services that carries an HTTP status derives
  from ``REANAError``, which each Flask app maps with one handler (point 7);
* no import cycle among a service's own modules, deferred imports included (point 7: the
  old ``reana_server.spec -> api -> spec``, hidden in a function);
* the workflow controller writes no job rows itself: those are the job controller's, and
  runs that end fail theirs through ``reana_db.status.abandon_jobs`` (point 6);
* every method of the workflow controller's client has a caller (point 7: dead methods);
* every ADR's heading carries its file's number (point 7: ADR 0005 said 0003).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest
from reana_commons.errors import REANAError

ROOT = Path(__file__).resolve().parents[1]
SERVICES = {
    "reana_commons": ROOT / "reana-commons/reana_commons",
    "reana_db": ROOT / "reana-db/reana_db",
    "reana_server": ROOT / "reana-server/reana_server",
    "reana_workflow_controller": ROOT / "reana-workflow-controller/reana_workflow_controller",
    "reana_job_controller": ROOT / "reana-job-controller/reana_job_controller",
}


def _modules(package: str) -> dict[str, Path]:
    root = SERVICES[package]
    found = {}
    for path in root.rglob("*.py"):
        if "alembic" in path.parts:
            continue
        relative = path.relative_to(root.parent).with_suffix("")
        parts = list(relative.parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's own modules that ``name`` imports anywhere (also inside functions:
    a deferred import hides a cycle from Python, not from the design), with the packages
    an import passes through (importing ``a.b.c`` runs ``a/b/__init__.py``)."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            imported.add(base)
            imported.update(f"{base}.{alias.name}" for alias in node.names)
    passed = {".".join(m.split(".")[:i]) for m in imported for i in range(2, m.count(".") + 1)}
    return {module for module in imported | passed if module in known and module != name}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def connect(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


@pytest.mark.parametrize("package", sorted(SERVICES))
def test_no_import_cycle_among_a_service_s_modules(package):
    modules = _modules(package)
    known = set(modules)
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        for target in _imports(name, path, known):
            # Importing a.b.c imports a and a.b first: a package face is part of the edge.
            graph[name].add(target)
    # A package's __init__ importing its own submodules is how a face works, not a cycle.
    for name in graph:
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".")}
    assert _cycles(graph) == []


def test_the_cycle_check_sees_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _service_exceptions():
    for package in SERVICES:
        for info in pkgutil.walk_packages([str(SERVICES[package])], prefix=package + "."):
            if ".alembic" in info.name or info.name.endswith("__main__"):
                continue
            module = importlib.import_module(info.name)
            for _, value in inspect.getmembers(module, inspect.isclass):
                if issubclass(value, BaseException) and value.__module__ == info.name:
                    yield value


def test_every_error_with_an_http_status_derives_from_the_one_base():
    with_status = [error for error in _service_exceptions() if hasattr(error, "status_code")]
    assert len(with_status) > 10
    strays = [f"{e.__module__}.{e.__qualname__}" for e in with_status
              if not issubclass(e, REANAError)]
    assert strays == []


def _apps():
    from reana_job_controller.app import create_app as job_controller_app
    from reana_server.app import create_app as server_app
    from reana_workflow_controller.app import create_app as controller_app

    yield server_app()
    yield controller_app()
    yield job_controller_app(controller=None, token="t")


def test_every_service_maps_the_base_with_one_handler(reana_env):
    """Any ``REANAError`` becomes ``{"message": ...}`` with its own status, in every service."""

    class Teapot(REANAError):
        status_code = 418

    for app in _apps():
        handler = app.error_handler_spec[None][None][REANAError]
        with app.test_request_context():
            response = app.make_response(handler(Teapot("short and stout")))
        assert (response.status_code, response.get_json()) == (418, {"message": "short and stout"})


def test_the_workflow_controller_writes_no_job_rows():
    """Job rows are the job controller's; the workflow controller may read them (its answers,
    its metrics) and ends them only through ``reana_db.status.abandon_jobs``."""
    readers = []
    for name, path in _modules("reana_workflow_controller").items():
        source = path.read_text()
        tree = ast.parse(source)
        imports_job = any(isinstance(node, ast.ImportFrom) and node.module == "reana_db.models"
                          and any(alias.name == "Job" for alias in node.names)
                          for node in ast.walk(tree))
        assert "set_job_status" not in source, name
        if not imports_job:
            continue
        readers.append(name)
        calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
        assert not [c for c in calls if ast.unparse(c.func) in ("Job", "update", "insert",
                                                                 "delete")
                    and (ast.unparse(c.func) == "Job" or "Job" in ast.unparse(c.args[:1]))], name
        assert not re.search(r"\bjob\w*\.(status|logs|exit_code|finished_at)\s*=", source), name
    assert readers  # the check looks at something


def test_every_method_of_the_controller_client_has_a_caller():
    from reana_commons.api_clients import WorkflowControllerClient

    methods = [name for name, _ in inspect.getmembers(WorkflowControllerClient,
                                                       inspect.isfunction)
               if not name.startswith("_") and name != "request"]
    callers = "\n".join(path.read_text() for path in ROOT.glob("reana-*/reana_*/**/*.py")
                        if path.name != "api_clients.py")
    unused = [name for name in methods if not re.search(rf"\.{name}\(", callers)]
    assert methods and unused == []


def test_every_adr_heading_carries_its_number():
    adrs = sorted((ROOT / "docs/adr").glob("[0-9][0-9][0-9][0-9]-*.md"))
    assert len(adrs) > 10
    wrong = [adr.name for adr in adrs
             if not adr.read_text().lstrip().startswith(f"# {adr.name[:4]} ")]
    assert wrong == []


@pytest.mark.parametrize("name", ["WORKFLOW_TYPES", "validate_workflow_name",
                                  "validate_run_request", "REANAError"])
def test_each_decision_is_defined_once(name):
    """Point 1: the workflow-type table, the name rule, the creation check and the error base
    each have one definition across every component (they were copied two or three times)."""
    definitions = []
    for path in ROOT.glob("reana-*/reana_*/**/*.py"):
        for node in ast.parse(path.read_text()).body:
            targets = [node.name] if isinstance(node, (ast.FunctionDef, ast.ClassDef)) else [
                t.id for t in getattr(node, "targets", [getattr(node, "target", None)])
                if isinstance(t, ast.Name)]
            if name in targets:
                definitions.append(str(path.relative_to(ROOT)))
    assert len(definitions) == 1, definitions
