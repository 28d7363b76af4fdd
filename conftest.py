"""Root conftest: every package's tests share the platform's pytest plugin."""

pytest_plugins = ["reana_testing.pytest_plugin"]
