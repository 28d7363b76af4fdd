"""HTCondor's submit description language → job ClassAds (the part ``condor_submit`` does).

Accepted: ``command = value`` lines (commands are case-insensitive), ``+Attr = <expr>``
and ``MY.Attr = <expr>`` custom attributes, ``#`` comments, ``\\`` line continuations,
``$(Cluster)``/``$(ClusterId)``/``$(Process)``/``$(ProcId)`` macros and one ``queue [N]``.
The arguments and environment commands take both HTCondor syntaxes (the new one
in double quotes, the old one without). Values are checked as ``condor_submit``
checks them (universe, executable, integer requests with units, yes/no values,
expressions of custom attributes).

Stricter than HTCondor: a command the double does not know is refused (HTCondor
only warns that such a line "was unused", since it may be a macro), so a typo in
what a backend sends fails its tests instead of being silently ignored.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field

FLAVOURS = {"espresso": 1200, "microcentury": 3600, "longlunch": 7200, "workday": 28800,
            "tomorrow": 86400, "testmatch": 259200, "nextweek": 604800}
"""CERN's job flavours → MaxRuntime seconds (CERN's schedds set MaxRuntime from JobFlavour)."""

UNIVERSES = {"vanilla": 5, "container": 5, "docker": 5, "scheduler": 7, "local": 12}
YES_NO = {"yes": True, "true": True, "no": False, "false": False}


class SubmitError(ValueError):
    """condor_submit refuses the description (message as condor_submit prints it)."""


@dataclass
class Description:
    """A parsed submit description: commands, custom attributes, how many jobs to queue."""

    commands: dict[str, tuple[int, str]] = field(default_factory=dict)
    """lower-case command → (line number, raw value)."""
    custom: dict[str, tuple[int, str]] = field(default_factory=dict)
    queue: int | None = None


KNOWN_COMMANDS = {
    "universe", "executable", "arguments", "args", "environment", "env", "getenv", "initialdir",
    "input", "output", "error", "log", "request_cpus", "request_memory", "request_disk",
    "should_transfer_files", "when_to_transfer_output", "transfer_input_files",
    "transfer_output_files", "transfer_output_remaps", "transfer_executable", "stream_output",
    "stream_error", "container_image", "docker_image", "accounting_group", "accounting_group_user",
    "batch_name", "description", "requirements", "hold", "priority",
}


def _logical_lines(text: str):
    number, pending, start = 0, "", 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            if not pending:
                start = number
            pending += stripped[:-1] + " "
            continue
        yield (start if pending else number), pending + stripped
        pending = ""
    if pending:
        yield start, pending.strip()


def parse(text: str) -> Description:
    """Read a submit description (no macro expansion yet)."""
    description = Description()
    for number, line in _logical_lines(text):
        keyword = line.split(None, 1)[0].lower() if line.split() else ""
        if keyword == "queue" and "=" not in line:
            if description.queue is not None:
                raise SubmitError(f"ERROR: on Line {number} of submit file: only one queue "
                                  "statement is supported by this HTCondor double")
            rest = line.split(None, 1)[1].strip() if len(line.split(None, 1)) > 1 else "1"
            if not rest.isdigit():
                raise SubmitError(f"ERROR: on Line {number} of submit file: queue {rest}: "
                                  "only 'queue [count]' is supported by this HTCondor double")
            description.queue = int(rest)
            continue
        name, equals, value = line.partition("=")
        name, value = name.strip(), value.strip()
        if not equals or not name or " " in name:
            raise SubmitError(f"ERROR: on Line {number} of submit file: \n"
                              f"Submit file has a syntax error: '{line}'")
        if description.queue is not None:
            raise SubmitError(f"ERROR: on Line {number} of submit file: commands after the "
                              "queue statement are not supported by this HTCondor double")
        if name.startswith("+") or name.lower().startswith("my."):
            attribute = name[1:] if name.startswith("+") else name[3:]
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", attribute):
                raise SubmitError(f"ERROR: on Line {number} of submit file: "
                                  f"invalid attribute name '{attribute}'")
            check_expression(value, number, name)
            description.custom[attribute] = (number, value)
            continue
        if name.lower() not in KNOWN_COMMANDS:
            raise SubmitError(f"ERROR: on Line {number} of submit file: '{name} = {value}' is "
                              "not a submit command this HTCondor double knows (HTCondor "
                              "itself would warn that the line was unused)")
        description.commands[name.lower()] = (number, value)
    if description.queue is None:
        raise SubmitError("ERROR: no queue statement in the submit description")
    return description


_TOKEN = re.compile(r"""\s*(?:("(?:[^"\\]|\\.)*")|(\d+\.\d*(?:[eE][-+]?\d+)?|\d+)|
                    ([A-Za-z_][A-Za-z0-9_.]*)|(=\?=|=!=|==|!=|<=|>=|&&|\|\||[-+*/%<>!?:()]))""",
                    re.VERBOSE)


def check_expression(value: str, number: int, name: str) -> None:
    """Refuse what is not a ClassAd expression (as condor_submit's parser does)."""
    position, depth, expect_operand = 0, 0, True
    while position < len(value):
        match = _TOKEN.match(value, position)
        if not match or match.end() == position:
            if value[position:].strip():
                break
            position = len(value)
            continue
        string, numeral, identifier, operator = match.groups()
        if operator in ("(",):
            depth += 1
        elif operator == ")":
            depth -= 1
            if depth < 0:
                break
        elif operator and operator not in ("!", "-", "+") and expect_operand:
            break
        expect_operand = bool(operator) and operator != ")"
        position = match.end()
    else:
        if depth == 0 and value.strip() and not expect_operand:
            return
    raise SubmitError(f"ERROR: on Line {number} of submit file: \n"
                      f"Parse error in expression: \n\t{name} = {value}")


def custom_value(text: str):
    """A custom attribute's value as JSON would carry it (literals typed, the rest an Expr)."""
    text = text.strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d*(?:[eE][-+]?\d+)?", text):
        return float(text)
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return {"Expr": text}


def split_arguments(value: str) -> list[str]:
    """condor_submit's two argument syntaxes → argv."""
    value = value.strip()
    if not (value.startswith('"') and value.endswith('"') and len(value) >= 2):
        return value.split()  # old syntax: whitespace separated
    body, args, current, quoted, have = value[1:-1], [], "", False, False
    i = 0
    while i < len(body):
        char = body[i]
        if char == '"':
            if body[i:i + 2] == '""':
                current, have, i = current + '"', True, i + 2
                continue
            raise SubmitError("ERROR: Found illegal unescaped double-quote: " + value)
        if char == "'":
            if quoted and body[i:i + 2] == "''":
                current, i = current + "'", i + 2
                continue
            quoted, have = not quoted, True
        elif char.isspace() and not quoted:
            if have:
                args.append(current)
            current, have = "", False
        else:
            current, have = current + char, True
        i += 1
    if quoted:
        raise SubmitError("ERROR: Unterminated single-quote in arguments: " + value)
    if have:
        args.append(current)
    return args


def split_environment(value: str) -> dict[str, str]:
    """condor_submit's two environment syntaxes → variables."""
    value = value.strip()
    if value.startswith('"') and value.endswith('"') and len(value) >= 2:
        items = split_arguments(value)
    else:
        items = [item for item in value.split(";") if item.strip()]
    env = {}
    for item in items:
        name, equals, content = item.partition("=")
        if not equals or not name.strip():
            raise SubmitError(f"ERROR: Environment entry '{item}' is not of the form NAME=VALUE")
        env[name.strip()] = content
    return env


def megabytes(value: str, command: str, default_unit: str = "M") -> int:
    """``2048``, ``2 GB``, ``512M`` → MiB as HTCondor reads request_memory."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)B?\s*", value, re.IGNORECASE)
    if not match:
        raise SubmitError(f"ERROR: {command}={value} is invalid, must eval to an integer.")
    number, unit = float(match.group(1)), (match.group(2) or default_unit).upper()
    factor = {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024}[unit]
    return max(int(number * factor + 0.999), 0)


def _yes_no(command: str, value: str) -> bool:
    try:
        return YES_NO[value.strip().lower()]
    except KeyError:
        raise SubmitError(f"ERROR: {command} must be True or False (it is '{value}')") from None


def job_ads(description: Description, *, cluster: int, owner: str, cwd: str,
            environ: dict[str, str], now: int) -> list[dict]:
    """The job ClassAds condor_submit would create for ``description`` (one per process)."""
    ads = []
    for process in range(description.queue or 0):
        macros = {"cluster": str(cluster), "clusterid": str(cluster),
                  "process": str(process), "procid": str(process)}

        def value(command: str, default: str | None = None, _m=macros) -> str | None:
            if command not in description.commands:
                return default
            return re.sub(r"\$\((\w+)\)",
                          lambda m: _m.get(m.group(1).lower(), m.group(0)),
                          description.commands[command][1])

        ads.append(_job_ad(description, value, cluster=cluster, process=process, owner=owner,
                           cwd=cwd, environ=environ, now=now))
    return ads


def _job_ad(description, value, *, cluster, process, owner, cwd, environ, now) -> dict:
    universe_name = (value("universe", "vanilla") or "vanilla").strip().lower()
    if universe_name not in UNIVERSES:
        raise SubmitError(f"ERROR: I don't know about the '{universe_name}' universe.")
    iwd = os.path.normpath(os.path.join(cwd, value("initialdir", "") or ""))
    if not os.path.isdir(iwd):
        raise SubmitError(f"ERROR: No such directory: {iwd}")
    executable = value("executable")
    if not executable:
        raise SubmitError("ERROR: Executable file must be specified")
    executable = os.path.join(iwd, executable)
    if not os.path.isfile(executable):
        raise SubmitError(f"ERROR: Executable file {executable} does not exist")
    ad = {
        "ClusterId": cluster, "ProcId": process, "GlobalJobId": f"double#{cluster}.{process}#{now}",
        "Owner": owner, "User": f"{owner}@double", "QDate": now, "EnteredCurrentStatus": now,
        "JobStatus": 1, "JobUniverse": UNIVERSES[universe_name], "Cmd": executable, "Iwd": iwd,
        "NumJobStarts": 0, "NumShadowStarts": 0, "JobRunCount": 0, "CompletionDate": 0,
        "RequestCpus": 1, "RequestMemory": 128, "RequestDisk": 1024, "JobPrio": 0,
        "ShouldTransferFiles": "IF_NEEDED", "WhenToTransferOutput": "ON_EXIT",
        "TransferExecutable": True, "StreamOut": False, "StreamErr": False,
        "Out": "/dev/null", "Err": "/dev/null", "In": "/dev/null",
    }
    if universe_name == "container":
        ad["WantContainer"] = True
    if universe_name == "docker":
        ad["WantDocker"] = True
    if value("arguments") is not None or value("args") is not None:
        argv = split_arguments(value("arguments", value("args")) or "")
        ad["Arguments"] = shlex.join(argv)
        ad["_argv"] = argv
    environment = split_environment(value("environment", value("env", "")) or "")
    getenv = value("getenv")
    if getenv is not None and _yes_no("getenv", getenv):
        environment = {**environ, **environment}
    if environment:
        ad["Environment"] = " ".join(f"{k}={shlex.quote(v)}" for k, v in environment.items())
        ad["_environment"] = environment
    for command, attribute in (("input", "In"), ("output", "Out"), ("error", "Err"),
                               ("log", "UserLog")):
        if value(command):
            ad[attribute] = os.path.join(iwd, value(command))
    if value("request_cpus"):
        try:
            ad["RequestCpus"] = int(value("request_cpus"))
        except ValueError:
            raise SubmitError(f"ERROR: request_cpus={value('request_cpus')} is invalid, "
                              "must eval to an integer.") from None
    if value("request_memory"):
        ad["RequestMemory"] = megabytes(value("request_memory"), "request_memory")
    if value("request_disk"):
        ad["RequestDisk"] = megabytes(value("request_disk"), "request_disk", "K") * 1024
    transfer = value("should_transfer_files")
    if transfer is not None:
        transfer = transfer.strip().upper()
        if transfer not in ("YES", "NO", "IF_NEEDED"):
            raise SubmitError(f"ERROR: should_transfer_files contains an invalid value "
                              f"({value('should_transfer_files')})")
        ad["ShouldTransferFiles"] = transfer
    when = value("when_to_transfer_output")
    if when is not None:
        when = when.strip().upper()
        if when not in ("ON_EXIT", "ON_EXIT_OR_EVICT", "ON_SUCCESS"):
            raise SubmitError(f"ERROR: when_to_transfer_output contains an invalid value "
                              f"({value('when_to_transfer_output')})")
        if ad["ShouldTransferFiles"] == "NO":
            raise SubmitError("ERROR: when_to_transfer_output specified but "
                              "should_transfer_files is NO")
        ad["WhenToTransferOutput"] = when
    for command, attribute in (("transfer_input_files", "TransferInput"),
                               ("transfer_output_files", "TransferOutput")):
        if value(command) is not None:
            ad[attribute] = value(command).strip()
    remaps = value("transfer_output_remaps")
    if remaps is not None:
        text = remaps.strip()
        if not (text.startswith('"') and text.endswith('"')):
            raise SubmitError("ERROR: transfer_output_remaps must be a quoted string")
        pairs = {}
        for item in text[1:-1].split(";"):
            if not item.strip():
                continue
            name, equals, target = item.partition("=")
            if not equals or not name.strip() or not target.strip():
                raise SubmitError(f"ERROR: invalid transfer_output_remaps entry '{item}'")
            pairs[name.strip()] = os.path.join(iwd, target.strip())
        ad["TransferOutputRemaps"] = text[1:-1]
        ad["_remaps"] = pairs
    for command, attribute in (("transfer_executable", "TransferExecutable"),
                               ("stream_output", "StreamOut"), ("stream_error", "StreamErr"),
                               ("hold", "_hold")):
        if value(command) is not None:
            ad[attribute] = _yes_no(command, value(command))
    image = value("container_image") or value("docker_image")
    if universe_name in ("container", "docker") and not image:
        raise SubmitError(f"ERROR: {universe_name} universe jobs need container_image "
                          "(or docker_image)")
    if image and universe_name not in ("container", "docker"):
        raise SubmitError("ERROR: container_image is only valid in the container universe")
    if image:
        ad["ContainerImage" if universe_name == "container" else "DockerImage"] = image.strip()
    if value("accounting_group"):
        group = value("accounting_group").strip()
        user = (value("accounting_group_user") or owner).strip()
        ad.update(AcctGroup=group, AcctGroupUser=user, AccountingGroup=f"{group}.{user}")
    for command, attribute in (("batch_name", "JobBatchName"), ("description", "JobDescription"),
                               ("requirements", "Requirements")):
        if value(command):
            ad[attribute] = value(command).strip().strip('"')
    if value("priority"):
        ad["JobPrio"] = int(value("priority"))
    for attribute, (_, text) in description.custom.items():
        ad[attribute] = custom_value(text)
    flavour = ad.get("JobFlavour")
    if "MaxRuntime" not in ad and isinstance(flavour, str):
        if flavour not in FLAVOURS:
            raise SubmitError(f"ERROR: JobFlavour '{flavour}' is not one of "
                              + ", ".join(FLAVOURS))
        ad["MaxRuntime"] = FLAVOURS[flavour]
    if "MaxRuntime" in ad and not isinstance(ad["MaxRuntime"], int):
        raise SubmitError(f"ERROR: MaxRuntime must be an integer number of seconds "
                          f"(got {ad['MaxRuntime']!r})")
    return ad
