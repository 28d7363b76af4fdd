"""GA4GH WES 1.1 beside REANA's API: the rules, without Flask (ADR 0027).

A WES run is an ordinary run of its user, created by :mod:`reana_db.creation`
through :func:`reana_server.workflows.create_run` and started by
:mod:`reana_server.submission`, like a run of ``reana-client``:

- :mod:`.attachments`: the ``workflow_attachment`` parts, their names checked,
  and paths or ``file://`` URLs resolved against them only;
- :mod:`.cwl_documents`: a CWL document and the attachments it references, made
  one document for the CWL engine (what ``reana-client`` packs);
- :mod:`.run_requests`: a WES RunRequest made a REANA specification;
- :mod:`.states`: REANA statuses as WES states;
- :mod:`.run_views`: RunSummary, RunLog and TaskLog bodies, paginated lists;
- :mod:`.service_info`: the service-info document.
"""
