"""Database models, status transitions, run numbers, quotas and migrations."""
