"""Public REST API (REANA 0.9 compatible), authentication, admin CLI and scheduler."""
