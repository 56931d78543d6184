"""The cluster-autoscaler (Hetzner provider) as plain manifests: node groups, cluster config, RBAC.

Upstream publishes the autoscaler's Helm chart only from its git repository, and neither the chart
nor the Go module is reachable from a package registry here; so the program renders the
deployment that the Hetzner provider's documentation describes
(``cloudprovider/hetzner/README.md``, ``examples/cluster-autoscaler-run-on-master.yaml``), with
the RBAC rules of upstream's chart and the image of the release matching the cluster's Kubernetes
minor (``upstream/cluster_autoscaler.py``, derived from upstream's tags).

- one node group per autoscaled pool that may grow (``--nodes=<min>:<max>:<type>:<location>:<id>``),
  min 0 and max ``autoscaling.max - count``: Pulumi's ``count`` nodes are outside the group, so
  the autoscaler never deletes a server Pulumi owns (``stack_config/autoscaling.py``);
- ``HCLOUD_CLUSTER_CONFIG``: base64 JSON with, per node group, the join user data, the pool's
  labels and taints, its image for both architectures and its spread placement group;
- the provider's other settings as environment: network, firewall (public mode), SSH key, and
  public IPv4/IPv6 off in private mode.

Pure: no Pulumi. Values that come from resources (ids, the user data) are parameters.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stack_config import ClusterSpec
from stack_config.autoscaling import autoscaled_share, node_group_name
from stack_config.nodes import WorkerPoolConfig
from upstream import cluster_autoscaler as upstream
from upstream.k3s import CONTROL_PLANE_LABEL

SECRET_NAME = "cluster-autoscaler-hetzner"
TOKEN_KEY = "token"
CLUSTER_CONFIG_KEY = "cluster-config"
"""Secret key of the base64 cluster config, for ``HCLOUD_CLUSTER_CONFIG`` (releases before 1.33)."""
CLUSTER_CONFIG_FILE_KEY = "cluster-config.json"
"""Secret key of the JSON cluster config, mounted for ``HCLOUD_CLUSTER_CONFIG_FILE``."""
CONFIG_MOUNT = "/etc/cluster-autoscaler"
CONFIG_VOLUME = "hetzner-cluster-config"
# One environment string may hold at most 32 pages (MAX_ARG_STRLEN, linux/binfmts.h); each node
# group's user data is up to 32 KiB, so a few pools outgrow the variable. Upstream added
# HCLOUD_CLUSTER_CONFIG_FILE for this ("when you have many different node pools and run into
# issues of the env var becoming too long"); releases that read it get the file.
MAX_ENVIRONMENT_STRING = 32 * 4096
CONFIG_FILE_VARIABLE = "HCLOUD_CLUSTER_CONFIG_FILE"
LABELS = {"app.kubernetes.io/name": upstream.NAME, "app.kubernetes.io/managed-by": "k3s-hcloud"}

# Scale-down: how long a node must be unneeded before it is removed, the pause after a scale-up,
# and how long its pods get to terminate while it is drained (the autoscaler cordons the node,
# evicts pods respecting PodDisruptionBudgets, then deletes the Hetzner server).
# Ref: cluster-autoscaler FAQ, "How does scale-down work?" and its parameter table.
SCALE_DOWN: dict[str, str] = {
    "scale-down-enabled": "true",
    "scale-down-unneeded-time": "10m",
    "scale-down-delay-after-add": "10m",
    "scale-down-delay-after-failure": "3m",
    "scale-down-utilization-threshold": "0.5",
    "max-graceful-termination-sec": "600",
}
# A server that has not become a Ready node after this long is deleted and retried elsewhere:
# creation (≤ 5 min, HCLOUD_SERVER_CREATION_TIMEOUT default) plus cloud-init and the k3s install.
MAX_NODE_PROVISION_TIME = "20m"


@dataclass(frozen=True)
class NodeGroup:
    """One Hetzner provider node group: the autoscaler's share of one pool."""

    id: str
    pool: WorkerPoolConfig
    location: str
    max_size: int
    min_size: int = 0

    @property
    def nodes_flag(self) -> str:
        return (f"--nodes={self.min_size}:{self.max_size}:{self.pool.server_type}:"
                f"{self.location}:{self.id}")


def node_groups(spec: ClusterSpec) -> list[NodeGroup]:
    """Node groups of the autoscaled pools that the autoscaler may grow, in config order."""
    groups = []
    for pool in spec.worker_pools:
        if pool.autoscaling is None:
            continue
        share = autoscaled_share(pool.count, pool.autoscaling.max)
        if share > 0:
            groups.append(NodeGroup(id=node_group_name(spec.cluster_name, pool.name), pool=pool,
                                    location=spec.pool_location(pool), max_size=share))
    return groups


@dataclass(frozen=True)
class ProviderTargets:
    """The Hetzner resources the autoscaler's servers join (plain ids once resolved)."""

    network: str
    ssh_key: str
    firewall: str | None
    """The nodes' firewall; None in private mode (no public interface to filter)."""


def cluster_config(groups: Sequence[NodeGroup], user_data: Mapping[str, str],
                   placement_groups: Mapping[str, str]) -> dict[str, Any]:
    """The provider's cluster-config JSON (README "HCLOUD_CLUSTER_CONFIG"), per node group."""
    configs: dict[str, Any] = {}
    for group in groups:
        pool = group.pool
        node: dict[str, Any] = {
            "cloudInit": user_data[group.id],
            "labels": dict(pool.labels),
            "taints": [{"key": t.key, "value": t.value, "effect": t.effect} for t in pool.taints],
            # The provider picks the entry for the server type's architecture; Hetzner resolves
            # an image name such as ubuntu-24.04 to the build for that architecture.
            "imagesForArch": {"amd64": pool.image, "arm64": pool.image},
        }
        if group.id in placement_groups:
            node["placementGroup"] = placement_groups[group.id]
        configs[group.id] = node
    return {"nodeConfigs": configs}


def encoded_cluster_config(config: Mapping[str, Any]) -> str:
    """``HCLOUD_CLUSTER_CONFIG`` is base64 of the JSON (hetzner_manager.go newManager)."""
    return base64.b64encode(json.dumps(config, sort_keys=True).encode()).decode()


def check_environment_size(encoded: str) -> str:
    """The base64 config as an environment value, or a clear error when it cannot be one."""
    if len("HCLOUD_CLUSTER_CONFIG=") + len(encoded) + 1 > MAX_ENVIRONMENT_STRING:
        raise ValueError(
            f"the autoscaler's cluster config is {len(encoded)} bytes in base64, more than one "
            f"environment variable holds ({MAX_ENVIRONMENT_STRING}); this autoscaler release "
            f"has no {CONFIG_FILE_VARIABLE}. Use fewer autoscaled pools or k3s 1.33 or newer.")
    return encoded


def provider_environment(targets: ProviderTargets, *, private_only: bool,
                         config_file: bool = True) -> list[dict[str, Any]]:
    """``config_file``: the release reads ``HCLOUD_CLUSTER_CONFIG_FILE`` (the Secret mounted)."""
    def secret(name: str, key: str) -> dict[str, Any]:
        return {"name": name, "valueFrom": {"secretKeyRef": {"name": SECRET_NAME, "key": key}}}

    env = [
        secret("HCLOUD_TOKEN", TOKEN_KEY),
        {"name": CONFIG_FILE_VARIABLE, "value": f"{CONFIG_MOUNT}/{CLUSTER_CONFIG_FILE_KEY}"}
        if config_file else secret("HCLOUD_CLUSTER_CONFIG", CLUSTER_CONFIG_KEY),
        {"name": "HCLOUD_NETWORK", "value": targets.network},
        # One key only (the provider takes one); the stack's first key. With a key set, Hetzner
        # creates no root password and mails none.
        {"name": "HCLOUD_SSH_KEY", "value": targets.ssh_key},
        # The provider defaults both to true; private mode has no public interfaces at all.
        {"name": "HCLOUD_PUBLIC_IPV4", "value": "false" if private_only else "true"},
        {"name": "HCLOUD_PUBLIC_IPV6", "value": "false" if private_only else "true"},
    ]
    if targets.firewall is not None:
        env.append({"name": "HCLOUD_FIREWALL", "value": targets.firewall})
    return env


def autoscaler_args(groups: Sequence[NodeGroup]) -> list[str]:
    return [
        f"--cloud-provider={upstream.CLOUD_PROVIDER}",
        *(group.nodes_flag for group in groups),
        *(f"--{flag}={value}" for flag, value in SCALE_DOWN.items()),
        f"--max-node-provision-time={MAX_NODE_PROVISION_TIME}",
        # Pools that are alike (same type, labels) share load instead of one filling first.
        "--balance-similar-node-groups=true",
        "--expander=least-waste",
        # Never delete a node whose pods use local storage without the owner's say-so.
        "--skip-nodes-with-local-storage=true",
        "--stderrthreshold=info",
        "--v=2",
    ]


def _metadata(name: str, namespaced: bool = True) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "labels": dict(LABELS)}
    if namespaced:
        metadata["namespace"] = upstream.NAMESPACE
    return metadata


def deployment_metadata() -> dict[str, Any]:
    return _metadata(upstream.NAME)


def deployment(image: str, args: Sequence[str], env: Sequence[Mapping[str, Any]], *,
               config_file: bool = True) -> dict[str, Any]:
    """One replica on a control-plane node, so scaling every pool to zero never evicts it."""
    selector = {"app.kubernetes.io/name": upstream.NAME}
    manifest = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": deployment_metadata(),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": {**LABELS, **selector}},
                "spec": {
                    "serviceAccountName": upstream.NAME,
                    "priorityClassName": "system-cluster-critical",
                    "nodeSelector": {CONTROL_PLANE_LABEL: "true"},
                    "tolerations": [
                        {"key": CONTROL_PLANE_LABEL, "operator": "Exists",
                         "effect": "NoSchedule"},
                        {"key": "CriticalAddonsOnly", "operator": "Exists"},
                    ],
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 65534,
                                        "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{
                        "name": upstream.NAME,
                        "image": image,
                        "imagePullPolicy": "IfNotPresent",
                        "command": ["./cluster-autoscaler"],
                        "args": list(args),
                        "env": [dict(item) for item in env],
                        "ports": [{"name": "metrics", "containerPort": upstream.METRICS_PORT}],
                        "livenessProbe": {"httpGet": {"path": "/health-check",
                                                      "port": upstream.METRICS_PORT}},
                        "resources": {"requests": {"cpu": "100m", "memory": "300Mi"},
                                      "limits": {"memory": "600Mi"}},
                        "securityContext": {"allowPrivilegeEscalation": False,
                                            "readOnlyRootFilesystem": True,
                                            "capabilities": {"drop": ["ALL"]}},
                    }],
                },
            },
        },
    }
    if config_file:
        pod = manifest["spec"]["template"]["spec"]
        # Readable by the container's group only (fsGroup), never world-readable.
        pod["securityContext"]["fsGroup"] = 65534
        pod["volumes"] = [{"name": CONFIG_VOLUME, "secret": {
            "secretName": SECRET_NAME, "defaultMode": 0o440,
            "items": [{"key": CLUSTER_CONFIG_FILE_KEY, "path": CLUSTER_CONFIG_FILE_KEY}]}}]
        pod["containers"][0]["volumeMounts"] = [
            {"name": CONFIG_VOLUME, "mountPath": CONFIG_MOUNT, "readOnly": True}]
    return manifest


def rbac_manifests(cluster_rules: list[dict], role_rules: list[dict]) -> list[dict[str, Any]]:
    subject = [{"kind": "ServiceAccount", "name": upstream.NAME, "namespace": upstream.NAMESPACE}]
    rbac = "rbac.authorization.k8s.io"
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _metadata(upstream.NAME)},
        {"apiVersion": f"{rbac}/v1", "kind": "ClusterRole",
         "metadata": _metadata(upstream.NAME, namespaced=False), "rules": cluster_rules},
        {"apiVersion": f"{rbac}/v1", "kind": "ClusterRoleBinding",
         "metadata": _metadata(upstream.NAME, namespaced=False),
         "roleRef": {"apiGroup": rbac, "kind": "ClusterRole", "name": upstream.NAME},
         "subjects": subject},
        {"apiVersion": f"{rbac}/v1", "kind": "Role", "metadata": _metadata(upstream.NAME),
         "rules": role_rules},
        {"apiVersion": f"{rbac}/v1", "kind": "RoleBinding", "metadata": _metadata(upstream.NAME),
         "roleRef": {"apiGroup": rbac, "kind": "Role", "name": upstream.NAME},
         "subjects": subject},
    ]
