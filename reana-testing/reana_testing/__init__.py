"""Test support of the platform, kept out of the services' packages (and their images).

- :mod:`.pytest_plugin`: the shared fixture chain (``reana_home`` → database and
  broker → ``reana_env`` → ``db`` → ``user``), loaded by the root ``conftest.py``;
- :mod:`.job_controller`: a real job controller process for a run, for tests and benchmarks;
- :mod:`.slurm`: the test Slurm of ``make slurm-up`` (skip or fail when absent).
"""
