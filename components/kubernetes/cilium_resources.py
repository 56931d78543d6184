"""Cilium custom resources from ``cilium.loadBalancerIPPools``, ``l2AnnouncementPolicies`` and
``egressGatewayPolicies``.

Creates one ``CustomResource`` per entry, named after the entry (a stable key, never a list
position), each depending on the Cilium release: the operator registers Cilium's CRDs when it
starts, so they exist once the atomic release is ready.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as kubernetes

from components.kubernetes import cilium_manifests
from components.kubernetes.manifest import custom_resource
from stack_config import ClusterSpec
from upstream.cilium import line_of


def install_cilium_resources(name: str, spec: ClusterSpec, opts: pulumi.ResourceOptions
                             ) -> list[kubernetes.apiextensions.CustomResource]:
    line = line_of(spec.cilium.version)
    assert line is not None, "the config model accepts supported Cilium lines only"
    config = spec.cilium
    manifests = (
        [(f"{name}-lb-pool-{p.name}", cilium_manifests.load_balancer_ip_pool(p, line))
         for p in config.load_balancer_ip_pools]
        + [(f"{name}-l2-policy-{p.name}", cilium_manifests.l2_announcement_policy(p, line))
           for p in config.l2_announcement_policies]
        + [(f"{name}-egress-policy-{p.name}", cilium_manifests.egress_gateway_policy(p, line))
           for p in config.egress_gateway_policies])
    return [custom_resource(resource_name, manifest, opts) for resource_name, manifest in manifests]
