"""The default ``reana-client list`` fetches the runs page by page and prints each page."""

from __future__ import annotations

from click.testing import CliRunner
from reana_client.cli import workflows


class _Api:
    """Answers ``get_workflows`` from a list of runs, as the server pages it."""

    def __init__(self, runs):
        self.runs = runs
        self.pages = []

    def call(self, operation, **query):
        assert operation == "get_workflows"
        self.pages.append((query["page"], query["size"]))
        start = (query["page"] - 1) * query["size"]
        return {"items": self.runs[start:start + query["size"]], "total": len(self.runs)}


def _run(number):
    return {"id": f"id-{number}", "name": f"analysis-{number}.1", "status": "finished",
            "created": f"2024-01-01T00:00:{59 - number:02d}", "progress": {},
            "size": {"raw": -1, "human_readable": ""}, "user": "u"}


def test_the_default_list_is_fetched_and_printed_page_by_page(monkeypatch):
    api = _Api([_run(n) for n in range(5)])
    monkeypatch.setattr(workflows, "api", lambda: api)
    monkeypatch.setattr(workflows, "LIST_PAGE_SIZE", 2)
    monkeypatch.setenv("REANA_SERVER_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("REANA_ACCESS_TOKEN", "t")
    result = CliRunner().invoke(workflows.workflows_list, [])
    assert result.exit_code == 0, result.output
    assert api.pages == [(1, 2), (2, 2), (3, 2)]
    lines = result.output.splitlines()
    assert lines[0].split() == ["NAME", "RUN_NUMBER", "CREATED", "STARTED", "ENDED", "STATUS"]
    assert [line.split()[0] for line in lines[1:]] == [f"analysis-{n}" for n in range(5)]


def test_a_sorted_or_sized_list_is_one_request(monkeypatch):
    api = _Api([_run(n) for n in range(5)])
    monkeypatch.setattr(workflows, "api", lambda: api)
    monkeypatch.setenv("REANA_SERVER_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("REANA_ACCESS_TOKEN", "t")
    result = CliRunner().invoke(workflows.workflows_list, ["--page", "1", "--size", "3"])
    assert result.exit_code == 0, result.output
    assert api.pages == [(1, 3)]
    assert len(result.output.splitlines()) == 4
