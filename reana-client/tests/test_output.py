"""Tables, --format and --json as reana-client 0.9.6 prints them."""

from __future__ import annotations

import json

from reana_client.output import display_formatted_output, parse_format, print_table

HEADERS = ["name", "run_number", "status"]
ROWS = [["helloworld", "1", "finished"], ["roofit", "12", "failed"]]


def test_table_columns_left_aligned_three_spaces(capsys):
    print_table(HEADERS, ROWS)
    assert capsys.readouterr().out.splitlines() == [
        "NAME         RUN_NUMBER   STATUS  ",
        "helloworld   1            finished",
        "roofit       12           failed  ",
    ]


def test_format_parsing():
    assert parse_format(("name,status=failed",)) == [("name", None), ("status", "failed")]
    assert parse_format(("NAME", "run_number")) == [("name", None), ("run_number", None)]


def test_format_selects_columns_and_filters_rows(capsys):
    display_formatted_output(ROWS, HEADERS, ("name,status=failed",), None)
    assert capsys.readouterr().out.splitlines() == ["NAME     STATUS", "roofit   failed"]
    display_formatted_output(ROWS, HEADERS, ("status=finished",), "json")
    assert json.loads(capsys.readouterr().out) == [{"status": "finished"}]


def test_json_is_a_list_of_rows(capsys):
    display_formatted_output(ROWS, HEADERS, (), "json")
    assert json.loads(capsys.readouterr().out)[1] == {
        "name": "roofit",
        "run_number": "12",
        "status": "failed",
    }


def test_provenance_table_marks_files_written_while_other_jobs_ran():
    """``reana-client provenance``: a job's outputs, then what was written while other jobs of
    the run ran too (its writer unknown), marked ``(during)``; unknown inputs are ``?``."""
    from reana_client.cli.provenance import _rows

    job = {"job_id": "1234567890ab", "job_name": "fit", "status": "finished", "cached": False,
           "compute_backend": "local", "node": "n1", "runtime": "host", "image": "img",
           "image_digest": "sha256:" + "d" * 64, "exit_code": 0, "inputs": None,
           "outputs": [{"path": "a.txt", "sha256": "a" * 64, "size": 1}],
           "outputs_during": [{"path": "b.txt", "sha256": "b" * 64, "size": 1,
                               "jobs": ["other"]}],
           "started_at": "2026-12-03T10:00:00", "finished_at": "2026-12-03T10:00:01"}
    row = _rows({"jobs": [job]})[0]
    assert row[9] == "?"
    assert row[10] == "a.txt@aaaaaaaa, b.txt@bbbbbbbb (during)"
    only_during = _rows({"jobs": [{**job, "outputs": []}]})[0]
    assert only_during[10] == "b.txt@bbbbbbbb (during)"
    assert _rows({"jobs": [{**job, "outputs_during": None}]})[0][10] == "a.txt@aaaaaaaa"
