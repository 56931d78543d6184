"""``addons.apisix``: Apache APISIX with its ingress controller, without etcd.

The model and the rules that span keys (ingress and gateway class ownership, Traefik, the load
balancer's zone); ``stack_config/schema.py`` calls :func:`apisix_problems` with what the rules
read from the rest of the stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cluster_plan.load_balancer_annotations import zone_problem
from stack_config.base import DnsLabel, Location, StrictModel
from stack_config.errors import KeyedValueError
from stack_config.nodes import LoadBalancerType
from upstream import hetzner
from upstream.cilium import GATEWAY_CLASS

# The IngressClass Cilium's ingress controller creates (fixed name in the Cilium chart).
CILIUM_INGRESS_CLASS = "cilium"
TRAEFIK = "traefik"
KEY = "addons.apisix"


class ApisixLoadBalancer(StrictModel):
    """hcloud-ccm annotations of the Hetzner LB in front of APISIX's gateway Service (the same
    options, defaults and zone rule as ``addons.gateway.loadBalancer``)."""

    type: LoadBalancerType = "lb11"
    """Hetzner load balancer type."""
    location: Location | None = None
    """Defaults to the top-level ``location``; must be in the network's zone."""
    use_private_ip: bool = True
    """The LB reaches nodes over the private network (no node needs a public interface)."""


class ApisixConfig(StrictModel):
    """APISIX (data plane) and apisix-ingress-controller 2.x in standalone mode: the controller
    pushes the whole configuration to APISIX's admin API; no etcd."""

    enabled: bool = False
    """Install APISIX and its ingress controller (Helm chart ``apisix``, pinned); needs the CCM
    for the load balancer."""
    role: Literal["ingress", "gateway", "both"] = "both"
    """What the controller serves: ``Ingress`` (and ApisixRoute), the Gateway API (a
    GatewayClass and a Gateway), or both. With ``ingress`` the controller's Gateway API support
    is switched off."""
    namespace: DnsLabel = "apisix"
    """Namespace of the release, its admin-key Secret and its Gateway."""
    ingress_class_name: DnsLabel = "apisix"
    """Name of the IngressClass APISIX claims (the chart always creates it)."""
    default_ingress_class: bool = False
    """Mark the IngressClass as the cluster default (Ingresses without a class go to APISIX)."""
    gateway_class_name: DnsLabel = "apisix"
    """Name of the GatewayClass APISIX claims (roles ``gateway`` and ``both``)."""
    gateway_name: DnsLabel = "apisix"
    """Name of the Gateway created in ``namespace`` (roles ``gateway`` and ``both``), for
    HTTPRoute ``parentRefs``."""
    allowed_routes: Literal["Same", "All"] = "Same"
    """Namespaces whose HTTPRoutes may attach to that Gateway: its own (``Same``) or all."""
    load_balancer: ApisixLoadBalancer = ApisixLoadBalancer()
    """hcloud-ccm annotations of the load balancer in front of APISIX's gateway Service."""

    @property
    def serves_ingress(self) -> bool:
        return self.role in ("ingress", "both")

    @property
    def serves_gateway(self) -> bool:
        return self.role in ("gateway", "both")


@dataclass(frozen=True)
class ApisixSurroundings:
    """What the APISIX rules read from the rest of the stack."""

    cluster_name: str
    location: str
    network_zone: str
    private_only: bool
    ccm_enabled: bool
    k3s_disable: tuple[str, ...]
    cilium_gateway_api: bool
    cilium_ingress: bool
    cilium_ingress_default: bool
    other_load_balancer_names: dict[str, str]
    """Hetzner LB name -> the key that names it, for every other CCM load balancer."""


def load_balancer_name(cluster_name: str) -> str:
    return f"{cluster_name}-apisix"


def apisix_problems(config: ApisixConfig, around: ApisixSurroundings) -> list[KeyedValueError]:
    if not config.enabled:
        return []
    problems: list[KeyedValueError] = []
    if not around.ccm_enabled:
        problems.append(KeyedValueError(
            f"{KEY}.enabled", "only hcloud-ccm gives APISIX's gateway Service a Hetzner load "
            "balancer, and addons.ccm.enabled is false.",
            "set addons.ccm.enabled: true, or addons.apisix.enabled: false."))
    lb = config.load_balancer
    if around.private_only and not lb.use_private_ip:
        problems.append(KeyedValueError(
            f"{KEY}.loadBalancer.usePrivateIp", "nodes have no public IPs (network.privateOnly), "
            "so the load balancer could not reach them.",
            f"set {KEY}.loadBalancer.usePrivateIp: true."))
    if lb.location:
        zone = zone_problem(lb.location, around.network_zone)
        if zone:
            problems.append(KeyedValueError(
                f"{KEY}.loadBalancer.location", zone,
                f"use a location in {around.network_zone}, or remove the key (default: "
                f"{around.location})."))
    name = load_balancer_name(around.cluster_name)
    if len(name) > hetzner.MAX_RESOURCE_NAME:
        problems.append(KeyedValueError(
            "clusterName", f"APISIX's load balancer name '{name}' is longer than "
            f"{hetzner.MAX_RESOURCE_NAME} characters.", "use a shorter clusterName."))
    if name in around.other_load_balancer_names:
        other = around.other_load_balancer_names[name]
        problems.append(KeyedValueError(
            other, f"names the Hetzner load balancer '{name}', which APISIX's gateway Service "
            "also claims: hcloud-ccm would hand one load balancer to both Services.",
            f"rename it ({other}) to something other than 'apisix'."))
    if config.serves_ingress and TRAEFIK not in around.k3s_disable:
        problems.append(KeyedValueError(
            "k3s.disable", f"Traefik (packaged with k3s) and APISIX ({KEY}.role: {config.role}) "
            "would both serve Ingress: two controllers, two load balancers, and Ingresses "
            "without a class picked up by Traefik.",
            f"add traefik to k3s.disable, or set {KEY}.role: gateway."))
    if config.serves_gateway and around.cilium_gateway_api and \
            config.gateway_class_name == GATEWAY_CLASS:
        problems.append(KeyedValueError(
            f"{KEY}.gatewayClassName", f"the GatewayClass '{GATEWAY_CLASS}' belongs to Cilium "
            "(cilium.values.gatewayAPI.enabled); two controllers would fight over its Gateways.",
            "use another name (default: apisix), or turn Cilium's Gateway API off."))
    if around.cilium_ingress and config.ingress_class_name == CILIUM_INGRESS_CLASS:
        problems.append(KeyedValueError(
            f"{KEY}.ingressClassName", f"the IngressClass '{CILIUM_INGRESS_CLASS}' belongs to "
            "Cilium's ingress controller (cilium.values.ingressController.enabled).",
            "use another name (default: apisix), or turn Cilium's ingress controller off."))
    if config.ingress_class_name == TRAEFIK and TRAEFIK not in around.k3s_disable:
        problems.append(KeyedValueError(
            f"{KEY}.ingressClassName", "the IngressClass 'traefik' belongs to k3s's packaged "
            "Traefik, which this stack keeps.",
            "use another name (default: apisix), or add traefik to k3s.disable."))
    if config.default_ingress_class and around.cilium_ingress and around.cilium_ingress_default:
        problems.append(KeyedValueError(
            f"{KEY}.defaultIngressClass", "Cilium's ingress controller is the default "
            "IngressClass too (cilium.values.ingressController.default): Ingresses without a "
            "class would be claimed by both.",
            "make only one of them the default."))
    return problems
