"""Native routing on Hetzner works only with pod addresses from the nodes' Kubernetes PodCIDRs,
the ranges hcloud-ccm routes (ipam.mode: kubernetes)."""

from __future__ import annotations

import pytest

from stack_config import validate_cluster_spec
from tests.helpers import config_problems, minimal_config


@pytest.mark.parametrize("mode", ["cluster-pool", "multi-pool"])
def test_a_pool_ipam_with_native_routing_is_refused(mode: str) -> None:
    problems = config_problems(minimal_config(cilium={"values": {"ipam": {"mode": mode}}}))
    assert f"cilium.values.ipam.mode: '{mode}' hands out pod addresses that no Hetzner network " \
           "route leads to: with native routing, hcloud-ccm routes only each node's Kubernetes " \
           "PodCIDR. Fix: use ipam.mode: kubernetes (k3s-hcloud's default), or " \
           "routingMode: tunnel." in problems


def test_a_pool_ipam_is_safe_with_tunnel_routing() -> None:
    # Encapsulated pod traffic travels between node addresses, which the network routes.
    spec = validate_cluster_spec(minimal_config(cilium={"values": {
        "routingMode": "tunnel", "ipam": {"mode": "cluster-pool", "operator": {
            "clusterPoolIPv4PodCIDRList": ["10.42.0.0/16"]}}}}))
    assert spec.cilium_helm_values["ipam"]["mode"] == "cluster-pool"


def test_the_default_is_kubernetes_ipam_with_native_routing() -> None:
    values = validate_cluster_spec(minimal_config()).cilium_helm_values
    assert (values["routingMode"], values["ipam"]["mode"]) == ("native", "kubernetes")
