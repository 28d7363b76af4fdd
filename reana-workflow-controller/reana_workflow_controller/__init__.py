"""Internal workflow API, run managers, job-status consumer and reconciler."""
