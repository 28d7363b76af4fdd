#!/usr/bin/env python3
"""Regenerate reana-server's committed OpenAPI spec (in reana-commons) from the app."""

from reana_commons.openapi import specification_path
from reana_server.app import create_app
from reana_server.spec import build_spec, render


def main() -> None:
    path = specification_path("reana_server")
    path.write_text(render(build_spec(create_app())))
    print(path)


if __name__ == "__main__":
    main()
