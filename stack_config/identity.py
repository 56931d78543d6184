"""What a running cluster was built with, and which edits of it would destroy it (pure).

A cluster's *identity* is the part of its config that cannot change under a running cluster:
the name every resource is named after, the network and the nodes' addresses in it, where each
node runs and on what server type (Hetzner resizes only powered-off servers), the Pod and
Service ranges, and hardening (which switches secrets encryption). The
program exports it as the ``clusterIdentity`` stack output (plain: nothing secret is in it) and
reads the previous one back on the next run (``components/cluster_identity.py``); an edit of an
identity key is refused unless the stack names its acknowledgement under ``acknowledge``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from cluster_plan.placement import control_plane_location
from stack_config.errors import ConfigError, ConfigProblem

IDENTITY_VERSION = 1

Acknowledgement = Literal["rename-cluster", "replace-network", "readdress-nodes", "move-nodes",
                          "toggle-hardening", "change-pod-network", "resize-in-place"]
ACKNOWLEDGEMENTS: tuple[str, ...] = Acknowledgement.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Hazard:
    acknowledgement: Acknowledgement
    happens: str
    """What applying the edit would do to the running cluster."""
    safe_way: str


HAZARDS: dict[str, Hazard] = {
    "clusterName": Hazard(
        "rename-cluster",
        "every resource is named after it, so every server, the network and the load balancers "
        "would be replaced: a second, empty cluster is built and the running one deleted "
        "(with controlPlane.protect it stops half-way, leaving both)",
        "keep the name; for a new cluster use a new stack (pulumi stack init) and move the "
        "workloads"),
    "network.cidr": Hazard(
        "replace-network",
        "the network and its subnet are replaced (ip_range cannot change in place) and every "
        "node gets a new private address: etcd members and kubelets lose each other and the "
        "API goes down",
        "build the new network in a new stack and move the workloads"),
    "network.ipRange": Hazard(
        "replace-network",
        "the network is replaced (its ip_range cannot change in place): every server is "
        "re-attached with a restart of its private interface, and every stack that joined this "
        "network (network.existing) loses its subnet and routes",
        "keep the range; plan it wide enough for every stack that will join when creating it"),
    "network.existing.stack": Hazard(
        "replace-network",
        "this cluster leaves its network for another (or for one of its own): every server is "
        "detached and re-attached, its subnet and the CCM's pod routes are rebuilt, and the "
        "nodes cannot reach each other in between",
        "build the cluster in the other network in a new stack and move the workloads"),
    "network.privateOnly": Hazard(
        "readdress-nodes",
        "every node loses (or gains) its public addresses; servers are powered off to change "
        "them and k3s is re-applied with new node addresses on all nodes at once",
        "build the cluster in the other mode in a new stack and move the workloads"),
    "k3s.hardening.enabled": Hazard(
        "toggle-hardening",
        "secrets encryption would be switched on a datastore that holds secrets (k3s only "
        "supports `k3s secrets-encrypt` for that, not a config change) and the restricted Pod "
        "Security level would be imposed on running workloads",
        "enable hardening on a new cluster, or follow docs.k3s.io/cli/secrets-encrypt by hand "
        "and acknowledge"),
    "k3s.clusterCidr": Hazard(
        "change-pod-network",
        "k3s does not support changing the Pod range of a running cluster; every node would "
        "restart with a range its existing Pods and routes do not match",
        "keep the range; a new range needs a new cluster"),
    "k3s.serviceCidr": Hazard(
        "change-pod-network",
        "k3s does not support changing the Service range of a running cluster; existing "
        "ClusterIPs (the API's and DNS's included) fall outside it",
        "keep the range; a new range needs a new cluster"),
}
MOVE = Hazard(
    "move-nodes",
    "the server is replaced in the new location under the same name and private address, "
    "which Hetzner refuses while the old one exists; and the node would rejoin without a drain",
    "add a new pool in the new location, move the workloads, then remove the old pool")


READDRESS = Hazard(
    "readdress-nodes",
    "the pool's nodes get new private addresses (the block is part of each address): the "
    "servers are re-attached to the network and k3s restarts with a new node-ip on all of them "
    "at once",
    "keep the block; to move a pool, add a new pool and remove the old one")


RESIZE = Hazard(
    "resize-in-place",
    "the provider changes a server's type only while it is off (a hard power-off); the disk "
    "grows with the type, so it cannot be shrunk back. Acknowledged, each changed node is "
    "drained first and uncordoned after, servers one at a time (the first server without a "
    "drain), agents `maxUnavailable` of a pool at a time (docs/day2.md)",
    "add a pool with the new server type, let the workloads move, then remove the old pool")


def node_server_types(spec: Any) -> dict[str, tuple[str, str]]:
    """Node key → (server type, the config key that decides it)."""
    nodes = {f"{spec.cluster_name}-cp-{index}": (spec.control_plane.server_type,
                                                 "controlPlane.serverType")
             for index in range(1, spec.control_plane.count + 1)}
    for pool in spec.worker_pools:
        for index in range(1, pool.count + 1):
            nodes[f"{spec.cluster_name}-{pool.name}-{index}"] = (
                pool.server_type, f"workerPools[{pool.name}].serverType")
    return nodes


def node_addresses(spec: Any) -> dict[str, tuple[str, str]]:
    """Node key → (private IP, the config key that decides it besides network.cidr)."""
    plan = spec.address_plan
    nodes = {f"{spec.cluster_name}-cp-{index}": (plan.control_plane(index), "controlPlane.count")
             for index in range(1, spec.control_plane.count + 1)}
    for pool in spec.worker_pools:
        for index in range(1, pool.count + 1):
            nodes[f"{spec.cluster_name}-{pool.name}-{index}"] = (
                plan.worker(pool.name, index), f"workerPools[{pool.name}].addressBlock")
    return nodes


def node_locations(spec: Any) -> dict[str, tuple[str, str]]:
    """Node key → (location, the config key that decides it, as written in the stack)."""
    nodes: dict[str, tuple[str, str]] = {}
    locations = spec.control_plane_locations
    cp_key = "controlPlane.locations" if spec.control_plane.locations else "location"
    for index in range(1, spec.control_plane.count + 1):
        nodes[f"{spec.cluster_name}-cp-{index}"] = (control_plane_location(index, locations),
                                                    cp_key)
    for pool in spec.worker_pools:
        key = f"workerPools[{pool.name}].location" if pool.location else "location"
        for index in range(1, pool.count + 1):
            nodes[f"{spec.cluster_name}-{pool.name}-{index}"] = (spec.pool_location(pool), key)
    return nodes


def cluster_identity(spec: Any) -> dict[str, Any]:
    """The identity-defining config of ``spec``: what the ``clusterIdentity`` output holds."""
    return {
        "version": IDENTITY_VERSION,
        "clusterName": spec.cluster_name,
        "network.cidr": str(spec.network.cidr),
        "network.ipRange": (None if spec.network.existing is not None
                            else str(spec.network.network_range)),
        "network.existing.stack": (spec.network.existing.stack
                                   if spec.network.existing is not None else None),
        "network.privateOnly": spec.network.private_only,
        "k3s.hardening.enabled": spec.k3s.hardening.enabled,
        "k3s.clusterCidr": str(spec.k3s.cluster_cidr),
        "k3s.serviceCidr": str(spec.k3s.service_cidr),
        "nodeLocations": {key: location for key, (location, _) in node_locations(spec).items()},
        "nodeAddresses": {key: address for key, (address, _) in node_addresses(spec).items()},
        "nodeServerTypes": {key: kind for key, (kind, _) in node_server_types(spec).items()},
    }


def destructive_edits(previous: dict[str, Any] | None, spec: Any
                      ) -> list[tuple[str, Any, Any, Hazard]]:
    """(key as written, was, now, hazard) for each identity key the config changes."""
    if not previous or previous.get("version") != IDENTITY_VERSION:
        return []
    current = cluster_identity(spec)
    edits = [(key, previous[key], current[key], hazard) for key, hazard in HAZARDS.items()
             if key in previous and previous[key] != current[key]]
    keys = {key for key, *_ in edits}
    if "network.existing.stack" in keys or (spec.network.ip_range is None
                                            and "network.cidr" in keys):
        # The range of a network this stack does not own (or an unset ipRange, which follows
        # network.cidr) changes with that key: its finding says it.
        edits = [edit for edit in edits if edit[0] != "network.ipRange"]
    if any(key in ("clusterName", "network.cidr") for key, *_ in edits):
        return edits  # every node key (or address) changes with it: one finding says it all
    for field, decided_by, hazard in (("nodeLocations", node_locations(spec), MOVE),
                                      ("nodeAddresses", node_addresses(spec), READDRESS),
                                      ("nodeServerTypes", node_server_types(spec), RESIZE)):
        changed: dict[str, list[str]] = {}
        for node, value in current[field].items():
            was = previous.get(field, {}).get(node)
            if was is not None and was != value:
                changed.setdefault(decided_by[node][1], []).append(f"{node}: {was} → {value}")
        edits += [(key, None, ", ".join(nodes), hazard) for key, nodes in changed.items()]
    return edits


class DestructiveEditError(ConfigError):
    """An edit of a running cluster's identity without its acknowledgement."""

    @property
    def acknowledgements(self) -> list[str]:
        return sorted({hazard for problem in self.problems for hazard in ACKNOWLEDGEMENTS
                       if f"'{hazard}'" in problem.message})


def check_identity(previous: dict[str, Any] | None, spec: Any,
                   acknowledged: Sequence[str]) -> dict[str, Any]:
    """The current identity, or a ConfigError naming each unacknowledged destructive edit."""
    problems = []
    for key, was, now, hazard in destructive_edits(previous, spec):
        if hazard.acknowledgement in acknowledged:
            continue
        change = f"{now}" if was is None else f"{was!r} → {now!r}"
        problems.append(ConfigProblem(key, (
            f"this cluster exists and this edit ({change}) is destructive: {hazard.happens}. "
            f"Safe way: {hazard.safe_way}. To do it anyway, add '{hazard.acknowledgement}' to "
            "acknowledge in the stack file (and remove it after the update).")))
    if problems:
        raise DestructiveEditError(problems)
    return cluster_identity(spec)
