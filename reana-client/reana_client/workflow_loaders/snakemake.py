"""Reading a Snakefile into REANA's snakemake specification, without Snakemake.

reana-client 0.9.6 sends a ``type: snakemake`` workflow as
``{"job_dependencies": {rule: [rules it needs]}, "steps": [...]}``, one step
per rule that runs something (``name``, ``environment``, named ``inputs``,
``params``, named ``outputs``, the unexpanded shell ``commands``,
``compute_backend``, ``kubernetes_memory_limit``, ``kubernetes_uid`` from
``resources``), computed with Snakemake's own parser and DAG. The server and
the UI show that summary; the engine re-reads the Snakefile itself.

Here a Snakefile is read the way Snakemake reads it, for the rule syntax
analyses use: top-level Python runs as Python; each ``rule NAME:`` directive
(``input``, ``output``, ``params``, ``resources``, ``container``, ``shell``...)
is evaluated as Python call arguments with ``config`` (the run's parameters)
and Snakemake's helpers (``expand``, ``touch``, ``temp``, ``directory``,
``rules.NAME.output``...). Jobs are then found from the first rule's inputs,
matching each needed file to the rule whose output produces it, wildcards
included.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from reana_commons.errors import REANAValidationError
from reana_commons.specification import load_yaml_file

RULE = re.compile(r"^(rule|checkpoint)\s+(\w+)\s*:\s*(#.*)?$")
DIRECTIVE = re.compile(r"^(\s+)(\w+)\s*:(.*)$")
TOP_DIRECTIVE = re.compile(
    r"^(configfile|include|workdir|container|singularity|localrules|ruleorder|"
    r"wildcard_constraints|report|envvars|conda|pepfile|pepschema|containerized)\s*:(.*)$"
)
RUNNING_DIRECTIVES = ("shell", "run", "script", "notebook", "wrapper", "cwl", "template_engine")
WILDCARD = re.compile(r"\{(\w+)(?:,[^{}]*)?\}")


class Items(list):
    """Snakemake's named list: positional items, some also reachable by name."""

    def __init__(self, positional=(), named=None):
        super().__init__(_flatten(positional))
        self.names: dict = {}
        for name, value in (named or {}).items():
            self.names[name] = value
            self.extend(_flatten([value]))

    def __getattr__(self, name):
        try:
            return self.__dict__["names"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, key):
        if isinstance(key, str):
            return self.names[key]
        return super().__getitem__(key)


class _Rules:
    """``rules.NAME.output`` and the like, for rules defined above."""

    def __init__(self):
        self.by_name: dict[str, _Rule] = {}

    def __getattr__(self, name):
        try:
            return self.__dict__["by_name"][name]
        except KeyError:
            raise AttributeError(f"rule {name} is not defined before it is used") from None


class _Rule:
    def __init__(self, name: str):
        self.name = name
        self.input = Items()
        self.output = Items()
        self.params = Items()
        self.resources = Items()
        self.container = None
        self.shell = None
        self.runs = False


def load(snakefile: Path, config: dict | None = None, workdir: Path | None = None) -> dict:
    """REANA's specification of ``snakefile`` with ``config`` as Snakemake's config.

    Like Snakemake's dry run (which reana-client 0.9.6 makes first), an input
    file that no rule produces must exist in ``workdir`` (default: the
    current directory), or the specification is invalid.
    """
    reader = _Reader(dict(config or {}), Path(workdir or "."))
    try:
        reader.read_file(Path(snakefile))
    except REANAValidationError:
        raise
    except Exception as error:  # noqa: BLE001 - the Snakefile's own Python can raise anything
        raise REANAValidationError(
            "Snakemake specification is invalid: "
            f"{type(error).__name__} in {_where(error, reader.files)}: {error}"
        ) from error
    rules = list(reader.rules.by_name.values())
    return {
        "job_dependencies": _job_dependencies(rules, reader.workdir),
        "steps": [_step(rule, reader.container) for rule in rules if rule.runs],
    }


class _Reader:
    def __init__(self, config: dict, workdir: Path):
        self.workdir = workdir
        self.path = workdir / "Snakefile"  # the file being read
        self.files: list[Path] = []
        self.rules = _Rules()
        self.container = None
        self.namespace = {
            "config": config,
            "rules": self.rules,
            "expand": expand,
            "multiext": lambda prefix, *exts: [prefix + ext for ext in exts],
            "_call": lambda *args, **kwargs: (list(args), kwargs),
            **{
                flag: _unflagged
                for flag in (
                    "touch",
                    "temp",
                    "temporary",
                    "protected",
                    "directory",
                    "ancient",
                    "pipe",
                    "service",
                    "report",
                    "unpack",
                    "local",
                    "ensure",
                )
            },
        }

    def read_file(self, path: Path) -> None:
        """Read a Snakefile (the main one or an ``include:``d one) into the rules."""
        try:
            source = path.read_text(encoding="utf-8")
        except OSError as error:
            raise REANAValidationError(f"Snakefile {path} cannot be read: {error}") from error
        including, self.path = self.path, path
        self.files.append(path)
        try:
            self.read(source)
        finally:
            self.path = including

    def read(self, source: str) -> None:
        lines = source.splitlines()
        python: list[str] = []
        python_start = index = 0
        while index < len(lines):
            line = lines[index]
            rule = RULE.match(line)
            top = TOP_DIRECTIVE.match(line)
            if rule or top:
                self.run_python(python, python_start)
                end = _block_end(lines, index)
                if rule:
                    self.read_rule(rule.group(2), lines[index + 1 : end], index + 1)
                else:
                    self.top_directive(
                        top.group(1), "\n".join([top.group(2), *lines[index + 1 : end]]), index
                    )
                python, python_start, index = [], end, end
                continue
            python.append(line)
            index += 1
        self.run_python(python, python_start)

    def run_python(self, lines: list[str], first_line: int) -> None:
        """Run top-level Python; ``first_line`` (0-based) keeps tracebacks' line numbers right."""
        if any(line.strip() and not line.lstrip().startswith("#") for line in lines):
            code = compile("\n" * first_line + "\n".join(lines), str(self.path), "exec")
            exec(code, self.namespace)  # noqa: S102

    def evaluate(self, body: str, first_line: int):
        """A directive's body as call arguments: ``(positional, keyword)``."""
        code = compile("\n" * first_line + f"_call({body}\n)", str(self.path), "eval")
        return eval(code, self.namespace)  # noqa: S307

    def top_directive(self, name: str, body: str, line: int) -> None:
        if name == "include":  # relative to the including Snakefile, as in Snakemake
            [path], _ = self.evaluate(body, line)
            self.read_file(self.path.parent / path)
        elif name == "configfile":  # relative to the working directory, as in Snakemake
            [path], _ = self.evaluate(body, line)
            loaded = load_yaml_file(self.workdir / path, "Snakemake configfile")
            # values given to the run (inputs.parameters) win over the configfile's
            self.namespace["config"] = {**(loaded or {}), **self.namespace["config"]}
        elif name in ("container", "singularity", "containerized"):
            [self.container], _ = self.evaluate(body, line)

    def read_rule(self, name: str, body: list[str], first_line: int) -> None:
        rule = _Rule(name)
        index = 0
        while index < len(body):
            match = DIRECTIVE.match(body[index])
            if not match:
                index += 1
                continue
            end = index + 1
            indent = len(match.group(1))
            while end < len(body) and (
                not body[end].strip() or len(body[end]) - len(body[end].lstrip()) > indent
            ):
                end += 1
            self.directive(
                rule,
                match.group(2),
                "\n".join([match.group(3), *body[index + 1 : end]]),
                first_line + index,
            )
            index = end
        self.rules.by_name[name] = rule

    def directive(self, rule: _Rule, name: str, body: str, line: int) -> None:
        if name in RUNNING_DIRECTIVES:
            rule.runs = True
        if name == "run":  # a Python block run by Snakemake itself, not call arguments
            return
        if name in ("input", "output", "params", "resources"):
            args, kwargs = self.evaluate(body, line)
            setattr(rule, name, Items(args, kwargs))
        elif name in ("container", "singularity"):
            [rule.container], _ = self.evaluate(body, line)
        elif name == "shell":
            [rule.shell], _ = self.evaluate(body, line)


def _where(error: Exception, snakefiles: list[Path]) -> str:
    """``Snakefile, line N``: the last line of a Snakefile in the error's traceback."""
    names = {str(path) for path in snakefiles}
    where = (error.filename, error.lineno) if isinstance(error, SyntaxError) else None
    frame = error.__traceback__
    while frame is not None:
        if frame.tb_frame.f_code.co_filename in names:
            where = (frame.tb_frame.f_code.co_filename, frame.tb_lineno)
        frame = frame.tb_next
    if where is None:
        return snakefiles[-1].name
    return f"{Path(where[0]).name}, line {where[1]}"


def _block_end(lines: list[str], start: int) -> int:
    """Index after an indented block that begins at ``lines[start]``."""
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t"):
        end += 1
    return end


def _unflagged(value, *args, **kwargs):
    """Snakemake's file flags (``touch``, ``temp``...) change nothing in the specification."""
    return value


def _flatten(values) -> list:
    flat = []
    for value in values:
        if isinstance(value, (list, tuple)):
            flat.extend(_flatten(value))
        else:
            flat.append(value)
    return flat


def expand(patterns, *combinators, allow_missing=False, **wildcards):
    """Snakemake's ``expand``: each pattern formatted with every combination of values."""
    patterns = [patterns] if isinstance(patterns, str) else list(patterns)
    combine = combinators[0] if combinators else itertools.product
    names = list(wildcards)
    lists = [[v] if isinstance(v, (str, int, float)) else list(v) for v in wildcards.values()]
    results = []
    for pattern in patterns:
        for values in combine(*lists):
            results.append(_format(pattern, dict(zip(names, values, strict=True)), allow_missing))
    return results


def _format(pattern: str, values: dict, keep_missing: bool) -> str:
    def replace(match):
        if match.group(1) in values:
            return str(values[match.group(1)])
        if keep_missing:
            return match.group(0)
        raise REANAValidationError(f"expand(): no value for wildcard {{{match.group(1)}}}")

    return WILDCARD.sub(replace, pattern)


def _step(rule: _Rule, default_container) -> dict:
    container = rule.container or default_container
    resources = rule.resources.names
    return {
        "name": rule.name,
        "environment": (container or "").replace("docker://", ""),
        "inputs": _named(rule.input),
        "params": _named(rule.params),
        "outputs": _named(rule.output),
        "commands": [rule.shell],  # None for run/script/notebook rules, as in 0.9.6
        "compute_backend": resources.get("compute_backend"),
        "kubernetes_memory_limit": resources.get("kubernetes_memory_limit"),
        "kubernetes_uid": resources.get("kubernetes_uid"),
    }


def _named(items: Items) -> dict:
    """Named items whose values the specification can hold (input functions are left out)."""
    return {name: value for name, value in items.names.items() if not callable(value)}


def _job_dependencies(rules: list[_Rule], workdir: Path) -> dict[str, list[str]]:
    """``{rule: [rules producing its inputs]}`` for the jobs needed by the first rule."""
    if not rules:
        return {}
    outputs = [
        (rule, output) for rule in rules for output in rule.output if isinstance(output, str)
    ]
    # a file named exactly by an output is that rule's, before any wildcard pattern's
    outputs.sort(key=lambda item: bool(WILDCARD.search(item[1])))
    producers = [(rule, re.compile(_output_regex(output))) for rule, output in outputs]
    dependencies: dict[str, list[str]] = {}
    missing: dict[str, list[str]] = {}
    pending = [(rules[0], {})]
    seen = set()
    while pending:
        rule, wildcards = pending.pop(0)
        key = (rule.name, tuple(sorted(wildcards.items())))
        if key in seen:
            continue
        seen.add(key)
        needs = dependencies[rule.name] = []  # one entry per job needed, named by its rule
        needed_jobs = set()
        for needed in rule.input:
            if not isinstance(needed, str):
                continue
            path = _format(needed, wildcards, keep_missing=True)
            for producer, pattern in producers:
                match = pattern.fullmatch(path)
                if match:
                    job = (producer.name, tuple(sorted(match.groupdict().items())))
                    if job not in needed_jobs:
                        needed_jobs.add(job)
                        needs.append(producer.name)
                    pending.append((producer, match.groupdict()))
                    break
            else:
                if not (workdir / path).exists():
                    missing.setdefault(rule.name, []).append(path)
    if missing:
        raise REANAValidationError(
            "Snakemake specification is invalid: missing input files "
            + "; ".join(f"for rule {name}: {', '.join(paths)}" for name, paths in missing.items())
            + "."
        )
    return dependencies


def _output_regex(pattern: str) -> str:
    """A regex matching the files an output pattern with ``{wildcards}`` produces."""
    regex, position, seen = "", 0, set()
    for match in WILDCARD.finditer(pattern):
        regex += re.escape(pattern[position : match.start()])
        name = match.group(1)
        constraint = match.group(0)[len(name) + 2 : -1] or ".+"
        regex += f"(?P={name})" if name in seen else f"(?P<{name}>{constraint})"
        seen.add(name)
        position = match.end()
    return regex + re.escape(pattern[position:])
