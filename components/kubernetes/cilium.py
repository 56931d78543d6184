"""The Cilium Helm release.

Creates: the ``cilium`` Helm release in kube-system and, when Maglev is on without a seed, a
``random.RandomBytes`` (12 bytes, secret) as the cluster-wide ``maglev.hashSeed``.

Values are ``cluster_plan.cilium_values.helm_values``: computed Hetzner defaults under
``cilium.values``. Changing any of them is an upgrade of this one release (fixed release name,
no replace-on-change), never a reinstall and never a node change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as kubernetes
import pulumi_random as random
from pulumi.runtime.config import is_config_secret

from components.kubernetes.helm_release import helm_release
from stack_config import PROJECT, ClusterSpec
from cluster_plan.cilium_values import deep_merge, needs_generated_hash_seed
from upstream import cilium as upstream_cilium
from upstream.cilium_chart import MAGLEV_SEED_BYTES

RELEASE_NAME = "cilium"
# A DaemonSet rollout over every node, image pulls included; atomic rolls back on expiry.
TIMEOUT_SECONDS = 900


@dataclass(frozen=True)
class CiliumInstall:
    release: kubernetes.helm.v3.Release
    hash_seed: random.RandomBytes | None


def install_cilium(name: str, spec: ClusterSpec, opts: pulumi.ResourceOptions,
                   mesh_values: pulumi.Output[dict[str, Any]] | None = None) -> CiliumInstall:
    """``mesh_values``: Cluster Mesh peers and shared CA (secret), merged over the values."""
    values: dict[str, Any] = spec.cilium_helm_values
    hash_seed = None
    if needs_generated_hash_seed(values):
        # Every agent must hash with the same seed; generated once, kept in state, secret.
        hash_seed = random.RandomBytes(f"{name}-maglev-seed", length=MAGLEV_SEED_BYTES,
                                       opts=pulumi.ResourceOptions(parent=opts.parent))
        maglev = values.get("maglev") or {}
        values = {**values, "maglev": {**maglev, "hashSeed": hash_seed.base64}}
    release_values: pulumi.Input[dict[str, Any]] = values
    if is_config_secret(f"{PROJECT}:cilium"):
        # Part of the `cilium` key is stored encrypted: keep the values secret as a whole.
        release_values = pulumi.Output.secret(values)
    if mesh_values is not None:
        # Carries the shared CA's private key: the release values are secret as a whole.
        release_values = pulumi.Output.secret(mesh_values.apply(
            lambda mesh: deep_merge(values, mesh)))
    release = helm_release(
        f"{name}-cilium",
        release_name=RELEASE_NAME,
        chart=upstream_cilium.CHART,
        version=spec.cilium.version,
        repository=upstream_cilium.HELM_REPOSITORY,
        namespace=upstream_cilium.NAMESPACE,
        values=release_values,
        timeout_seconds=TIMEOUT_SECONDS,
        opts=opts)
    return CiliumInstall(release, hash_seed)
