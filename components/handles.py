"""What one layer hands to the next: infrastructure → k3s bootstrap → Kubernetes layer.

These records are the contracts between components; each layer depends on them, not on the
internals of the layer before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi

Role = Literal["server", "agent"]


@dataclass(frozen=True)
class NodeHandle:
    """One k3s node as the bootstrap needs it."""

    key: str
    """Stable identity and Pulumi name stem, e.g. ``dev-cp-1`` or ``dev-workers-3``."""
    role: Role
    pool: str
    """``control-plane`` or the worker pool's name."""
    private_ip: str
    """From the address plan, known at plan time."""
    public_ipv4: pulumi.Output[str] | None
    """None for nodes without a public interface (private-only mode)."""
    host_public_key: pulumi.Output[str]
    """OpenSSH public host key installed by cloud-init; the bootstrap pins it."""
    server: pulumi.Resource
    labels: dict[str, str] = field(default_factory=dict)
    taints: list[str] = field(default_factory=list)
    """``key=value:Effect`` strings as k3s's ``node-taint`` expects."""


@dataclass(frozen=True)
class JumpHost:
    """The bastion that SSH connections to private nodes go through."""

    public_ipv4: pulumi.Output[str]
    host_public_key: pulumi.Output[str]


@dataclass(frozen=True)
class SshAccess:
    user: str
    private_key: pulumi.Output[str] | None
    """Secret. None when the user supplied public keys and keeps the private key (ssh-agent)."""
    jump_host: JumpHost | None


@dataclass(frozen=True)
class ApiEndpoint:
    """Where kubectl and joining servers reach the Kubernetes API."""

    join_address: str | pulumi.Output[str]
    """Private address joiners use: the LB's private IP, or the first server's private IP."""
    public_address: pulumi.Output[str] | None
    """The LB's public IPv4 when it has one."""
    tls_sans: list[str | pulumi.Output[str]] = field(default_factory=list)
    """Names of the endpoint itself (the LB's addresses), for every server's certificate. A
    server's own addresses are not listed: the bootstrap adds them to that server alone."""
    load_balanced: bool = False

    def serves_users(self, servers: Sequence[NodeHandle]) -> bool:
        """Whether kubectl and the Kubernetes provider go through the LB (else: one address per
        server). An LB without a public interface in front of servers with public IPs serves
        joiners on the private network only: pointing users at it would cut them off."""
        if not self.load_balanced:
            return False
        return self.public_address is not None or all(s.public_ipv4 is None for s in servers)


@dataclass(frozen=True)
class AutoscalingTargets:
    """The Hetzner resources the cluster-autoscaler's servers join, from the infrastructure."""

    network_id: pulumi.Input[int]
    ssh_key_id: pulumi.Input[str]
    """The stack's first SSH key (the Hetzner provider takes exactly one)."""
    firewall_id: pulumi.Input[int] | None
    """The nodes' firewall in public mode; None in private mode."""
    placement_group_ids: dict[str, pulumi.Output[int]]
    """Node group id → its spread placement group, for groups small enough to have one."""
    private_only: bool
    network_gateway: str
    """First address of the network: private-mode nodes route their egress through it."""
