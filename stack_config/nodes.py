"""``controlPlane`` and ``workerPools``: the servers that run k3s."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, NonNegativeInt, PositiveInt, model_validator

from stack_config.autoscaling import AutoscalingConfig
from stack_config.base import (
    DEFAULT_IMAGE,
    DEFAULT_SERVER_TYPE,
    DnsLabel,
    Image,
    Location,
    ServerType,
    StrictModel,
    text_rule,
)
from stack_config.errors import KeyedValueError, KeyedValueErrors
from stack_config.labels import kubelet_refuses_label

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
LabelKey = Annotated[str, text_rule(
    r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?",
    "a Kubernetes label key", "example.com/tier (optional DNS prefix and '/', then up to 63 "
    "letters, digits, '-', '_', '.')")]
LabelValue = Annotated[str, text_rule(
    r"(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?", "a Kubernetes label value",
    "web (up to 63 letters, digits, '-', '_', '.', starting and ending with a letter or digit)")]


class Taint(StrictModel):
    key: LabelKey
    """Taint key (a Kubernetes label key)."""
    value: LabelValue = ""
    """Taint value; may be empty."""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]
    """What the taint does to pods that do not tolerate it."""

    def k3s_text(self) -> str:
        """``key=value:Effect`` (``key:Effect`` without a value), as k3s ``node-taint`` takes it."""
        return f"{self.key}={self.value}:{self.effect}" if self.value else \
            f"{self.key}:{self.effect}"


class WorkerPoolConfig(StrictModel):
    """A named group of identical k3s agents. Nodes are named ``<pool>-<n>``, n = 1..count."""

    name: DnsLabel
    """Unique, stable pool name: it names the servers (``<cluster>-<pool>-<n>``) and derives the
    pool's address block."""
    count: NonNegativeInt = 1
    """Nodes Pulumi creates; lowering it drains and removes the highest-numbered nodes. With
    ``autoscaling`` it defaults to ``autoscaling.min``."""
    server_type: ServerType = DEFAULT_SERVER_TYPE
    """Hetzner server type of the pool (``cax*`` types are arm64)."""
    image: Image = DEFAULT_IMAGE
    """Hetzner image of the pool's servers; a change applies to servers created afterwards."""
    location: Location | None = None
    """Defaults to the top-level ``location``."""
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    """Kubernetes node labels; an edit is applied through the API without restarting k3s."""
    taints: list[Taint] = Field(default_factory=list)
    """Kubernetes node taints; an edit is applied through the API without restarting k3s."""
    max_unavailable: PositiveInt = 1
    """How many of the pool's nodes a rolling change (a k3s restart: config, version, token)
    drains and restarts at once. Raise it to roll big pools faster; the pool keeps
    ``count - maxUnavailable`` nodes schedulable meanwhile."""
    address_block: NonNegativeInt | None = None
    """Which /24 of the network holds this pool's private addresses. Unset: derived from the
    name. Set it only to resolve a collision the plan reports, on the pool being added."""
    autoscaling: AutoscalingConfig | None = None
    """Present: the cluster-autoscaler adds and removes nodes up to ``max`` (see
    ``stack_config/autoscaling.py`` and docs/autoscaler.md)."""

    @model_validator(mode="before")
    @classmethod
    def _count_defaults_to_min(cls, data: Any) -> Any:
        # An autoscaled pool without ``count`` starts at its minimum, not at the fixed default.
        if isinstance(data, dict) and "count" not in data and isinstance(
                data.get("autoscaling"), dict):
            return {**data, "count": data["autoscaling"].get("min", 0)}
        return data

    @model_validator(mode="after")
    def _count_within_autoscaling_range(self) -> "WorkerPoolConfig":
        scaling = self.autoscaling
        if scaling and not scaling.min <= self.count <= scaling.max:
            raise KeyedValueError(
                "count", f"{self.count} is outside autoscaling.min..max "
                f"({scaling.min}..{scaling.max}).",
                "set count within that range, or remove count (it then defaults to "
                "autoscaling.min).")
        return self

    @property
    def max_size(self) -> int:
        """The most nodes the pool can have: ``autoscaling.max``, else ``count``."""
        return self.autoscaling.max if self.autoscaling else self.count

    @model_validator(mode="after")
    def _labels_the_kubelet_may_set(self) -> "WorkerPoolConfig":
        refused = [key for key in self.labels if kubelet_refuses_label(key)]
        if refused:
            raise KeyedValueErrors([KeyedValueError(
                f"labels.{key}", "the kubelet may not set labels in this namespace on its own "
                "node and would refuse to start.", "use another namespace, e.g. "
                "node.kubernetes.io/role or example.com/role.") for key in refused])
        return self

    @model_validator(mode="after")
    def _name_leaves_room_for_index(self) -> "WorkerPoolConfig":
        # Server names are "<cluster>-<pool>-<n>"; keep the pool part short enough for a label.
        if len(self.name) > 40:
            raise KeyedValueError("name", f"'{self.name}' is longer than 40 characters.",
                                  "use a shorter pool name.")
        return self
