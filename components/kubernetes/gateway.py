"""The default Gateway: a ``Gateway`` of class ``cilium`` in front of a Hetzner load balancer.

Creates: the Gateway (a ``CustomResource``, after the Cilium release, which creates the
``cilium`` GatewayClass) and, when its namespace is not one Kubernetes ships, that Namespace.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as kubernetes

from components.kubernetes import gateway_manifest
from components.kubernetes.manifest import custom_resource
from stack_config import ClusterSpec

BUILT_IN_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})


@dataclass(frozen=True)
class DefaultGateway:
    gateway: kubernetes.apiextensions.CustomResource
    namespace: kubernetes.core.v1.Namespace | None

    @property
    def name(self) -> pulumi.Output[str]:
        return self.gateway.metadata.apply(lambda metadata: metadata["name"])

    @property
    def namespace_name(self) -> pulumi.Output[str]:
        return self.gateway.metadata.apply(lambda metadata: metadata["namespace"])


def install_gateway(name: str, spec: ClusterSpec, opts: pulumi.ResourceOptions) -> DefaultGateway:
    manifest = gateway_manifest.gateway(spec)
    namespace = None
    if spec.addons.gateway.namespace not in BUILT_IN_NAMESPACES:
        namespace = kubernetes.core.v1.Namespace(
            f"{name}-gateway-namespace", metadata={"name": spec.addons.gateway.namespace},
            opts=opts)
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[namespace]))
    return DefaultGateway(custom_resource(f"{name}-gateway", manifest, opts), namespace)
