"""Job controller: REST API for the jobs of one run and its compute backends."""
