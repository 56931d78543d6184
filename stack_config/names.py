"""The Hetzner and Kubernetes names the program derives from the stack config.

Server names double as Kubernetes node names and hostnames, so each must be an RFC 1123 label
(at most 63 characters); Hetzner takes the same limit for the other names here. The patterns
mirror the components that create the resources (components/infrastructure/: control_plane.py,
worker_pool.py, bastion.py, placement.py, firewall.py, ssh_keys.py, network.py,
api_load_balancer.py); tests/test_derived_names.py checks them against a whole-program plan.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from components.infrastructure import placement

if TYPE_CHECKING:
    from stack_config.schema import ClusterSpec

# The longest hex suffix an uploaded SSH key gets (ssh_keys.key_suffix).
SSH_KEY_SUFFIX_LENGTH = 10


def derived_names(spec: ClusterSpec) -> Iterator[tuple[str, str]]:
    """(config key to blame, name) for every name the program derives."""
    cluster = spec.cluster_name
    yield "clusterName", f"{cluster}-network"
    yield "clusterName", f"{cluster}-firewall-bastion"
    yield "clusterName", f"{cluster}-ssh-{'0' * SSH_KEY_SUFFIX_LENGTH}"
    yield "clusterName", f"{cluster}-cp-api"
    if spec.bastion.enabled:
        yield "clusterName", f"{cluster}-bastion"
    yield "clusterName", f"{cluster}-cp-{spec.control_plane.count}"
    for plan in placement.split_control_plane(spec.control_plane.count,
                                              spec.control_plane_locations):
        yield "clusterName", f"{cluster}-cp-{plan.suffix}"
    for index, pool in enumerate(spec.worker_pools):
        key = f"workerPools[{index}].name"
        if pool.count:
            yield key, f"{cluster}-{pool.name}-{pool.count}"
        for plan in placement.split_pool(pool.count):
            yield key, f"{cluster}-{pool.name}-{plan.suffix}"
