"""A public load balancer in front of the Kubernetes API is not covered by any firewall.

Hetzner firewalls attach to servers, never to load balancers
(https://docs.hetzner.com/cloud/firewalls/faq/): users of kube-hetzner and hetzner-k3s
repeatedly believed their API LB was protected when it was not (kube-hetzner PR #1097,
hetzner-k3s #124). This policy makes that warning enforceable.
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.rules.firewall import WORLD
from policies.rules.types import (
    HCLOUD_FIREWALL,
    HCLOUD_LOAD_BALANCER,
    HCLOUD_LOAD_BALANCER_NETWORK,
    HCLOUD_LOAD_BALANCER_SERVICE,
)
from upstream.k3s import API_PORT


def _attached_to(resource: PolicyResource, key: str, load_balancer: PolicyResource) -> bool:
    return any(dep.urn == load_balancer.urn
               for dep in resource.property_dependencies.get(key) or [])


def _is_public(load_balancer: PolicyResource, resources: list[PolicyResource]) -> bool:
    # Public unless a network attachment turns the public interface off (provider default: on).
    for network in resources:
        if (network.resource_type == HCLOUD_LOAD_BALANCER_NETWORK
                and _attached_to(network, "loadBalancerId", load_balancer)
                and network.props.get("enablePublicInterface") is False):
            return False
    return True


def _serves_api(load_balancer: PolicyResource, resources: list[PolicyResource]) -> bool:
    return any(service.resource_type == HCLOUD_LOAD_BALANCER_SERVICE
               and _attached_to(service, "loadBalancerId", load_balancer)
               and int(service.props.get("listenPort") or 0) == API_PORT
               for service in resources)


def _api_sources(resources: list[PolicyResource]) -> set[str]:
    sources: set[str] = set()
    for firewall in (r for r in resources if r.resource_type == HCLOUD_FIREWALL):
        for rule in firewall.props.get("rules") or []:
            if rule.get("direction") == "in" and str(rule.get("port")) == str(API_PORT):
                sources.update(rule.get("sourceIps") or [])
    return sources


def _public_api_lb(args: StackValidationArgs, report: ReportViolation) -> None:
    if args.get_config().get("acknowledgePublicApiLoadBalancer"):
        return
    resources = list(args.resources)
    sources = _api_sources(resources)
    if sources & set(WORLD):
        return  # the API is deliberately world-open; hcloud-firewall-disallow-public-api says so
    for lb in (r for r in resources if r.resource_type == HCLOUD_LOAD_BALANCER):
        if _is_public(lb, resources) and _serves_api(lb, resources):
            allowed = ", ".join(sorted(sources)) or "no one"
            report(f"Load balancer '{lb.name}' serves the Kubernetes API (port {API_PORT}) on a "
                   f"public interface, while the firewall allows {API_PORT} only from {allowed}: "
                   "Hetzner firewalls do not apply to load balancers, so the whole internet "
                   "reaches this API. Fix: set controlPlane.loadBalancer.publicInterface: false "
                   "(reach it through the bastion), or set acknowledgePublicApiLoadBalancer in "
                   "the pack config to accept the exposure.", lb.urn)


public_api_load_balancer = StackValidationPolicy(
    name="hcloud-api-load-balancer-not-firewalled",
    description=f"A public API load balancer bypasses the firewall that restricts {API_PORT}.",
    validate=_public_api_lb,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config_schema=PolicyConfigSchema(properties={
        "acknowledgePublicApiLoadBalancer": {"type": "boolean", "default": False}}),
    remediation_steps="Keep the API load balancer private (publicInterface: false), or accept "
                      "the exposure explicitly in the pack config.",
    url="https://docs.hetzner.com/cloud/firewalls/faq/",
)

POLICIES = [public_api_load_balancer]
