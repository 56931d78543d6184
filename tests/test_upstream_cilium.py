"""The per-line facts in upstream/ agree with the upstream files they were read from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.gateway_api_reference import gateway_api_crds
from tests.helpers import requires_reference
from tools import cilium_chart_facts
from upstream import hetzner
from upstream.cilium import (
    DEFAULT_VERSION,
    GATEWAY_API_BUNDLE_VERSION_ANNOTATION,
    GATEWAY_API_RELEASE_ASSET,
    SUPPORTED_LINES,
    line_of,
)

# The pinned patch of every line. Its chart is read where tools/cilium_chart_facts.py finds it
# (the make-engine cache, the Go module cache, or ../shared/reference), else the test skips.
REFERENCE_VERSIONS = [line.newest_verified_patch for line in SUPPORTED_LINES.values()]


def _chart_dir(version: str) -> Path:
    try:
        return cilium_chart_facts.find_chart(version)
    except cilium_chart_facts.ChartSourceMissing:
        # 1.18.12's source is not served by the proxy: the reference copy beside the repo.
        return requires_reference(f"cilium-chart-{version}")


def _chart_values(version: str) -> dict[str, Any]:
    return yaml.safe_load((_chart_dir(version) / "values.yaml").read_text())


def _lookup(values: dict[str, Any], dotted: str) -> tuple[bool, Any]:
    node: Any = values
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _served_kinds(directory: Path) -> set[tuple[str, str]]:
    served = set()
    for path in directory.glob("*.yaml"):
        for document in yaml.safe_load_all(path.read_text()):
            if document and document.get("kind") == "CustomResourceDefinition":
                kind = document["spec"]["names"]["kind"]
                served |= {(kind, v["name"]) for v in document["spec"]["versions"] if v["served"]}
    return served


def test_default_cilium_is_the_newest_verified_patch_of_the_newest_line() -> None:
    newest = max(SUPPORTED_LINES.values(), key=lambda line: tuple(map(int, line.minor.split("."))))
    assert DEFAULT_VERSION == newest.newest_verified_patch == "1.20.2"


@pytest.mark.parametrize("version", REFERENCE_VERSIONS)
def test_newest_verified_patch_is_the_reference_chart(version: str) -> None:
    chart = yaml.safe_load((_chart_dir(version) / "Chart.yaml").read_text())
    line = line_of(version)
    assert line is not None and line.newest_verified_patch == chart["version"] == version


@pytest.mark.parametrize("version", REFERENCE_VERSIONS)
def test_chart_defaults_the_checks_rely_on_match_values_yaml(version: str) -> None:
    values = _chart_values(version)
    line = line_of(version)
    assert line is not None
    for path, expected in line.chart_defaults.items():
        found, actual = _lookup(values, path)
        assert found, f"{path} is not in cilium {version} values.yaml"
        assert actual == expected, f"{path}: values.yaml has {actual!r}, upstream/ has {expected!r}"


@pytest.mark.parametrize("version", REFERENCE_VERSIONS)
def test_custom_resource_api_versions_match_the_charts_crd_list(version: str) -> None:
    chart = yaml.safe_load((_chart_dir(version) / "Chart.yaml").read_text())
    crds = {item["kind"]: item["version"]
            for item in yaml.safe_load(chart["annotations"]["artifacthub.io/crds"])}
    line = line_of(version)
    assert line is not None
    for kind, api_version in line.resource_api_versions.items():
        assert api_version == f"cilium.io/{crds[kind]}", kind


@pytest.mark.parametrize("version", REFERENCE_VERSIONS)
def test_gateway_api_bundle_serves_every_kind_the_line_requires(version: str) -> None:
    line = line_of(version)
    assert line is not None
    bundle = line.gateway_api
    served = _served_kinds(requires_reference(f"gateway-api-{bundle.version}", bundle.channel))
    missing = set(bundle.required_kinds) - served
    assert not missing, f"Gateway API {bundle.version} {bundle.channel} does not serve {missing}"


def test_cilium_1_20_needs_v1_kinds_that_older_bundles_do_not_serve() -> None:
    # Why 1.20 cannot use the older bundles: TLSRoute v1 and ReferenceGrant v1 arrived in v1.5.
    needed = set(SUPPORTED_LINES["1.20"].gateway_api.required_kinds)
    for older in ("v1.2.0", "v1.3.0"):
        assert needed - _served_kinds(requires_reference(f"gateway-api-{older}", "standard"))


def test_gateway_api_install_urls_are_pinned_release_assets() -> None:
    assert SUPPORTED_LINES["1.20"].gateway_api.install_url == (
        "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.6.0/"
        "standard-install.yaml")
    for line in SUPPORTED_LINES.values():
        assert f"/download/{line.gateway_api.version}/" in line.gateway_api.install_url


def test_ccm_chart_version_is_the_reference_chart() -> None:
    chart = yaml.safe_load((requires_reference("hcloud-ccm-chart-v1.35.0") / "Chart.yaml")
                           .read_text())
    assert chart["name"] == hetzner.CCM_CHART
    assert chart["version"] == hetzner.CCM_CHART_VERSION


def test_load_balancer_annotation_names_are_documented_by_the_ccm() -> None:
    doc = (requires_reference("hcloud-ccm-chart-v1.35.0") / "load_balancer_annotations.md").read_text()
    for annotation in (hetzner.LB_LOCATION, hetzner.LB_NETWORK_ZONE, hetzner.LB_TYPE,
                       hetzner.LB_USE_PRIVATE_IP, hetzner.LB_NAME, hetzner.LB_PRIVATE_IPV4,
                       hetzner.LB_DISABLE_PUBLIC_NETWORK):
        assert f"`{annotation}`" in doc


@pytest.mark.parametrize("tag,accepted", [("v1.6.0", True), ("v1.6.1", True), ("v1.5.1", False),
                                          ("v1.7.0", False), ("v2.6.0", False), ("1.6.0", False),
                                          ("latest", False)])
def test_a_cilium_line_accepts_gateway_api_patch_releases_of_its_minor(tag: str,
                                                                       accepted: bool) -> None:
    assert SUPPORTED_LINES["1.20"].gateway_api.accepts(tag) is accepted


def test_release_asset_pattern_reads_tag_and_channel_from_each_lines_install_url() -> None:
    for line in SUPPORTED_LINES.values():
        match = GATEWAY_API_RELEASE_ASSET.search(line.gateway_api.install_url)
        assert match is not None
        assert (match.group("tag"), match.group("channel")) == (line.gateway_api.version,
                                                                 line.gateway_api.channel)
    assert GATEWAY_API_RELEASE_ASSET.search("crds/gateway-api.yaml") is None


@pytest.mark.parametrize("version", ["v1.2.0", "v1.3.0", "v1.6.0"])
def test_every_upstream_crd_names_its_bundle_version(version: str) -> None:
    crds = gateway_api_crds(version)
    assert len(crds) >= 5
    for crd in crds:
        annotations = crd["metadata"]["annotations"]
        assert annotations[GATEWAY_API_BUNDLE_VERSION_ANNOTATION] == version, crd["metadata"]
