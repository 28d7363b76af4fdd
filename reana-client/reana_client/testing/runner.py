"""Parse .feature files with the official Gherkin parser and run their scenarios."""

from __future__ import annotations

from dataclasses import dataclass, field

from reana_client.testing.steps import RunData, StepFailed, UndefinedStep, find_step


class FeatureFileError(ValueError):
    """The .feature file cannot be parsed."""


@dataclass
class ScenarioResult:
    """Outcome of one scenario: ``passed`` or ``failed`` with the failing step and reason."""

    feature: str
    name: str
    passed: bool = True
    failed_step: str = ""
    reason: str = ""
    line: int = 0
    steps: list[str] = field(default_factory=list)


def parse_feature(text: str) -> dict:
    """The Gherkin document (``feature`` with ``children``) of a feature file's text."""
    from gherkin.errors import CompositeParserException, ParserError
    from gherkin.parser import Parser

    try:
        document = Parser().parse(text)
    except (CompositeParserException, ParserError) as error:
        raise FeatureFileError(str(error)) from error
    if not document.get("feature"):
        raise FeatureFileError("no Feature in the file")
    return document["feature"]


def _scenarios(feature: dict):
    background = []
    for child in feature.get("children", []):
        if "background" in child:
            background = child["background"].get("steps", [])
        elif "scenario" in child:
            yield child["scenario"], background
        elif "rule" in child:
            yield from _scenarios(child["rule"])


def run_feature(text: str, run: RunData) -> list[ScenarioResult]:
    """Run every scenario of a feature file against ``run``."""
    feature = parse_feature(text)
    results = []
    for scenario, background in _scenarios(feature):
        result = ScenarioResult(
            feature.get("name", ""),
            scenario.get("name", ""),
            line=scenario.get("location", {}).get("line", 0),
        )
        for gherkin_step in list(background) + scenario.get("steps", []):
            sentence = gherkin_step["text"]
            label = f"{gherkin_step['keyword'].strip()} {sentence}"
            result.steps.append(label)
            doc = (gherkin_step.get("docString") or {}).get("content")
            try:
                func, kwargs = find_step(sentence)
                func(run, doc, **kwargs)
            except (StepFailed, UndefinedStep) as error:
                result.passed, result.failed_step, result.reason = False, label, str(error)
                break
            except Exception as error:  # noqa: BLE001 - an API error fails the step, not the run
                result.passed, result.failed_step = False, label
                result.reason = f"{type(error).__name__}: {error}"
                break
        results.append(result)
    return results
