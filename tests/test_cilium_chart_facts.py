"""upstream/cilium_charts/<line>.json is what tools/cilium_chart_facts.py derives from the real chart.

The regeneration test needs a copy of each chart (toolchain cache, Go module cache, or the
reference data beside the repo, ``tests.helpers.REFERENCE_DIR``) and skips with the reason when
there is none.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REFERENCE_DIR
from tools import cilium_chart_facts as generator
from upstream.cilium import SUPPORTED_LINES
from upstream.cilium_schema import FACTS_DIR, chart_facts


def _chart_or_skip(version: str) -> Path:
    try:
        return generator.find_chart(version, REFERENCE_DIR)
    except generator.ChartSourceMissing as missing:
        pytest.skip(str(missing))


@pytest.mark.parametrize("minor", SUPPORTED_LINES)
def test_the_committed_facts_are_what_the_real_chart_gives(minor: str) -> None:
    version = SUPPORTED_LINES[minor].newest_verified_patch
    target = FACTS_DIR / f"{minor}.json"
    derived = generator.line_facts(version, _chart_or_skip(version), target)
    # The bytes `--check` compares (one line per top-level key: the diff names the keys).
    assert generator.render(derived) == target.read_text(), (
        f"run python tools/cilium_chart_facts.py --line {minor}")


@pytest.mark.parametrize("minor", SUPPORTED_LINES)
def test_every_line_has_facts_of_its_pinned_patch(minor: str) -> None:
    # A refreshed pin without regenerated facts would check values against another chart.
    assert chart_facts(minor)["version"] == SUPPORTED_LINES[minor].newest_verified_patch


def test_check_refuses_a_changed_fact_but_not_a_source_without_templates(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    committed = chart_facts("1.20")
    target = tmp_path / "1.20.json"
    target.write_text(generator.render(committed))
    monkeypatch.setattr(generator, "facts_path", lambda minor: target)
    monkeypatch.setattr(generator, "find_chart", lambda version, reference: tmp_path)

    def derive_as(facts: dict[str, Any]) -> None:
        monkeypatch.setattr(generator, "chart_facts", lambda version, chart: facts)

    # The reference copy has no templates: it cannot contradict the committed template rules.
    derive_as({**committed, "templateSource": None, "templateRules": None})
    assert generator.main(["--check", "--line", "1.20"]) == 0
    derive_as({**committed, "schema": {"properties": {}}})
    assert generator.main(["--check", "--line", "1.20"]) == 1
    assert f"{target} differs from the chart at {tmp_path}" in capsys.readouterr().err
    assert json.loads(target.read_text()) == committed, "--check must not write"


def test_a_schema_keyword_the_validator_does_not_implement_stops_the_generator() -> None:
    with pytest.raises(ValueError, match="patternProperties"):
        generator.compact_schema({"properties": {"a": {"patternProperties": {}}}})


def test_template_rules_are_read_from_actions_not_comments(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "validate.yaml").write_text(
        '{{/* fail "only a comment" */}}\n'
        '# required here is prose\n'
        '{{- if .Values.x }}{{ fail "x is gone" }}{{ end }}\n'
        '{{ .Values.y | required "missing y" }}\n'
        '{{- fail (printf "bad %s" .Values.z) }}\n')
    assert generator.template_rules(tmp_path) == [
        {"file": "templates/validate.yaml", "kind": "fail", "message": "bad %s"},
        {"file": "templates/validate.yaml", "kind": "fail", "message": "x is gone"},
        {"file": "templates/validate.yaml", "kind": "required", "message": "missing y"}]
    assert generator.template_rules(tmp_path / "no-chart") is None
