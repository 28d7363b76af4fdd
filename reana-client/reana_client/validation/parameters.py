"""Parameter checks of reana.yaml (client fallback when reana-commons has none).

Returns REANA's three warning groups: unused input parameters, command
parameters that are not defined, dangerous operations.
"""

from __future__ import annotations

import re

DANGEROUS_OPERATIONS = ["sudo ", "cd /"]
_SERIAL_PARAM = re.compile(r"\$\{(.*?)\}")


def _steps(spec: dict) -> list[dict]:
    workflow = spec.get("workflow") or {}
    if workflow.get("type") != "serial":
        return []
    steps = []
    for index, step in enumerate((workflow.get("specification") or {}).get("steps") or []):
        commands = step.get("commands") or []
        steps.append(
            {
                "name": step.get("name", str(index)),
                "commands": commands,
                "params": {p for c in commands for p in _SERIAL_PARAM.findall(str(c))},
            }
        )
    return steps


def validate_parameters(spec: dict) -> dict[str, list[str]]:
    """``{"reana_params": [...], "workflow_params": [...], "operations": [...]}`` warnings."""
    reana, workflow_params, operations = [], [], []
    if "inputs" not in spec:
        reana.append('Workflow "inputs" are missing in the REANA specification.')
    inputs = set(((spec.get("inputs") or {}).get("parameters") or {}).keys())
    used: dict[str, list[str]] = {}
    for step in _steps(spec):
        for command in step["commands"]:
            for operation in DANGEROUS_OPERATIONS:
                if operation in str(command):
                    operations.append(
                        f'Operation "{operation.strip()}" found in step "{step["name"]}" '
                        "might be dangerous."
                    )
        for param in step["params"]:
            used.setdefault(param, []).append(step["name"])
    for param in sorted(inputs - set(used)):
        reana.append(f'REANA input parameter "{param}" does not seem to be used.')
    for param in sorted(set(used) - inputs):
        steps = used[param]
        workflow_params.append(
            'Serial parameter "{}" found on step{} "{}" is not defined in input parameters.'.format(
                param, "s" if len(steps) > 1 else "", ", ".join(steps)
            )
        )
    return {"reana_params": reana, "workflow_params": workflow_params, "operations": operations}
