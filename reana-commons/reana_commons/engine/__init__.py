"""The engine kit: what every workflow engine plugs into (see docs/adr on the engine seam).

- :mod:`.harness`: ``engine_cli(name, run)``, the ``run-<type>-workflow`` process contract;
- :mod:`.reporter`: ``RunReporter``, the status protocol of one run;
- :mod:`.job_controller_client`: ``JobControllerClient``, the run's job controller over HTTP;
- :mod:`.jobs`: ``job_request`` and REANA's per-step job fields;
- :mod:`.conformance`: the workflows and checks of the engine conformance suite.
"""
