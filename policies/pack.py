"""The pack's policy list, in one place for ``__main__.py`` and the offline plan."""

from __future__ import annotations

from pulumi_policy import Policy

from policies.rules import firewall

PACK_NAME = "k3s-hcloud"


def all_policies() -> list[Policy]:
    return [*firewall.POLICIES]
