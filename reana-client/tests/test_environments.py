"""Image tag checks of ``validate --environments`` (offline)."""

from __future__ import annotations

import pytest
from reana_client.validation.environments import check_tag, split_image


@pytest.mark.parametrize(
    "image, kind",
    [
        ("docker.io/library/python:2.7-slim", "success"),
        ("python", "warning"),
        ("reanahub/reana-env-root6:latest", "warning"),
        ("gitlab-registry.cern.ch/group/image:master", "warning"),
        ("localhost:5000/image", "warning"),
        ("bad image!", "error"),
    ],
)
def test_tags(image, kind):
    assert check_tag(image)[0] == kind


def test_registry_port_is_not_a_tag():
    assert split_image("localhost:5000/image") == ("localhost:5000/image", "")
    assert split_image("localhost:5000/image:1.0") == ("localhost:5000/image", "1.0")
