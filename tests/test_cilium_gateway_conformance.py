"""The Gateway API releases each Cilium line passed, from upstream's conformance reports
(tools/cilium_gateway_conformance.py → upstream/cilium_charts/gateway-api-conformance.json)."""

from __future__ import annotations

import json

import pytest

from policies.rules.gateway_api import crds_match_line
from tests.policy_fixtures import check_stack
from tests.test_policy_gateway_api_crds import ASSET, cilium, config_file
from tools import cilium_gateway_conformance as generator
from upstream.cilium import SUPPORTED_LINES


def test_the_committed_reports_are_what_upstream_publishes() -> None:
    try:
        reports = generator.reports_dir()
    except generator.ReportsMissing as missing:
        pytest.skip(f"{missing} (go mod download sigs.k8s.io/gateway-api/conformance@v1.7.0)")
    derived = json.loads(generator.render(generator.cilium_reports(reports),
                                          f"sigs.k8s.io/gateway-api/{reports.parent.name}"))
    committed = json.loads(generator.TARGET.read_text())
    # A newer module lists more reports; the ones of our lines must be the same.
    assert [r for r in committed["reports"] if r in derived["reports"]] == committed["reports"]


def test_each_line_accepts_the_gateway_api_minor_its_releases_passed() -> None:
    tested = {minor: line.gateway_api.conformance_tested for minor, line in SUPPORTED_LINES.items()}
    # 1.18 has only a report of `main` before its release (v1.3.0): not a 1.18 release.
    assert tested == {"1.18": (), "1.19": ("v1.4.0",), "1.20": ("v1.6.1",)}
    assert SUPPORTED_LINES["1.19"].gateway_api.accepts("v1.4.1")
    assert not SUPPORTED_LINES["1.19"].gateway_api.accepts("v1.5.0")


def test_a_failed_report_is_not_taken_as_tested() -> None:
    committed = json.loads(generator.TARGET.read_text())["reports"]
    failed = [r for r in committed if not r["corePassed"]]
    assert failed and all(r["gatewayAPIVersion"] not in
                          SUPPORTED_LINES["1.20"].gateway_api.conformance_tested for r in failed)


def test_the_crd_policy_accepts_what_upstream_tested() -> None:
    crds = config_file(ASSET.format("v1.4.0"))
    assert check_stack(crds_match_line, [crds, cilium("1.19.6", dependencies=[crds])]) == []
    assert len(check_stack(crds_match_line, [crds, cilium("1.18.12", dependencies=[crds])])) == 1
