"""Gateway API CRDs: installed before (a dependency of) the Cilium release, of the line's release.

Stack policies, called with the resources the analyzer would pass: a compliant baseline per
Cilium line, each violation with its exact message, missing properties, and unknown values.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pulumi_policy import PolicyResource
from pulumi_policy.proxy import UnknownValueError

from policies.rules.gateway_api import crds_installed_first, crds_match_line
from policies.rules.types import (
    CUSTOM_RESOURCE_DEFINITION,
    HELM_RELEASE,
    YAML_CONFIG_FILE,
    YAML_CONFIG_GROUP,
)
from tests.gateway_api_reference import gateway_api_crds
from tests.policy_fixtures import UNKNOWN, check_stack, stack_resource
from upstream.cilium import SUPPORTED_LINES

ASSET = "https://github.com/kubernetes-sigs/gateway-api/releases/download/{}/standard-install.yaml"
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
GATEWAY_ON = {"kubeProxyReplacement": True, "l7Proxy": True, "gatewayAPI": {"enabled": True}}


def cilium(version: str = "1.20.0", values: dict[str, Any] | None = None,
           dependencies: list[PolicyResource] | None = None) -> PolicyResource:
    props = {"chart": "cilium", "version": version,
             "values": GATEWAY_ON if values is None else values}
    return stack_resource(HELM_RELEASE, props, "my-cilium", dependencies)


def config_file(file: Any, name: str = "crds") -> PolicyResource:
    return stack_resource(YAML_CONFIG_FILE, {"file": file}, name)


def both(resources: list[PolicyResource], config: dict[str, Any] | None = None) -> list[str]:
    return (check_stack(crds_installed_first, resources, config)
            + check_stack(crds_match_line, resources, config))


# -- compliant --------------------------------------------------------------------------------------
@pytest.mark.parametrize("version", ["1.18.12", "1.19.6", "1.20.0"])
def test_the_lines_release_asset_as_a_dependency_passes(version: str) -> None:
    line = SUPPORTED_LINES[version.rsplit(".", 1)[0]]
    crds = config_file(line.gateway_api.install_url)
    assert both([crds, cilium(version, dependencies=[crds])]) == []


def test_gateway_api_off_needs_no_crds() -> None:
    assert both([cilium(values={"kubeProxyReplacement": True})]) == []
    assert both([cilium(values={})]) == [], "chart default: gatewayAPI.enabled false"


def test_a_release_without_values_uses_the_chart_default_gateway_off() -> None:
    release = stack_resource(HELM_RELEASE, {"chart": "cilium", "version": "1.20.0"}, "my-cilium")
    assert both([release]) == []


def test_an_indirect_dependency_still_orders_the_crds_first() -> None:
    crds = config_file(ASSET.format("v1.6.0"))
    ccm = stack_resource(HELM_RELEASE, {"chart": "hcloud-cloud-controller-manager"}, "ccm", [crds])
    assert both([crds, ccm, cilium(dependencies=[ccm])]) == []


def test_depending_on_a_component_waits_for_the_crds_inside_it() -> None:
    component = stack_resource("acme:index:GatewayApi", {}, "gateway-api")
    crds = config_file(ASSET.format("v1.6.0"))
    crds.parent = component
    assert both([component, crds, cilium(dependencies=[component])]) == []


def test_the_real_analyzers_view_of_a_config_file_component_passes() -> None:
    # `pulumi preview` gives stack policies each resource's outputs: a yaml/v2 ConfigFile (a
    # remote component) shows only its `resources` output, not `file`; the provider registers
    # the manifest's objects as its children. The offline gate shows inputs and no children.
    component = stack_resource(YAML_CONFIG_FILE, {"resources": ["<resource references>"]}, "crds")
    children = [stack_resource(CUSTOM_RESOURCE_DEFINITION, crd, f"crds:{crd['metadata']['name']}")
                for crd in gateway_api_crds("v1.6.0")]
    for child in children:
        child.parent = component
    assert both([component, *children, cilium(dependencies=[component])]) == []
    old = gateway_api_crds("v1.3.0")
    stale = [stack_resource(CUSTOM_RESOURCE_DEFINITION, crd, crd["metadata"]["name"]) for crd in old]
    for child in stale:
        child.parent = component
    assert len(check_stack(crds_installed_first, [component, *stale,
                                                  cilium(dependencies=[component])])) == 1
    [mismatch] = check_stack(crds_match_line, [component, *stale, cilium(dependencies=[component])])
    assert mismatch.startswith("Gateway API CRDs from 'crds' are release v1.3.0,"), \
        "one finding, naming the ConfigFile the user wrote, not each CRD it created"


def test_a_patch_release_of_the_same_minor_matches_the_line() -> None:
    crds = config_file(ASSET.format("v1.6.1"))
    assert both([crds, cilium(dependencies=[crds])]) == []


def test_crd_objects_of_the_lines_release_pass() -> None:
    crds = [stack_resource(CUSTOM_RESOURCE_DEFINITION, crd, crd["metadata"]["name"])
            for crd in gateway_api_crds("v1.6.0")]
    assert both([*crds, cilium(dependencies=crds)]) == []


def test_a_config_group_of_crd_objects_or_yaml_text_is_recognised() -> None:
    documents = gateway_api_crds("v1.3.0")
    objs = stack_resource(YAML_CONFIG_GROUP, {"objs": documents}, "crds")
    text = stack_resource(YAML_CONFIG_GROUP, {"yaml": yaml.dump_all(documents, Dumper=DUMPER)}, "crds")
    files = stack_resource(YAML_CONFIG_GROUP, {"files": [ASSET.format("v1.3.0")]}, "crds")
    for group in (objs, text, files):
        assert both([group, cilium("1.19.6", dependencies=[group])]) == []


# -- installed first: each violation ------------------------------------------------------------------
def test_no_crds_anywhere_is_reported_with_the_install_url() -> None:
    assert check_stack(crds_installed_first, [cilium()]) == [
        "Helm release 'my-cilium' (Cilium 1.20.0) enables Gateway API but nothing in the stack "
        "installs the Gateway API CRDs, so the Cilium operator leaves Gateway API silently off. "
        "Fix: apply https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.6.0/"
        "standard-install.yaml (e.g. a kubernetes.yaml.v2.ConfigFile) and add it to the "
        "release's depends_on."]


def test_crds_that_the_release_does_not_wait_for_are_reported() -> None:
    crds = config_file(ASSET.format("v1.6.0"), name="gateway-crds")
    assert check_stack(crds_installed_first, [crds, cilium()]) == [
        "Helm release 'my-cilium' (Cilium 1.20.0) enables Gateway API but does not depend on the "
        "resource that installs the Gateway API CRDs (gateway-crds): Pulumi may create both at "
        "once, and the Cilium operator, which looks for the CRDs only when it starts, leaves "
        "Gateway API silently off. Fix: add that resource to the release's depends_on."]


def test_a_dependency_that_lacks_kinds_the_line_reads_is_reported() -> None:
    crds = [stack_resource(CUSTOM_RESOURCE_DEFINITION, crd, crd["metadata"]["name"])
            for crd in gateway_api_crds("v1.6.0")
            if crd["spec"]["names"]["kind"] in ("GatewayClass", "Gateway", "HTTPRoute")]
    assert check_stack(crds_installed_first, [*crds, cilium(dependencies=crds)]) == [
        "Helm release 'my-cilium' (Cilium 1.20.0) enables Gateway API, but the CRDs it depends on "
        "lack GRPCRoute, TLSRoute, ReferenceGrant, BackendTLSPolicy, which Cilium 1.20 checks for "
        "at start-up; Gateway API stays silently off. Fix: install the whole v1.6.0 standard "
        "bundle (https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.6.0/"
        "standard-install.yaml) before the release."]


def test_a_local_manifest_file_is_not_taken_for_the_crds() -> None:
    # The analyzer runs where the program's files are not: a local file cannot be read.
    crds = config_file("manifests/gateway-api.yaml")
    assert len(check_stack(crds_installed_first, [crds, cilium(dependencies=[crds])])) == 1


# -- matching the line: each violation --------------------------------------------------------------
def test_a_release_asset_of_another_minor_is_reported() -> None:
    crds = config_file(ASSET.format("v1.3.0"), name="gateway-crds")
    assert check_stack(crds_match_line, [crds, cilium(dependencies=[crds])]) == [
        "Gateway API CRDs from 'gateway-crds' are release v1.3.0, but Helm release 'my-cilium' "
        "(Cilium 1.20.0) is built against v1.6.0 (standard channel). Fix: install "
        "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.6.0/"
        "standard-install.yaml, or list the release you verified in acceptedVersions in the "
        "pack config."]


def test_newer_crds_for_an_older_line_are_reported_too() -> None:
    # v1.5+ no longer serves the TLSRoute v1alpha2 Cilium <= 1.19 reads.
    crds = config_file(ASSET.format("v1.6.0"))
    assert len(check_stack(crds_match_line, [crds, cilium("1.19.6", dependencies=[crds])])) == 1


def test_the_pack_config_can_accept_a_release_the_user_verified() -> None:
    # 1.18 installs v1.2 and no 1.18 release has a conformance report for v1.4.
    crds = config_file(ASSET.format("v1.4.1"))
    resources = [crds, cilium("1.18.12", dependencies=[crds])]
    assert len(check_stack(crds_match_line, resources)) == 1
    assert check_stack(crds_match_line, resources, {"acceptedVersions": ["v1.4.1"]}) == []


def test_crd_objects_are_judged_by_their_bundle_annotation() -> None:
    crds = stack_resource(YAML_CONFIG_GROUP, {"objs": gateway_api_crds("v1.2.0")}, "old-crds")
    assert check_stack(crds_match_line, [crds, cilium(dependencies=[crds])]) == [
        "Gateway API CRDs from 'old-crds' are release v1.2.0, but Helm release 'my-cilium' "
        "(Cilium 1.20.0) is built against v1.6.0 (standard channel). Fix: install "
        "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.6.0/"
        "standard-install.yaml, or list the release you verified in acceptedVersions in the "
        "pack config."]


def test_crd_objects_without_annotation_are_judged_by_the_versions_they_serve() -> None:
    documents = gateway_api_crds("v1.3.0")
    for crd in documents:
        del crd["metadata"]["annotations"]
    crds = stack_resource(YAML_CONFIG_GROUP, {"objs": documents}, "old-crds")
    assert check_stack(crds_match_line, [crds, cilium(dependencies=[crds])]) == [
        "Gateway API CRDs from 'old-crds' do not serve ReferenceGrant v1, but Helm release "
        "'my-cilium' (Cilium 1.20.0) is built against v1.6.0 (standard channel). Fix: install "
        "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.6.0/"
        "standard-install.yaml, or list the release you verified in acceptedVersions in the "
        "pack config."]


# -- missing properties -----------------------------------------------------------------------------
@pytest.mark.parametrize("resource", [
    stack_resource(YAML_CONFIG_FILE, {}, "crds"),
    stack_resource(YAML_CONFIG_GROUP, {}, "crds"),
    stack_resource(YAML_CONFIG_GROUP, {"yaml": "::: not yaml"}, "crds"),
    stack_resource(CUSTOM_RESOURCE_DEFINITION, {"metadata": {"name": "x"}}, "crds"),
    stack_resource(CUSTOM_RESOURCE_DEFINITION, {"spec": {"group": "cilium.io"}}, "crds"),
], ids=["file", "group", "broken yaml", "crd without spec", "another group"])
def test_resources_missing_what_installs_crds_are_not_installers(resource: PolicyResource) -> None:
    assert len(check_stack(crds_installed_first, [resource, cilium(dependencies=[resource])])) == 1
    assert check_stack(crds_match_line, [resource, cilium(dependencies=[resource])]) == []


def test_a_release_without_a_supported_version_is_left_to_the_version_policy() -> None:
    assert both([cilium(version="")]) == []


# -- unknown values during preview ------------------------------------------------------------------
@pytest.mark.parametrize("resources", [
    lambda: [cilium(values={"gatewayAPI": {"enabled": UNKNOWN}})],
    lambda: [cilium(values=UNKNOWN)],
    lambda: [config_file(UNKNOWN), cilium()],
    lambda: [stack_resource(YAML_CONFIG_GROUP, {"objs": UNKNOWN}, "crds"), cilium()],
    lambda: [stack_resource(CUSTOM_RESOURCE_DEFINITION, {"spec": UNKNOWN}, "crds"), cilium()],
], ids=["gatewayAPI.enabled", "values", "file", "objs", "crd spec"])
@pytest.mark.parametrize("policy", [crds_installed_first, crds_match_line], ids=lambda p: p.name)
def test_unknown_values_raise_during_preview(resources: Any, policy: Any) -> None:
    with pytest.raises(UnknownValueError):
        check_stack(policy, resources())
