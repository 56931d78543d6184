"""The pack's policy list, in one place for ``__main__.py`` and the offline plan."""

from __future__ import annotations

from pulumi_policy import Policy

from policies.rules import cilium, cilium_on_hetzner, firewall, gateway_api, node_images

PACK_NAME = "k3s-hcloud"


def all_policies() -> list[Policy]:
    return [*firewall.POLICIES, *gateway_api.POLICIES, *cilium.POLICIES,
            *cilium_on_hetzner.POLICIES, *node_images.POLICIES]
