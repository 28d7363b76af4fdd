"""``reana-cwl-runner``: a cwltest-compatible CWL runner that runs on the platform.

``reana-cwl-runner [--outdir DIR] [--quiet] tool.cwl [job.yml]`` packs the tool
(``cwltool --pack``'s form, the one reana-client sends for ``type: cwl``),
uploads every local file the tool and the job refer to, creates and starts a
run at ``REANA_SERVER_URL``, waits for it, downloads the outputs into
``--outdir`` and prints the output object as cwltool does. Exit codes are
cwltool's: 0 success, 1 failure, 33 unsupported requirement.

cwltool is imported only here (``documents``), never by ``reana-client`` itself.
"""
