"""The firewall rule table: what the internet may reach, one record per service.

Hetzner Cloud firewalls filter public interfaces only: the private network is not filtered, and
they never apply to load balancers (a public API load balancer is NOT protected by these rules).
Inbound has an implicit deny: a service whose source list is empty gets no rule and is closed.
Outbound gets no rule, which Hetzner reads as "allow all" (the bastion's NAT egress needs it).
Firewalls are stateful, so replies to outbound connections need no rule.
Ref: https://docs.hetzner.com/cloud/firewalls/faq/

Each rule names the servers it is for: the ``bastion`` or the k3s ``nodes``. A firewall exists
only for servers that have a public interface (in private mode: the bastion alone).

Pure: no Pulumi, no ``stack_config`` imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from upstream.k3s import API_PORT
from upstream.openssh import SSH_PORT

Target = Literal["bastion", "nodes"]
Protocol = Literal["tcp", "udp", "icmp"]

SSH_PORT_TEXT = str(SSH_PORT)
KUBERNETES_API_PORT = str(API_PORT)


@dataclass(frozen=True)
class AccessPolicy:
    """The stack's ``access`` and network mode, as the rule table needs them."""

    ssh_sources: tuple[str, ...]
    api_sources: tuple[str, ...]
    icmp_sources: tuple[str, ...]
    private_only: bool
    bastion: bool


@dataclass(frozen=True)
class FirewallRule:
    description: str
    protocol: Protocol
    port: str | None
    """None for ICMP, which has no ports."""
    sources: tuple[str, ...]
    targets: frozenset[Target]


def rule_table(policy: AccessPolicy) -> list[FirewallRule]:
    """Every inbound rule the stack asks for; services with no allowed source are left out."""
    # In private mode the nodes have no public interface: the bastion is the only SSH door.
    ssh_targets: frozenset[Target] = (frozenset({"bastion"}) if policy.private_only
                                      else frozenset({"bastion", "nodes"}))
    table = [
        FirewallRule("SSH from access.sshAllowedCidrs", "tcp", SSH_PORT_TEXT,
                     policy.ssh_sources, ssh_targets),
        FirewallRule("Kubernetes API on the servers from access.apiAllowedCidrs "
                     "(a public API load balancer is not covered)", "tcp", KUBERNETES_API_PORT,
                     policy.api_sources, frozenset({"nodes"})),
        FirewallRule("ICMP (ping) from access.icmpAllowedCidrs", "icmp", None,
                     policy.icmp_sources, frozenset({"bastion", "nodes"})),
    ]
    return [rule for rule in table if rule.sources]


def public_targets(policy: AccessPolicy) -> list[Target]:
    """Targets with a public interface, i.e. the ones that get a firewall."""
    targets: list[Target] = []
    if policy.bastion:
        targets.append("bastion")
    if not policy.private_only:
        targets.append("nodes")
    return targets


def rules_for(target: Target, rules: list[FirewallRule]) -> list[FirewallRule]:
    return [rule for rule in rules if target in rule.targets]
