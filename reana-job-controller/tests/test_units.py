"""Small pure pieces: the URL file, memory quantities, the registry."""

from __future__ import annotations

import os

import pytest
from reana_job_controller.job_managers import UnknownBackend, known_backends, load_job_manager
from reana_job_controller.quantities import InvalidQuantity, memory_bytes
from reana_job_controller.server import write_url_file


def test_url_file_is_written_atomically(tmp_path):
    target = tmp_path / "sub" / "url"
    write_url_file(str(target), "http://127.0.0.1:1234")
    assert target.read_text() == "http://127.0.0.1:1234\n"
    assert os.listdir(target.parent) == ["url"]


@pytest.mark.parametrize(
    "quantity, expected",
    [("256Mi", 256 * 2**20), ("1Gi", 2**30), ("1G", 10**9), ("0.5Gi", 2**29),
     ("129e6", 129 * 10**6),
     ("4096", 4096), ("", None), (None, None), ("100k", 100_000)],
)
def test_memory_bytes(quantity, expected):
    assert memory_bytes(quantity) == expected


@pytest.mark.parametrize("quantity", ["lots", "12 parsecs", "-1Mi", "Mi"])
def test_invalid_memory_quantity(quantity):
    with pytest.raises(InvalidQuantity):
        memory_bytes(quantity)


def test_registry_loads_lazily_by_name():
    assert "local" in known_backends()
    assert load_job_manager("local").name == "local"
    with pytest.raises(UnknownBackend):
        load_job_manager("nope")
