"""The private address plan: which IPv4 address every server and load balancer gets.

The network range is cut into /24 blocks. An address depends only on what it belongs to (a role,
a pool's *name*, a node's index), never on a list position, so adding or removing a pool or a node
never moves, renames or replaces another one. In a 10.0.0.0/16 network:

    block 0    10.0.0.0/24   Hetzner's. The gateway is the network's first address (10.0.0.1).
                             The rest stays free for addresses Hetzner assigns by itself: load
                             balancers the cloud controller creates for Services and Gateways,
                             servers the cluster-autoscaler creates (at most
                             ``upstream.cluster_autoscaler.MAX_AUTOSCALED_SERVERS``), and anything
                             attached by hand take the lowest free address of the subnet, so a
                             planned address must never sit down here.
    block 1    10.0.1.0/24   cluster infrastructure:
                               10.0.1.1    bastion (NAT gateway: the route 0.0.0.0/0 points here)
                               10.0.1.2    API load balancer
                               10.0.1.3    Cluster Mesh apiserver load balancer (its
                                           private address is set by annotation, so
                                           peers know it before it exists)
                               10.0.1.11…  control-plane server n at .10+n
    block b≥2  10.0.b.0/24   one block per worker pool, node n at .n (n = 1…254).
                             b = ``workerPools[].addressBlock`` when set, else derived from the pool
                             name: 2 + sha256(name) mod (blocks − 2). Two pools on one block are a
                             config error that names a free block, so nothing moves silently.

Why derive from the name: the common case needs no config, and the block survives any edit of the
pool list. The price is a small chance of collision (about 1 in 250 per pair in a /16), which is
refused at plan time with a fix, never resolved by probing (probing would make a pool's block
depend on its neighbours). Larger networks have more blocks (a /8 has 65,536); block b is the
b-th /24 of the range.

Pure: no Pulumi, no ``stack_config`` imports (the config validator calls :func:`plan_addresses`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from upstream.hetzner import NETWORK_GATEWAY_OFFSET

BLOCK_PREFIX = 24
HOSTS_PER_BLOCK = 254
"""Host offsets 1…254 in each block; .0 and .255 stay unused to avoid surprising readers."""
AUTO_ASSIGN_BLOCK = 0
INFRASTRUCTURE_BLOCK = 1
FIRST_POOL_BLOCK = 2
MAX_NETWORK_PREFIX = 20
"""A /20 holds 16 blocks: 14 worker-pool blocks. Smaller networks leave too few for the hash."""

BASTION_HOST = 1
API_LOAD_BALANCER_HOST = 2
CLUSTERMESH_LOAD_BALANCER_HOST = 3
CONTROL_PLANE_HOST_OFFSET = 10
MAX_CONTROL_PLANE_SERVERS = HOSTS_PER_BLOCK - CONTROL_PLANE_HOST_OFFSET


@dataclass(frozen=True)
class PoolBlockRequest:
    """What the plan needs to know about one worker pool."""

    name: str
    count: int
    block: int | None = None
    """Explicit ``addressBlock``; None derives the block from the name."""


class AddressPlanError(ValueError):
    """A plan that cannot be made; ``key`` is the config key path from the stack's root."""

    def __init__(self, key: str, message: str, fix: str) -> None:
        super().__init__(f"{key}: {message} Fix: {fix}")
        self.key = key
        self.message = message
        self.fix = fix


def block_count(network: IPv4Network) -> int:
    return 2 ** (BLOCK_PREFIX - network.prefixlen)


def derived_block(network: IPv4Network, pool_name: str) -> int:
    """The block a pool gets from its name alone (stable across Python versions and runs)."""
    digest = int.from_bytes(hashlib.sha256(pool_name.encode()).digest()[:8], "big")
    return FIRST_POOL_BLOCK + digest % (block_count(network) - FIRST_POOL_BLOCK)


@dataclass(frozen=True)
class AddressPlan:
    network: IPv4Network
    pool_blocks: Mapping[str, int]
    network_range: IPv4Network | None = None
    """The whole Hetzner network's range when wider than ``network`` (this stack's subnet)."""

    def block(self, index: int) -> IPv4Network:
        base = int(self.network.network_address) + index * 2 ** (32 - BLOCK_PREFIX)
        return IPv4Network((base, BLOCK_PREFIX))

    def _host(self, block: int, offset: int) -> str:
        return str(IPv4Address(int(self.block(block).network_address) + offset))

    @property
    def gateway(self) -> str:
        # Hetzner's gateway is the first address of the network, not of a subnet.
        network = self.network_range or self.network
        return str(network.network_address + NETWORK_GATEWAY_OFFSET)

    @property
    def bastion(self) -> str:
        return self._host(INFRASTRUCTURE_BLOCK, BASTION_HOST)

    @property
    def api_load_balancer(self) -> str:
        return self._host(INFRASTRUCTURE_BLOCK, API_LOAD_BALANCER_HOST)

    @property
    def clustermesh_load_balancer(self) -> str:
        return self._host(INFRASTRUCTURE_BLOCK, CLUSTERMESH_LOAD_BALANCER_HOST)

    def control_plane(self, index: int) -> str:
        """Private IP of control-plane server ``index`` (1-based)."""
        return self._host(INFRASTRUCTURE_BLOCK, CONTROL_PLANE_HOST_OFFSET + index)

    def pool_range(self, pool: str) -> IPv4Network:
        return self.block(self.pool_blocks[pool])

    def worker(self, pool: str, index: int) -> str:
        """Private IP of node ``index`` (1-based) of ``pool``."""
        return self._host(self.pool_blocks[pool], index)


def check_network_size(network: IPv4Network) -> None:
    """:class:`AddressPlanError` when ``network`` has too few blocks for the plan."""
    if network.prefixlen > MAX_NETWORK_PREFIX:
        raise AddressPlanError(
            "network.cidr", f"{network} is too small for the address plan (one /{BLOCK_PREFIX} "
            "block per worker pool).", f"use a /{MAX_NETWORK_PREFIX} or larger, e.g. 10.0.0.0/16.")


def plan_addresses(network: IPv4Network, control_plane_count: int,
                   pools: Sequence[PoolBlockRequest],
                   network_range: IPv4Network | None = None) -> AddressPlan:
    """The plan, or :class:`AddressPlanError` for the first key that makes one impossible."""
    check_network_size(network)
    blocks = block_count(network)
    if control_plane_count > MAX_CONTROL_PLANE_SERVERS:
        raise AddressPlanError(
            "controlPlane.count", f"{control_plane_count} servers do not fit the control-plane "
            f"range of the address plan ({MAX_CONTROL_PLANE_SERVERS} addresses).",
            f"use at most {MAX_CONTROL_PLANE_SERVERS}.")

    chosen: dict[str, int] = {}
    owner: dict[int, str] = {}
    for index, pool in enumerate(pools):
        if pool.count > HOSTS_PER_BLOCK:
            raise AddressPlanError(
                f"workerPools[{index}].count", f"{pool.count} nodes do not fit one address block "
                f"({HOSTS_PER_BLOCK} addresses).", "split the pool into several pools.")
        block = pool.block if pool.block is not None else derived_block(network, pool.name)
        if not FIRST_POOL_BLOCK <= block < blocks:
            raise AddressPlanError(
                f"workerPools[{index}].addressBlock",
                f"{block} is outside the worker-pool blocks {FIRST_POOL_BLOCK}–{blocks - 1} of "
                f"{network}; blocks {AUTO_ASSIGN_BLOCK} and {INFRASTRUCTURE_BLOCK} hold the "
                "gateway, Hetzner-assigned addresses, the bastion, the API load balancer and the "
                "control plane.",
                f"pick a free block from {FIRST_POOL_BLOCK} to {blocks - 1}, e.g. "
                f"{_free_block(network, pools)}.")
        if block in owner:
            plan = AddressPlan(network, {})
            raise AddressPlanError(
                f"workerPools[{index}].addressBlock",
                f"pools '{owner[block]}' and '{pool.name}' both get address block {block} "
                f"({plan.block(block)}).",
                f"set workerPools[{index}].addressBlock: {_free_block(network, pools)} (a free "
                "block) on the pool you are adding. Never change the block of a pool that already "
                "has servers: their addresses would change and the servers would be replaced.")
        owner[block] = pool.name
        chosen[pool.name] = block
    return AddressPlan(network, chosen, network_range)


def _free_block(network: IPv4Network, pools: Sequence[PoolBlockRequest]) -> int | str:
    taken = {pool.block if pool.block is not None else derived_block(network, pool.name)
             for pool in pools}
    for block in range(FIRST_POOL_BLOCK, block_count(network)):
        if block not in taken:
            return block
    return "none left (use a larger network.cidr)"
