"""The pack's policy list, in one place for ``__main__.py`` and the offline plan."""

from __future__ import annotations

from pulumi_policy import Policy

from policies.rules import api_load_balancer, firewall, k3s, remote_commands, servers

PACK_NAME = "k3s-hcloud"


def all_policies() -> list[Policy]:
    return [*firewall.POLICIES, *api_load_balancer.POLICIES, *servers.POLICIES, *k3s.POLICIES,
            *remote_commands.POLICIES]
