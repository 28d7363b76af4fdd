"""The reana-client command line."""

__version__ = "0.9.6"
