"""The yadage workflows of the engine conformance suite (``reana.workflow_engines.conformance``).

Two stages, the second reading what the first published; ``failing``: the second
exits non-zero; ``long``: the first sleeps for a minute (the suite terminates it).
"""

from __future__ import annotations

from reana_commons.engine.conformance import ConformanceWorkflow

WORKFLOW_FILE = "workflow.yaml"

_STAGE = """\
  - name: {name}
    dependencies: [{dependency}]
    scheduler:
      scheduler_type: singlestep-stage
      parameters:
        {parameter}: {value}
        outputfile: "{{workdir}}/{name}.txt"
      step:
        process:
          process_type: string-interpolated-cmd
          cmd: '{command}'
        publisher:
          publisher_type: frompar-pub
          outputmap:
            outputfile: outputfile
        environment:
          environment_type: docker-encapsulated
          image: docker.io/library/busybox
          imagetag: "1.36"
"""


def _workflow(first_command: str, second_command: str) -> str:
    first = _STAGE.format(name="first", dependency="init", parameter="message",
                          value="{step: init, output: message}", command=first_command)
    second = _STAGE.format(name="second", dependency="first", parameter="inputfile",
                           value="{step: first, output: outputfile}", command=second_command)
    return "stages:\n" + first + second


def workflow(variant: str) -> ConformanceWorkflow:
    """The conformance workflow ``variant`` (two_jobs, failing, long)."""
    first = 'echo {message} > "{outputfile}"'
    second = 'cat "{inputfile}" > "{outputfile}"'
    if variant == "failing":
        second = 'cat "{inputfile}" > "{outputfile}" && exit 3'
    elif variant == "long":
        first = 'sleep 60 && echo {message} > "{outputfile}"'
    return ConformanceWorkflow(
        specification=None,
        workflow_file=WORKFLOW_FILE,
        files={WORKFLOW_FILE: _workflow(first, second)},
        parameters={"message": "hello"},
        jobs=2,
    )
