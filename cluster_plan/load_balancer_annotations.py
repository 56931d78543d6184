"""The hcloud-ccm annotations that give a ``LoadBalancer`` Service a Hetzner load balancer.

One builder for every Service the program exposes that way — the Cilium Gateway's (through the
Gateway's ``spec.infrastructure.annotations``), the clustermesh-apiserver's and APISIX's gateway
Service — so they name, place and attach their load balancers by the same rules.
Ref: hcloud-cloud-controller-manager docs/reference/load_balancer_annotations.md (names;
``location`` and ``network-zone`` are mutually exclusive, so only ``location`` is set).
"""

from __future__ import annotations

from dataclasses import dataclass

from upstream import hetzner


@dataclass(frozen=True)
class HetznerLoadBalancer:
    """What the stack decides about one CCM-managed load balancer."""

    name: str
    """Hetzner name of the load balancer (``<clusterName>-<what>``): stable, so hcloud-ccm
    adopts the same load balancer after a Service is recreated."""
    location: str
    """Hetzner location; must be in the network zone of the cluster's network."""
    type: str | None = None
    """Load balancer type (``lb11`` …); None leaves the CCM's default."""
    use_private_ip: bool | None = None
    """Reach the targets over the private network; None leaves the CCM's default (public)."""
    private_ipv4: str | None = None
    """The LB's address in the cluster's network, planned in advance so others can be given it
    before the LB exists; None lets Hetzner pick one."""
    public: bool = True
    """False detaches the LB from the public internet (``disable-public-network``)."""


def hcloud_ccm_annotations(lb: HetznerLoadBalancer) -> dict[str, str]:
    """The Service annotations (values are strings, as Kubernetes requires)."""
    annotations = {hetzner.LB_NAME: lb.name, hetzner.LB_LOCATION: lb.location}
    if lb.type is not None:
        annotations[hetzner.LB_TYPE] = lb.type
    if lb.use_private_ip is not None:
        annotations[hetzner.LB_USE_PRIVATE_IP] = "true" if lb.use_private_ip else "false"
    if lb.private_ipv4 is not None:
        annotations[hetzner.LB_PRIVATE_IPV4] = lb.private_ipv4
    if not lb.public:
        annotations[hetzner.LB_DISABLE_PUBLIC_NETWORK] = "true"
    return annotations


def zone_problem(location: str, network_zone: str) -> str | None:
    """Why a load balancer in ``location`` could not join a network in ``network_zone``."""
    zone = hetzner.network_zone(location)
    if zone == network_zone:
        return None
    return (f"{location} is in {zone}, the network in {network_zone}: the load balancer could "
            "not attach to it.")
