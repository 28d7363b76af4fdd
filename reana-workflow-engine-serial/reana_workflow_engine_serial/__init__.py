"""Serial workflow engine."""
