"""Kubernetes helpers shared by the run manager and the job backend.

:mod:`.api` builds the official client from the configuration (``KUBECONFIG``
or the in-cluster service account); :mod:`.objects` builds the pieces every
manifest the platform creates has in common (workspace volume, node selector,
security context, user secrets). Objects are plain dicts in the API's JSON
shape, so they can be validated against the OpenAPI schemas as they are sent.
"""
