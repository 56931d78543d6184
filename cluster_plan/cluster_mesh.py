"""Cilium Cluster Mesh between stacks: the facts a cluster publishes, the prerequisites two
meshed clusters must meet, and the Helm values that connect them.

Pure and free of Pulumi: the program reads each peer's facts from its stack outputs and hands
them here; tests hand in fakes. Every problem names the key on the stack being changed, since
that is the only file the person running ``pulumi up`` can edit right now.

Prerequisites: Cilium docs, network/clustermesh/clustermesh.rst ("Prerequisites": unique
cluster name and id 1–255, non-overlapping PodCIDR ranges and node IPs, same datapath/routing
mode, reachable clustermesh-apiserver) and network/clustermesh/intro.rst.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Any

from cluster_plan.load_balancer_annotations import HetznerLoadBalancer, hcloud_ccm_annotations

# clustermesh-apiserver's etcd port (chart: clustermesh.apiserver.service.* and the default
# ``port: 2379`` of clustermesh.config.clusters entries).
APISERVER_PORT = 2379
# The chart's default clustermesh.apiserver.service.nodePort, used with serviceType NodePort.
APISERVER_NODE_PORT = 32379

# Output names a meshed stack publishes; peers read them with a StackReference.
FACTS_OUTPUT = "clusterMesh"
"""Plain facts (a mapping, see :meth:`MeshFacts.to_output`)."""
CA_OUTPUT = "clusterMeshCa"
"""The shared CA (``{"cert": PEM, "key": PEM}``), exported as a secret."""

HIGHEST_CLUSTER_ID = 255


@dataclass(frozen=True)
class MeshFacts:
    """What one cluster tells its peers about itself."""

    name: str
    cluster_id: int
    pod_cidr: IPv4Network
    node_cidr: IPv4Network
    routing_mode: str
    native_routing_cidr: IPv4Network | None = None
    apiserver_addresses: tuple[str, ...] = ()
    """Private addresses where peers reach this cluster's clustermesh-apiserver."""
    network_id: str | None = None
    apiserver_port: int = APISERVER_PORT

    def to_output(self) -> dict[str, Any]:
        return {"name": self.name, "clusterId": self.cluster_id, "podCidr": str(self.pod_cidr),
                "nodeCidr": str(self.node_cidr), "routingMode": self.routing_mode,
                "nativeRoutingCidr": (str(self.native_routing_cidr)
                                      if self.native_routing_cidr else None),
                "apiserverAddresses": list(self.apiserver_addresses),
                "networkId": self.network_id, "apiserverPort": self.apiserver_port}

    @classmethod
    def from_output(cls, stack: str, output: Any) -> "MeshFacts":
        """A peer's published facts; a stack that publishes none (or garbage) is an error."""
        if not isinstance(output, Mapping):
            raise MeshFactsMissing(stack)
        try:
            native = output.get("nativeRoutingCidr")
            return cls(name=str(output["name"]), cluster_id=int(output["clusterId"]),
                       pod_cidr=IPv4Network(output["podCidr"]),
                       node_cidr=IPv4Network(output["nodeCidr"]),
                       routing_mode=str(output["routingMode"]),
                       native_routing_cidr=IPv4Network(native) if native else None,
                       apiserver_addresses=tuple(str(a) for a in
                                                 output.get("apiserverAddresses") or ()),
                       network_id=(str(output["networkId"]) if output.get("networkId")
                                   else None),
                       apiserver_port=int(output.get("apiserverPort") or APISERVER_PORT))
        except (KeyError, TypeError, ValueError) as error:
            raise MeshFactsMissing(stack, f"its output {FACTS_OUTPUT} is unreadable "
                                   f"({error})") from error


class MeshFactsMissing(ValueError):
    def __init__(self, stack: str, reason: str | None = None) -> None:
        self.stack = stack
        super().__init__(
            f"peer stack {stack} {reason or f'publishes no {FACTS_OUTPUT} output'}. Fix: run "
            f"`pulumi up` on {stack} with cilium.clusterMesh set (listing this stack as a peer), "
            f"or remove it from cilium.clusterMesh.peers.")


@dataclass(frozen=True)
class MeshProblem:
    key: str
    """The key in this stack's file to change, as written there."""
    message: str
    """What is wrong, then ``Fix:`` and how to fix it."""

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"

    @property
    def parts(self) -> tuple[str, str]:
        """(problem, fix) for callers that report the fix separately."""
        problem, _, fix = self.message.partition(" Fix: ")
        return problem, fix


def own_problems(own: MeshFacts) -> list[MeshProblem]:
    """What this cluster alone gets wrong for Cluster Mesh (the egress gateway conflict is a
    chart rule, ``upstream.cilium_chart``, which sees the mesh values)."""
    problems = []
    if not 1 <= own.cluster_id <= HIGHEST_CLUSTER_ID:
        problems.append(MeshProblem(
            "cilium.values.cluster.id", f"{own.cluster_id} is outside 1–{HIGHEST_CLUSTER_ID}; "
            "Cluster Mesh needs a unique id per cluster (0 means 'not meshed'). Fix: pick an "
            "unused id between 1 and 255."))
    if own.routing_mode == "native" and own.native_routing_cidr is not None \
            and not own.native_routing_cidr.supernet_of(own.pod_cidr):
        problems.append(MeshProblem(
            "cilium.values.ipv4NativeRoutingCIDR", f"{own.native_routing_cidr} does not cover "
            f"this cluster's pods ({own.pod_cidr}). Fix: use a range containing it."))
    return problems


def peer_problems(own: MeshFacts, peers: Mapping[str, MeshFacts]) -> list[MeshProblem]:
    """What keeps this cluster from meshing with its peers (``stack name → facts``)."""
    problems = []
    seen_names: dict[str, str] = {own.name: "this stack"}
    seen_ids: dict[int, str] = {own.cluster_id: "this stack"}
    for stack, peer in sorted(peers.items()):
        if peer.name in seen_names:
            problems.append(MeshProblem(
                "cilium.values.cluster.name", f"peer {stack} uses the same cluster name "
                f"'{peer.name}' as {seen_names[peer.name]}. Fix: give every meshed cluster a "
                "unique cluster.name."))
        seen_names.setdefault(peer.name, stack)
        if peer.cluster_id in seen_ids:
            problems.append(MeshProblem(
                "cilium.values.cluster.id", f"peer {stack} uses the same cluster id "
                f"{peer.cluster_id} as {seen_ids[peer.cluster_id]}. Fix: pick an id no other "
                "meshed cluster uses (1–255)."))
        seen_ids.setdefault(peer.cluster_id, stack)
        if own.pod_cidr.overlaps(peer.pod_cidr):
            problems.append(MeshProblem(
                "k3s.clusterCidr", f"this cluster's pods ({own.pod_cidr}) overlap peer {stack}'s "
                f"({peer.pod_cidr}). Fix: choose a pod range disjoint from every peer's."))
        if own.network_id is not None and peer.network_id is not None \
                and own.network_id != peer.network_id:
            # Cilium needs every node to reach every peer node at its InternalIP, which here is
            # the private address (k3s node-ip); Hetzner networks are not connected to each
            # other, and tunnelling over public addresses would still target the private ones.
            problems.append(MeshProblem(
                "network.existing.stack", f"peer {stack}'s nodes are in Hetzner network "
                f"{peer.network_id}, this cluster's in {own.network_id}; meshed nodes must "
                "reach each other at their private addresses, which only one shared network "
                f"gives. Fix: on the stack that joins, set network.existing.stack to the other "
                f"(here: network.existing.stack: {stack}, with a network.cidr inside its "
                "network.ipRange), then `pulumi up` the owner of the network first."))
        if own.node_cidr.overlaps(peer.node_cidr):
            problems.append(MeshProblem(
                "network.cidr", f"this cluster's node range ({own.node_cidr}) overlaps peer "
                f"{stack}'s ({peer.node_cidr}). Fix: choose a node range disjoint from every "
                "peer's."))
        if own.pod_cidr.overlaps(peer.node_cidr):
            problems.append(MeshProblem(
                "k3s.clusterCidr", f"this cluster's pods ({own.pod_cidr}) overlap peer "
                f"{stack}'s nodes ({peer.node_cidr}). Fix: choose a pod range disjoint from "
                "every peer's node range."))
        if own.node_cidr.overlaps(peer.pod_cidr):
            problems.append(MeshProblem(
                "network.cidr", f"this cluster's node range ({own.node_cidr}) overlaps peer "
                f"{stack}'s pods ({peer.pod_cidr}). Fix: choose a node range disjoint from "
                "every peer's pod range."))
        if own.routing_mode != peer.routing_mode:
            problems.append(MeshProblem(
                "cilium.values.routingMode", f"'{own.routing_mode}' here, '{peer.routing_mode}' "
                f"on peer {stack}; meshed clusters must use the same routing mode. Fix: use "
                f"'{peer.routing_mode}' here or change the peer."))
        elif own.routing_mode == "native" and own.native_routing_cidr is not None \
                and not own.native_routing_cidr.supernet_of(peer.pod_cidr):
            problems.append(MeshProblem(
                "cilium.values.ipv4NativeRoutingCIDR", f"{own.native_routing_cidr} does not "
                f"cover peer {stack}'s pods ({peer.pod_cidr}), so traffic to them would be "
                "masqueraded. Fix: use a range containing every meshed cluster's pods."))
    return problems


def apiserver_load_balancer_annotations(name: str, location: str, private_ip: str
                                        ) -> dict[str, str]:
    """hcloud-ccm annotations of the clustermesh-apiserver's Hetzner LB: private only.

    Peers share this cluster's Hetzner network (the mesh needs it anyway, see
    ``peer_problems``), so the LB needs no public side; its private address is pinned to one
    planned in advance so peers can be given it before the LB exists (hcloud-ccm's
    load_balancer_annotations.md: ``private-ipv4``, ``disable-public-network``).
    """
    return hcloud_ccm_annotations(HetznerLoadBalancer(
        name=name, location=location, use_private_ip=True, private_ipv4=private_ip, public=False))


def mesh_values(own: MeshFacts, peers: Mapping[str, MeshFacts], service_type: str,
                service_annotations: Mapping[str, str] | None = None,
                ca: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Helm values that make this cluster a Cluster Mesh member (merged over the others).

    ``ca``: the shared CA as ``{"cert": base64 PEM, "key": base64 PEM}`` (secret values: the
    caller keeps the whole release values a Pulumi secret). With one CA in every cluster, the
    chart's own "remote" client certificate is trusted by every peer, so cluster entries need no
    per-peer TLS material (chart values.yaml, clustermesh.config.clusters comment).
    """
    service: dict[str, Any] = {"type": service_type}
    if service_type == "NodePort":
        service["nodePort"] = APISERVER_NODE_PORT
    if service_annotations:
        service["annotations"] = dict(service_annotations)
    # A list sorted by name (the dict form is not in every supported chart line); entries are
    # keyed by the peer's cluster name, so adding a peer never shifts what another one means.
    clusters = [{"name": peer.name, "port": peer.apiserver_port,
                 "ips": list(peer.apiserver_addresses)}
                for peer in sorted(peers.values(), key=lambda p: p.name)
                if peer.apiserver_addresses]
    values: dict[str, Any] = {
        "cluster": {"name": own.name, "id": own.cluster_id},
        "clustermesh": {
            "useAPIServer": True,
            "apiserver": {"service": service, "tls": {"auto": {"enabled": True,
                                                               "method": "helm"}}},
            "config": {"enabled": True, "clusters": clusters},
        },
    }
    if ca is not None:
        values["tls"] = {"ca": {"cert": ca["cert"], "key": ca["key"]}}
    return values

