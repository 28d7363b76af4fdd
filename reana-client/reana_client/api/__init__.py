"""Talking to reana-server: the spec-driven API client and streaming file transfers."""
