"""JSON schemas shipped with reana-commons (reana.yaml)."""
