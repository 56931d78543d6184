"""The Helm release settings every add-on shares: pinned chart, atomic install, bounded history."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as kubernetes

# Helm keeps one Secret per revision; ten is enough to roll back and keeps kube-system tidy.
MAX_HISTORY = 10


def helm_release(resource_name: str, *, release_name: str, chart: str, version: str,
                 repository: str, namespace: str, values: pulumi.Input[dict[str, Any]],
                 timeout_seconds: int,
                 opts: pulumi.ResourceOptions,
                 skip_crds: bool = False) -> kubernetes.helm.v3.Release:
    """A ``helm.v3.Release`` with a fixed release name, so changing values is a Helm upgrade.

    ``atomic``: a failed install or upgrade is rolled back instead of leaving a half-applied
    release for the next ``pulumi up`` to trip over.
    """
    return kubernetes.helm.v3.Release(
        resource_name,
        name=release_name,
        chart=chart,
        version=version,
        repository_opts=kubernetes.helm.v3.RepositoryOptsArgs(repo=repository),
        namespace=namespace,
        values=values,
        atomic=True,
        timeout=timeout_seconds,
        max_history=MAX_HISTORY,
        # None when unset: an explicit false would show as a change on existing releases.
        skip_crds=True if skip_crds else None,
        opts=opts)
