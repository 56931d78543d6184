"""The Gateway API CRDs, applied before Cilium.

The Cilium operator looks for the Gateway API kinds once, at start-up; CRDs that arrive later
leave Gateway support silently off until the operator restarts (https://docs.cilium.io/en/stable/network/servicemesh/gateway-api/gateway-api/). So they are
their own resource, and the Cilium release depends on it.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as kubernetes

from upstream.cilium import GatewayApiBundle


def install_gateway_api_crds(resource_name: str, bundle: GatewayApiBundle,
                             opts: pulumi.ResourceOptions) -> kubernetes.yaml.v2.ConfigFile:
    """The upstream release manifest for the Cilium line, applied server-side by the provider.

    The resource name carries no version: a Cilium line change updates the CRDs in place. Deleting
    a CRD deletes every object of its kind (every HTTPRoute in the cluster), so removing this
    resource retains the CRDs.
    """
    return kubernetes.yaml.v2.ConfigFile(
        resource_name,
        file=bundle.install_url,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(retain_on_delete=True)))
