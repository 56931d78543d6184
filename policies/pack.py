"""The pack's policy list, in one place for ``__main__.py`` and the offline plan."""

from __future__ import annotations

from pulumi_policy import Policy

from policies.rules import (
    api_load_balancer,
    apisix,
    cilium,
    cilium_on_hetzner,
    cluster_autoscaler,
    etcd_snapshots,
    firewall,
    gateway_api,
    k3s,
    k3s_cilium,
    node_images,
    remote_commands,
    servers,
)

PACK_NAME = "k3s-hcloud"


def all_policies() -> list[Policy]:
    return [*firewall.POLICIES, *api_load_balancer.POLICIES, *servers.POLICIES,
            *remote_commands.POLICIES, *k3s.POLICIES, *k3s_cilium.POLICIES,
            *gateway_api.POLICIES, *cilium.POLICIES, *cilium_on_hetzner.POLICIES,
            *node_images.POLICIES, *cluster_autoscaler.POLICIES, *etcd_snapshots.POLICIES,
            *apisix.POLICIES]
