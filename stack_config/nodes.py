"""``controlPlane`` and ``workerPools``: the servers that run k3s."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, NonNegativeInt, PositiveInt, StringConstraints, model_validator

from stack_config.base import (
    DEFAULT_IMAGE,
    DEFAULT_SERVER_TYPE,
    DnsLabel,
    Image,
    Location,
    ServerType,
    StrictModel,
)
from stack_config.errors import KeyedValueError

LoadBalancerType = Literal["lb11", "lb21", "lb31"]


class ApiLoadBalancerConfig(StrictModel):
    """Optional Hetzner load balancer in front of the Kubernetes API (TCP 6443)."""

    enabled: bool = False
    """Put a Hetzner load balancer in front of the API; joiners register through it and it is in
    every server's certificate."""
    type: LoadBalancerType = "lb11"
    """Hetzner load balancer type; it must take one target per control-plane server."""
    public_interface: bool = False
    """A public LB is NOT protected by the firewall or ``access.apiAllowedCidrs``."""


class ControlPlaneConfig(StrictModel):
    """k3s servers. With embedded etcd the count must be odd (1, 3 or 5)."""

    count: PositiveInt = 1
    """Number of k3s servers: 1, 3 or 5 with embedded etcd (a quorum needs an odd count); any
    count with ``k3s.datastoreEndpoint``."""
    server_type: ServerType = DEFAULT_SERVER_TYPE
    """Hetzner server type of the control-plane servers (``cax*`` types are arm64)."""
    image: Image = DEFAULT_IMAGE
    """Hetzner image of the control-plane servers (the arm64 build is picked for ``cax*``
    types)."""
    locations: list[Location] = Field(default_factory=list)
    """Locations to spread servers over (round-robin); defaults to the top-level ``location``."""
    load_balancer: ApiLoadBalancerConfig = ApiLoadBalancerConfig()
    """The optional load balancer in front of the Kubernetes API (tcp 6443)."""
    protect: bool = False
    """Hetzner delete/rebuild protection on control-plane servers."""


# Kubernetes label keys: optional DNS-subdomain prefix and a name segment.
LabelKey = Annotated[
    str,
    StringConstraints(
        pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
        r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
    ),
]
LabelValue = Annotated[
    str, StringConstraints(pattern=r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")
]


class Taint(StrictModel):
    key: LabelKey
    """Taint key (a Kubernetes label key)."""
    value: LabelValue = ""
    """Taint value; may be empty."""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]
    """What the taint does to pods that do not tolerate it."""


class WorkerPoolConfig(StrictModel):
    """A named group of identical k3s agents. Nodes are named ``<pool>-<n>``, n = 1..count."""

    name: DnsLabel
    """Unique, stable pool name: it names the servers (``<cluster>-<pool>-<n>``) and derives the
    pool's address block."""
    count: NonNegativeInt = 1
    """Number of agents; lowering it drains and removes the highest-numbered nodes."""
    server_type: ServerType = DEFAULT_SERVER_TYPE
    """Hetzner server type of the pool (``cax*`` types are arm64)."""
    image: Image = DEFAULT_IMAGE
    """Hetzner image of the pool's servers; a change applies to servers created afterwards."""
    location: Location | None = None
    """Defaults to the top-level ``location``."""
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    """Kubernetes node labels, applied when a node registers."""
    taints: list[Taint] = Field(default_factory=list)
    """Kubernetes node taints, applied when a node registers."""
    address_block: NonNegativeInt | None = None
    """Which /24 of the network holds this pool's private addresses. Unset: derived from the
    name. Set it only to resolve a collision the plan reports, on the pool being added."""

    @model_validator(mode="after")
    def _name_leaves_room_for_index(self) -> "WorkerPoolConfig":
        # Server names are "<cluster>-<pool>-<n>"; keep the pool part short enough for a label.
        if len(self.name) > 40:
            raise KeyedValueError("name", f"'{self.name}' is longer than 40 characters.",
                                  "use a shorter pool name.")
        return self
