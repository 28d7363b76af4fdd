"""The reana-client command line."""
