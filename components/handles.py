"""What one layer hands to the next: infrastructure → k3s bootstrap → Kubernetes layer.

These records are the contracts between components; each layer depends on them, not on the
internals of the layer before it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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

    @property
    def reachable_address(self) -> pulumi.Input[str]:
        """Where people and tools outside the network reach this node: its public IPv4, or in
        private mode its private IP (through the bastion or a tunnel)."""
        return self.public_ipv4 if self.public_ipv4 is not None else self.private_ip


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
    """Where joining nodes, kubectl and the Kubernetes provider reach the Kubernetes API.

    The one place that decides which address each of them uses.
    """

    servers: Sequence[NodeHandle]
    """The control-plane servers, the cluster-initialising one first."""
    load_balancer_ip: str | None = None
    """The API load balancer's private address (from the address plan); None without one."""
    load_balancer_public_ipv4: pulumi.Output[str] | None = None
    """The API load balancer's public IPv4 when it has a public interface."""
    open_service: Callable[[list[pulumi.Resource]], pulumi.Resource] | None = None
    """With a load balancer: creates its API service once the given steps (every server's
    answer to its readiness check) are done, and returns it."""

    @property
    def load_balanced(self) -> bool:
        return self.load_balancer_ip is not None

    @property
    def join_address(self) -> str:
        """Private address joiners register through: the LB's, else the first server's."""
        return self.load_balancer_ip if self.load_balancer_ip is not None \
            else self.servers[0].private_ip

    @property
    def serves_users(self) -> bool:
        """Whether kubectl and the Kubernetes provider go through the LB (else: one address per
        server). An LB without a public interface in front of servers with public IPs serves
        joiners on the private network only: pointing users at it would cut them off."""
        if not self.load_balanced:
            return False
        return (self.load_balancer_public_ipv4 is not None
                or all(server.public_ipv4 is None for server in self.servers))

    @property
    def user_address(self) -> pulumi.Input[str]:
        """The address of the kubeconfig's current context and of the ``apiEndpoint`` output."""
        if self.serves_users:
            return (self.load_balancer_public_ipv4 if self.load_balancer_public_ipv4 is not None
                    else self.join_address)
        return self.servers[0].reachable_address

    def user_addresses(self) -> list[tuple[str | None, pulumi.Input[str]]]:
        """The kubeconfig's contexts: ``(None, LB address)`` when the LB serves users, else
        ``(server key, its reachable address)`` per server, the first server first."""
        if self.serves_users:
            return [(None, self.user_address)]
        return [(server.key, server.reachable_address) for server in self.servers]

    def tls_sans_for(self, server: NodeHandle) -> list[pulumi.Input[str]]:
        """Certificate names of one server: the endpoint's addresses plus the server's own, and
        no other server's, so adding a server never changes (and restarts) an existing one."""
        sans: list[pulumi.Input[str]] = [self.join_address]
        if self.load_balancer_public_ipv4 is not None:
            sans.append(self.load_balancer_public_ipv4)
        sans.append(server.private_ip)
        if server.public_ipv4 is not None:
            sans.append(server.public_ipv4)
        return sans


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
