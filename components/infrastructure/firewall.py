"""Firewalls: the Hetzner Cloud firewalls in front of every public interface.

One firewall per kind of server that has a public interface (``firewall_rules.public_targets``):
``<name>-bastion`` and ``<name>-nodes``; in private mode only the bastion's exists. Rules come from
the table in ``firewall_rules.py``, each with its description. Servers reference the firewall at
creation (``firewall_ids``), so no server is ever reachable unfiltered, not even while booting.

Creates: ``hcloud.Firewall`` ``<name>-<target>`` per target.
"""

from __future__ import annotations

import pulumi
import pulumi_hcloud as hcloud

from cluster_plan.firewall_rules import (
    AccessPolicy,
    FirewallRule,
    Target,
    public_targets,
    rule_table,
    rules_for,
)


def _rule_args(rule: FirewallRule) -> hcloud.FirewallRuleArgs:
    return hcloud.FirewallRuleArgs(direction="in", protocol=rule.protocol, port=rule.port,
                                   source_ips=list(rule.sources), description=rule.description)


class Firewalls(pulumi.ComponentResource):
    firewalls: dict[Target, hcloud.Firewall]
    ids: dict[Target, pulumi.Output[int]]

    def __init__(self, name: str, policy: AccessPolicy, labels: dict[str, str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("k3s-hcloud:infrastructure:Firewalls", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        rules = rule_table(policy)
        self.firewalls = {}
        for target in public_targets(policy):
            # No rule for a target means every inbound packet is dropped (Hetzner's implicit deny).
            self.firewalls[target] = hcloud.Firewall(
                f"{name}-{target}", name=f"{name}-{target}",
                rules=[_rule_args(rule) for rule in rules_for(target, rules)],
                labels={**labels, "firewall": target}, opts=child)
        self.ids = {target: firewall.id.apply(int) for target, firewall in self.firewalls.items()}
        self.register_outputs({f"{target}FirewallId": fw.id for target, fw in self.firewalls.items()})
