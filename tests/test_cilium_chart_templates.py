"""Every ``fail``/``required`` of the real Cilium chart is mirrored, and each mirror refuses what
the chart refuses (the chart's side: tests/e2e/test_cilium_chart_templates_helm.py)."""

from __future__ import annotations

import pytest

from tests.cilium_template_cases import CASES, case_values
from upstream.cilium import SUPPORTED_LINES
from upstream.cilium_chart import MIRRORED_BY_NAMED_RULES, check_helm_values
from upstream.cilium_chart_templates import RULES, ChartValues, coalesce, refusing_rules, truthy
from upstream.cilium_schema import chart_facts

DERIVED = {minor: chart_facts(minor)["templateRules"] for minor in SUPPORTED_LINES}
LINES_WITH_TEMPLATES = [minor for minor, rules in DERIVED.items() if rules is not None]
MIRROR_MESSAGES = [rule.message for rule in RULES] + list(MIRRORED_BY_NAMED_RULES)


def _mirrors_of(message: str) -> list[str]:
    return [start for start in MIRROR_MESSAGES if message.startswith(start)]


def _line_cases() -> list[tuple[str, str]]:
    return [(minor, start) for minor in LINES_WITH_TEMPLATES for start in MIRROR_MESSAGES
            if any(rule["message"].startswith(start) for rule in DERIVED[minor])]


@pytest.mark.parametrize("minor", LINES_WITH_TEMPLATES)
def test_every_fail_and_required_of_the_chart_is_mirrored_exactly_once(minor: str) -> None:
    unmirrored = [rule["message"][:80] for rule in DERIVED[minor]
                  if len(_mirrors_of(rule["message"])) != 1]
    assert unmirrored == []


def test_the_chart_calls_were_read_for_the_lines_whose_templates_are_available() -> None:
    # 1.18.12's source is refused by the Go module proxy; 1.18.11's templates stand for it.
    assert LINES_WITH_TEMPLATES == list(SUPPORTED_LINES)
    assert all(len(DERIVED[minor]) > 60 for minor in LINES_WITH_TEMPLATES)


def test_every_mirror_has_a_case() -> None:
    assert sorted(set(MIRROR_MESSAGES) - set(CASES)) == []


@pytest.mark.parametrize(("minor", "start"), _line_cases())
def test_the_mirror_refuses_what_the_chart_refuses(minor: str, start: str) -> None:
    refused, _ = CASES[start]
    version = SUPPORTED_LINES[minor].newest_verified_patch
    values = case_values(refused)
    findings = check_helm_values(values, version)
    assert any(f.effect == "reject" for f in findings)
    if start in MIRRORED_BY_NAMED_RULES:
        assert MIRRORED_BY_NAMED_RULES[start] in {f.rule for f in findings}
    else:
        assert start in refusing_rules(values, SUPPORTED_LINES[minor])


@pytest.mark.parametrize(("minor", "start"), _line_cases())
def test_the_mirror_accepts_the_fixed_values(minor: str, start: str) -> None:
    _, accepted = CASES[start]
    version = SUPPORTED_LINES[minor].newest_verified_patch
    assert check_helm_values(case_values(accepted), version) == []


def test_values_coalesce_as_helm_does() -> None:
    merged = coalesce({"a": {"b": 1, "c": 2}, "d": [1], "e": 5}, {"a": {"b": None, "x": 3},
                                                                  "d": [2, 3], "e": None})
    assert merged == {"a": {"c": 2, "x": 3}, "d": [2, 3]}


def test_template_truth_is_go_truth() -> None:
    assert [truthy(v) for v in (False, 0, 0.0, "", [], {}, None)] == [False] * 7
    assert [truthy(v) for v in (True, 1, "false", "0", [0], {"a": None})] == [True] * 6


def test_a_removed_option_the_chart_refuses_is_named() -> None:
    [finding] = check_helm_values(case_values({"tunnel": "vxlan"}), "1.20.0")
    assert (finding.path, finding.rule) == ("tunnel", "chart-templates")
    assert str(finding).startswith("tunnel: was removed from the Cilium chart; the chart refuses "
                                   "it. Fix: use routingMode: tunnel and tunnelProtocol instead.")


def test_chart_values_start_from_the_charts_own_defaults() -> None:
    v = ChartValues({}, SUPPORTED_LINES["1.20"])
    assert v.get("clustermesh.apiserver.kvstoremesh.kvstoreMode") == "internal"
    assert v.on("hubble.enabled") and not v.on("hubble.relay.enabled")
