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
