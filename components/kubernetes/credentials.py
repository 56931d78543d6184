"""The Secret ``kube-system/hcloud`` that hcloud-ccm and hcloud-csi both read.

Keys ``token`` (the Hetzner API token, a Pulumi secret end to end) and ``network`` (the private
network's id, which the CCM attaches load balancers to and routes pod CIDRs in).
Ref: hetznercloud/hcloud-cloud-controller-manager chart/values.yaml at v1.35.0 (env HCLOUD_TOKEN,
     HCLOUD_NETWORK);
     hetznercloud/csi-driver chart/values.yaml (controller.hcloudToken.existingSecret)
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as kubernetes

from upstream import hetzner

NAMESPACE = "kube-system"


def hcloud_credentials(resource_name: str, hcloud_token: pulumi.Output[str],
                       network_id: pulumi.Input[Any],
                       opts: pulumi.ResourceOptions) -> kubernetes.core.v1.Secret:
    return kubernetes.core.v1.Secret(
        resource_name,
        metadata={"name": hetzner.CREDENTIALS_SECRET, "namespace": NAMESPACE},
        type="Opaque",
        string_data={
            "token": pulumi.Output.secret(hcloud_token),
            "network": pulumi.Output.from_input(network_id).apply(str),
        },
        opts=opts)
