"""Queue consumers of the workflow controller."""
