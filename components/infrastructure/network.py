"""PrivateNetwork: the Hetzner network every server and the API load balancer join.

Creates:
- ``hcloud.Network`` ``<name>``: over ``network.ipRange`` (default: ``network.cidr``) — unless
  ``network.existing`` names the stack whose network this cluster joins: then a
  ``StackReference`` ``<name>-owner`` reads that stack's ``network`` output instead, and the joining
  problems (``cluster_plan.shared_network``) are refused before any server is created;
- ``hcloud.NetworkSubnet`` ``<name>-subnet``: one cloud subnet over ``network.cidr``, in the network
  zone of the stack's locations (the config refuses mixed zones).

Addresses inside the subnet follow ``address_plan.py``; the gateway is the range's first address.
"""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import Any

import pulumi
import pulumi_hcloud as hcloud

from cluster_plan.shared_network import NETWORK_OUTPUT, NetworkFacts, join_problems
from components.stack_names import qualified
from stack_config import ClusterSpec
from stack_config.errors import ConfigError, ConfigProblem


class PrivateNetwork(pulumi.ComponentResource):
    network: hcloud.Network | None
    """None when the network belongs to another stack (``network.existing``)."""
    subnet: hcloud.NetworkSubnet
    network_id: pulumi.Output[int]
    facts: pulumi.Output[dict[str, str]]
    """What this stack publishes as its ``network`` output (other stacks may join)."""

    def __init__(self, name: str, spec: ClusterSpec, labels: dict[str, str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        config = spec.network
        super().__init__("k3s-hcloud:infrastructure:PrivateNetwork", name,
                         {"cidr": str(config.cidr), "networkZone": spec.network_zone}, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.network = None
        if config.existing is None:
            self.network = hcloud.Network(name, name=name, ip_range=str(config.network_range),
                                          labels=labels, opts=child)
            self.network_id = self.network.id.apply(int)
            ip_range: pulumi.Output[str] = pulumi.Output.from_input(str(config.network_range))
        else:
            owner = config.existing.stack
            reference = pulumi.StackReference(f"{name}-owner", stack_name=qualified(owner),
                                              opts=child)
            joined = reference.get_output(NETWORK_OUTPUT).apply(
                lambda output: _joinable(owner, output, spec))
            self.network_id = joined.apply(lambda facts: int(facts.network_id))
            ip_range = joined.apply(lambda facts: str(facts.ip_range))
        self.subnet = hcloud.NetworkSubnet(f"{name}-subnet", network_id=self.network_id,
                                           type="cloud", network_zone=spec.network_zone,
                                           ip_range=str(config.cidr), opts=child)
        self.facts = pulumi.Output.all(self.network_id, ip_range).apply(
            lambda args: NetworkFacts(str(args[0]), IPv4Network(args[1]), config.cidr,
                                      spec.network_zone).to_output())
        self.register_outputs({"networkId": self.network_id, "subnetId": self.subnet.id})


def _joinable(owner: str, output: Any, spec: ClusterSpec) -> NetworkFacts:
    facts = NetworkFacts.from_output(output)
    problems = join_problems(owner, facts, spec.network.cidr, spec.k3s.cluster_cidr,
                             spec.k3s.service_cidr, spec.network_zone)
    if problems:
        raise ConfigError([ConfigProblem(p.key, f"{p.message} Fix: {p.fix}") for p in problems])
    assert facts is not None
    return facts
