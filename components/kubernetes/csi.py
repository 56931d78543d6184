"""hcloud-csi: Hetzner Cloud volumes as PersistentVolumes.

Creates: the ``hcloud-csi`` Helm release in kube-system. It reads the API token from the Secret
``kube-system/hcloud`` (key ``token``) that the CCM step creates — the chart's default.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as kubernetes

from components.kubernetes.helm_release import helm_release
from stack_config import ClusterSpec
from upstream import hetzner

RELEASE_NAME = "hcloud-csi"
TIMEOUT_SECONDS = 600


def install_csi(name: str, spec: ClusterSpec,
                opts: pulumi.ResourceOptions) -> kubernetes.helm.v3.Release:
    return helm_release(
        f"{name}-csi",
        release_name=RELEASE_NAME,
        chart=hetzner.CSI_CHART,
        version=spec.addons.csi.version,
        repository=hetzner.HELM_REPOSITORY,
        namespace="kube-system",
        values={},
        timeout_seconds=TIMEOUT_SECONDS,
        opts=opts)
