"""The one builder of hcloud-ccm load-balancer annotations, and its three users."""

from __future__ import annotations

from cluster_plan.load_balancer_annotations import (
    HetznerLoadBalancer, hcloud_ccm_annotations, zone_problem)
from components.kubernetes import apisix_manifests, gateway_manifest
from stack_config import validate_cluster_spec
from upstream import hetzner


def test_only_what_is_decided_is_annotated_and_booleans_are_strings() -> None:
    assert hcloud_ccm_annotations(HetznerLoadBalancer("dev-x", "nbg1")) == {
        hetzner.LB_NAME: "dev-x", hetzner.LB_LOCATION: "nbg1"}
    full = hcloud_ccm_annotations(HetznerLoadBalancer("dev-x", "hel1", "lb21", False))
    assert full == {hetzner.LB_NAME: "dev-x", hetzner.LB_LOCATION: "hel1",
                    hetzner.LB_TYPE: "lb21", hetzner.LB_USE_PRIVATE_IP: "false"}
    assert all(isinstance(value, str) for value in full.values())
    # location and network-zone are mutually exclusive for hcloud-ccm: only location is set.
    assert hetzner.LB_NETWORK_ZONE not in full


def test_zone_problem_names_both_zones() -> None:
    assert zone_problem("hel1", "eu-central") is None
    assert zone_problem("ash", "eu-central") == (
        "ash is in us-east, the network in eu-central: the load balancer could not attach to it.")


def test_gateway_apisix_and_clustermesh_annotate_through_the_builder() -> None:
    gateway = validate_cluster_spec({"clusterName": "dev", "cilium": {"values": {
        "gatewayAPI": {"enabled": True}, "l7Proxy": True}},
        "addons": {"gateway": {"enabled": True, "name": "web"}}})
    # The Cilium Gateway keeps its annotations, in the same order, as before the shared builder.
    assert list(gateway_manifest.load_balancer_annotations(gateway).items()) == [
        (hetzner.LB_NAME, "dev-web"), (hetzner.LB_LOCATION, "nbg1"), (hetzner.LB_TYPE, "lb11"),
        (hetzner.LB_USE_PRIVATE_IP, "true")]
    apisix = validate_cluster_spec({"clusterName": "dev", "k3s": {"disable": ["traefik"]},
                                    "addons": {"apisix": {"enabled": True}}})
    assert apisix_manifests.load_balancer_annotations(apisix) == hcloud_ccm_annotations(
        HetznerLoadBalancer("dev-apisix", "nbg1", "lb11", True))
    mesh = validate_cluster_spec({"clusterName": "dev", "cilium": {
        "values": {"cluster": {"id": 1, "name": "dev"}},
        "clusterMesh": {"peers": ["other"], "serviceType": "LoadBalancer"}}})
    service = mesh.cilium_helm_values["clustermesh"]["apiserver"]["service"]
    assert service["annotations"] == hcloud_ccm_annotations(
        HetznerLoadBalancer("dev-clustermesh", "nbg1"))
