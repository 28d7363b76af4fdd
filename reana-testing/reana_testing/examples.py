"""Specifications the packages' tests create runs from (one copy for all of them)."""

HELLOWORLD_SPEC = {
    "version": "0.9.0",
    "inputs": {
        "files": ["code/helloworld.py", "data/names.txt"],
        "parameters": {
            "helloworld": "code/helloworld.py",
            "inputfile": "data/names.txt",
            "outputfile": "results/greetings.txt",
            "sleeptime": 0,
        },
    },
    "workflow": {
        "type": "serial",
        "specification": {
            "steps": [
                {
                    "environment": "docker.io/library/python:3.10-bookworm",
                    "commands": [
                        "python \"${helloworld}\" --inputfile \"${inputfile}\" "
                        "--outputfile \"${outputfile}\" --sleeptime ${sleeptime}"
                    ],
                }
            ]
        },
    },
    "outputs": {"files": ["results/greetings.txt"]},
}
"""The helloworld demo's serial ``reana.yaml`` as the API receives it (the
``reana_specification`` of a create request)."""
