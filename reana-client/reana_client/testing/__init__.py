"""``reana-client test``: Gherkin scenarios checked against a finished run."""
