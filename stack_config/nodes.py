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
    type: LoadBalancerType = "lb11"
    public_interface: bool = False
    """A public LB is NOT protected by the firewall or ``access.apiAllowedCidrs``."""


class ControlPlaneConfig(StrictModel):
    """k3s servers. With embedded etcd the count must be odd (1, 3 or 5)."""

    count: PositiveInt = 1
    server_type: ServerType = DEFAULT_SERVER_TYPE
    image: Image = DEFAULT_IMAGE
    locations: list[Location] = Field(default_factory=list)
    """Locations to spread servers over (round-robin); defaults to the top-level ``location``."""
    load_balancer: ApiLoadBalancerConfig = ApiLoadBalancerConfig()
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
    value: LabelValue = ""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


class WorkerPoolConfig(StrictModel):
    """A named group of identical k3s agents. Nodes are named ``<pool>-<n>``, n = 1..count."""

    name: DnsLabel
    count: NonNegativeInt = 1
    server_type: ServerType = DEFAULT_SERVER_TYPE
    image: Image = DEFAULT_IMAGE
    location: Location | None = None
    """Defaults to the top-level ``location``."""
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    taints: list[Taint] = Field(default_factory=list)
    max_unavailable: PositiveInt = 1
    """How many of the pool's nodes a rolling change (a k3s restart: config, version, token)
    drains and restarts at once. Raise it to roll big pools faster; the pool keeps
    ``count - maxUnavailable`` nodes schedulable meanwhile."""
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
