"""The Hetzner and Kubernetes names the program derives from the cluster and pool names.

Server names double as Kubernetes node names and hostnames, so each must be an RFC 1123 label
(at most 63 characters); Hetzner takes the same limit for the other names here. The patterns
are those of the components that create the resources (components/infrastructure/:
control_plane.py, worker_pool.py, bastion.py, k3s_node.py placement groups, firewall.py,
ssh_keys.py, infrastructure.py); tests/test_config_input_classes.py checks them against a plan.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from cluster_plan import placement

# The hex suffix an uploaded SSH key gets (components/infrastructure/ssh_keys.key_suffix).
SSH_KEY_SUFFIX_LENGTH = 10


@dataclass(frozen=True)
class PoolNames:
    key: str
    """The config key that names the pool (``workerPools[0].name``): the one to blame."""
    name: str
    count: int


def derived_names(cluster: str, control_plane_count: int,
                  control_plane_locations: Sequence[str], bastion: bool,
                  pools: Sequence[PoolNames]) -> Iterator[tuple[str, str]]:
    """(config key to blame, name) for every name the program derives."""
    yield "clusterName", f"{cluster}-network"
    yield "clusterName", f"{cluster}-firewall-bastion"
    yield "clusterName", f"{cluster}-ssh-{'0' * SSH_KEY_SUFFIX_LENGTH}"
    yield "clusterName", f"{cluster}-cp-api"
    if bastion:
        yield "clusterName", f"{cluster}-bastion"
    yield "clusterName", f"{cluster}-cp-{control_plane_count}"
    for plan in placement.split_control_plane(control_plane_count, control_plane_locations):
        yield "clusterName", f"{cluster}-cp-{plan.suffix}"
    for pool in pools:
        if pool.count:
            yield pool.key, f"{cluster}-{pool.name}-{pool.count}"
        for plan in placement.split_pool(pool.count):
            yield pool.key, f"{cluster}-{pool.name}-{plan.suffix}"
