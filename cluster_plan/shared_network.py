"""One Hetzner network shared by several stacks: what a stack publishes about its network, and
what a stack joining it (``network.existing``) must respect.

Why share a network at all: Cilium Cluster Mesh needs every node of every cluster to reach every
other at its Kubernetes InternalIP (Cilium docs, network/clustermesh/clustermesh.rst,
"Prerequisites"), and here that is the node's private address (k3s ``node-ip``). Hetzner networks
are not connected to one another, so meshed clusters must sit in one network.

Each stack adds its own cloud subnet (its ``network.cidr``) to the network; Hetzner refuses
overlapping subnets, so overlaps are refused here first, naming the key on the joining stack.

Pure and free of Pulumi: the program reads the owner's ``network`` output and hands it here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Any

NETWORK_OUTPUT = "network"
"""Stack output with :meth:`NetworkFacts.to_output` (plain: ids and ranges are not secret)."""


@dataclass(frozen=True)
class NetworkFacts:
    """A stack's network as other stacks see it."""

    network_id: str
    ip_range: IPv4Network
    """The whole Hetzner network's range (room for every stack's subnet)."""
    node_cidr: IPv4Network
    """The publishing stack's own subnet."""
    zone: str
    """The Hetzner network zone of the subnets (this project keeps a network in one zone)."""

    def to_output(self) -> dict[str, str]:
        return {"id": self.network_id, "ipRange": str(self.ip_range),
                "nodeCidr": str(self.node_cidr), "zone": self.zone}

    @classmethod
    def from_output(cls, output: Any) -> "NetworkFacts | None":
        """The facts, or None when the output is absent or unreadable."""
        if not isinstance(output, Mapping):
            return None
        try:
            return cls(network_id=str(output["id"]), ip_range=IPv4Network(output["ipRange"]),
                       node_cidr=IPv4Network(output["nodeCidr"]), zone=str(output["zone"]))
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class JoinProblem:
    key: str
    message: str
    fix: str


def join_problems(owner_stack: str, owner: NetworkFacts | None, node_cidr: IPv4Network,
                  pod_cidr: IPv4Network, service_cidr: IPv4Network, zone: str
                  ) -> list[JoinProblem]:
    """What keeps this stack (subnet ``node_cidr``, pods ``pod_cidr``, services
    ``service_cidr``, network zone ``zone``) from joining the network ``owner_stack`` published;
    keys are this stack's."""
    if owner is None:
        return [JoinProblem(
            "network.existing.stack", f"stack {owner_stack} publishes no readable "
            f"'{NETWORK_OUTPUT}' output (not deployed yet, or deployed by an older version).",
            f"run `pulumi up` on {owner_stack} first, then on this stack.")]
    problems = []
    if zone != owner.zone:
        problems.append(JoinProblem(
            "location", f"this cluster is in network zone {zone}, the network of "
            f"{owner_stack} in {owner.zone}; servers attach only to subnets of their own zone.",
            f"use a location in {owner.zone}."))
    if not owner.ip_range.supernet_of(node_cidr):
        problems.append(JoinProblem(
            "network.cidr", f"{node_cidr} is not inside the network of {owner_stack} "
            f"({owner.ip_range}); Hetzner only accepts subnets within the network's range.",
            f"pick a range inside {owner.ip_range}, or widen network.ipRange on {owner_stack}."))
    if node_cidr.overlaps(owner.node_cidr):
        problems.append(JoinProblem(
            "network.cidr", f"{node_cidr} overlaps the subnet of {owner_stack} "
            f"({owner.node_cidr}).", f"pick a range inside {owner.ip_range} disjoint from "
            f"{owner.node_cidr}."))
    for key, kind, cidr in (("k3s.clusterCidr", "pods", pod_cidr),
                            ("k3s.serviceCidr", "services", service_cidr)):
        # As on the owner (and the policy pack's k3s-cluster-ranges-outside-hetzner-network):
        # pod and Service addresses inside the network's range would shadow its servers.
        if cidr.overlaps(owner.ip_range):
            problems.append(JoinProblem(
                key, f"this cluster's {kind} ({cidr}) overlap the network of {owner_stack} "
                f"({owner.ip_range}), where the sharing stacks' subnets go: those addresses "
                "would shadow servers.", f"pick a range outside {owner.ip_range}."))
    return problems
