"""``cilium``: the CNI's version, Helm values under Cilium's own names, and Cilium resources."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from stack_config.base import Cidr, DnsLabel, StackReferenceName, StrictModel
from stack_config.errors import KeyedValueError
from stack_config.nodes import LabelKey, LabelValue
from upstream.cilium import DEFAULT_VERSION, line_of, supported_lines_text


class LabelSelectorRequirement(StrictModel):
    """One ``matchExpressions`` entry, as in Kubernetes' ``LabelSelectorRequirement``."""

    key: LabelKey
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: list[LabelValue] = Field(default_factory=list)

    @model_validator(mode="after")
    def _values_match_operator(self) -> "LabelSelectorRequirement":
        if self.operator in ("In", "NotIn") and not self.values:
            raise KeyedValueError("values", f"operator {self.operator} needs values.",
                                  "list at least one value.")
        if self.operator in ("Exists", "DoesNotExist") and self.values:
            raise KeyedValueError("values", f"operator {self.operator} takes no values.",
                                  "remove values.")
        return self


class LabelSelector(StrictModel):
    match_labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    match_expressions: list[LabelSelectorRequirement] = Field(default_factory=list)


class IPRange(StrictModel):
    start: IPv4Address
    stop: IPv4Address

    @model_validator(mode="after")
    def _ordered(self) -> "IPRange":
        if self.stop < self.start:
            raise KeyedValueError("stop", f"{self.stop} comes before start {self.start}.",
                                  "swap start and stop.")
        return self


def _block_kind(value: Any) -> str:
    # A mapping is a start/stop range, anything else a CIDR: one clear error, not one per kind.
    return "IPRange" if isinstance(value, (dict, IPRange)) else "Cidr"


PoolBlock = Annotated[Annotated[Cidr, Tag("Cidr")] | Annotated[IPRange, Tag("IPRange")],
                      Discriminator(_block_kind)]


class LoadBalancerIPPool(StrictModel):
    """A ``CiliumLoadBalancerIPPool``: addresses Cilium's LB-IPAM may hand to Services."""

    name: DnsLabel
    """Name of the ``CiliumLoadBalancerIPPool``."""
    blocks: list[PoolBlock] = Field(min_length=1)
    """Address blocks: CIDRs, or ``{start, stop}`` ranges."""
    service_selector: LabelSelector | None = None
    """Kubernetes label selector (``matchLabels``, ``matchExpressions``) of the Services the
    pool serves; unset: every Service."""
    disabled: bool = False
    """Keep the pool but hand out no new addresses from it."""


class L2AnnouncementPolicy(StrictModel):
    """A ``CiliumL2AnnouncementPolicy``: answer ARP for Service IPs (L2 networks only).

    Field names follow the CRD (``externalIPs``, ``loadBalancerIPs``) so users can copy them.
    """

    name: DnsLabel
    """Name of the ``CiliumL2AnnouncementPolicy``."""
    service_selector: LabelSelector | None = None
    """Label selector of the Services to announce; unset: every Service."""
    node_selector: LabelSelector | None = None
    """Label selector of the nodes that may announce; unset: every node."""
    interfaces: list[str] = Field(default_factory=list)
    """Network interfaces (regular expressions) to announce on; empty: all."""
    external_ips: bool = Field(False, alias="externalIPs")
    """Announce the Services' ``externalIPs``."""
    load_balancer_ips: bool = Field(True, alias="loadBalancerIPs")
    """Announce the Services' load balancer addresses."""


class EgressGateway(StrictModel):
    node_selector: LabelSelector
    """Label selector of the node that forwards the traffic."""
    interface: str | None = None
    """Interface on the gateway node whose first IPv4 address traffic leaves with (Cilium's
    ``interface``)."""
    egress_ip: IPv4Address | None = Field(None, alias="egressIP")
    """Source address traffic leaves the gateway node with (Cilium's ``egressIP``)."""


class EgressGatewayPolicy(StrictModel):
    """A ``CiliumEgressGatewayPolicy``: route selected pods' egress through gateway nodes."""

    name: DnsLabel
    """Name of the ``CiliumEgressGatewayPolicy``."""
    pod_selector: LabelSelector = LabelSelector()
    """Label selector of the pods whose traffic is redirected; empty: every pod."""
    namespace_selector: LabelSelector | None = None
    """Label selector of the namespaces of those pods; unset: every namespace."""
    destination_cidrs: list[IPv4Network] = Field(min_length=1, alias="destinationCIDRs")
    """Destinations whose traffic goes through the gateway."""
    excluded_cidrs: list[IPv4Network] = Field(default_factory=list, alias="excludedCIDRs")
    """Destinations within ``destinationCIDRs`` that keep the normal path."""
    egress_gateway: EgressGateway
    """The gateway node and the address traffic leaves with."""


class ClusterMeshConfig(StrictModel):
    """``cilium.clusterMesh``: the other stacks whose clusters this one meshes with.

    The cluster's own mesh identity stays under Cilium's names (``cilium.values.cluster.name``
    defaults to ``clusterName``; ``cilium.values.cluster.id`` is required), so the chart checks
    see exactly what the agents get.
    """

    peers: list[StackReferenceName] = Field(min_length=1)
    """The peer stacks (``stack``, ``project/stack`` or ``org/project/stack``)."""
    service_type: Literal["LoadBalancer", "NodePort"] = "LoadBalancer"
    """How the clustermesh-apiserver is exposed; LoadBalancer gets a Hetzner LB through the CCM."""

    @field_validator("peers")
    @classmethod
    def _unique_peers(cls, peers: list[str]) -> list[str]:
        duplicates = sorted({p for p in peers if peers.count(p) > 1})
        if duplicates:
            raise ValueError(f"peer(s) {', '.join(duplicates)} listed twice. "
                             "Fix: list every peer stack once.")
        return peers


class CiliumConfig(StrictModel):
    version: str = DEFAULT_VERSION
    """Cilium chart version, of a supported line."""
    values: dict[str, Any] = Field(default_factory=dict)
    """Helm values under Cilium's own names; they override the computed defaults."""
    allow_untested_kubernetes: bool = False
    """Downgrade 'k3s minor outside this Cilium line's tested range' from an error to a warning."""
    load_balancer_ip_pools: list[LoadBalancerIPPool] = Field(default_factory=list,
                                                             alias="loadBalancerIPPools")
    """``CiliumLoadBalancerIPPool`` resources (LB-IPAM)."""
    l2_announcement_policies: list[L2AnnouncementPolicy] = Field(default_factory=list)
    """``CiliumL2AnnouncementPolicy`` resources; need ``cilium.values.l2announcements.enabled``."""
    egress_gateway_policies: list[EgressGatewayPolicy] = Field(default_factory=list)
    """``CiliumEgressGatewayPolicy`` resources; need ``cilium.values.egressGateway.enabled``."""
    cluster_mesh: ClusterMeshConfig | None = None
    """Cluster Mesh with the clusters of other stacks (docs/cluster-mesh.md); unset: no mesh."""

    @field_validator("version")
    @classmethod
    def _supported_line(cls, version: str) -> str:
        if line_of(version) is None:
            raise ValueError(
                f"Cilium '{version}' is not in a supported line ({supported_lines_text()}). "
                f"Fix: use e.g. '{DEFAULT_VERSION}'.")
        return version

    @model_validator(mode="after")
    def _unique_resource_names(self) -> "CiliumConfig":
        for key in ("load_balancer_ip_pools", "l2_announcement_policies",
                    "egress_gateway_policies"):
            names = [item.name for item in getattr(self, key)]
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                alias = type(self).model_fields[key].alias or key
                raise KeyedValueError(alias, f"duplicate name(s) {', '.join(duplicates)}.",
                                      "give every entry a unique name.")
        return self

    def value(self, dotted: str, default: Any = None) -> Any:
        """A user-set Helm value by dotted path (``loadBalancer.mode``), or ``default``."""
        node: Any = self.values
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node


