"""Yadage workflow engine: each packtivity runs as one job of the run's job controller."""
