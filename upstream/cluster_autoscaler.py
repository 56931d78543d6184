"""Kubernetes cluster-autoscaler: the release per Kubernetes minor and its Hetzner provider facts.

The facts come from upstream's own tags, chart and provider source, derived by
``tools/cluster_autoscaler_upstream.py`` into ``cluster_autoscaler.json`` (a test regenerates it
when a clone is present). The autoscaler is released once per Kubernetes minor and supports that
minor (Ref: kubernetes/autoscaler cluster-autoscaler/README.md, "Releases"); a cluster runs the
newest patch of its own minor.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

FACTS_FILE = Path(__file__).resolve().parent / "cluster_autoscaler.json"
NAMESPACE = "kube-system"
NAME = "cluster-autoscaler"
CLOUD_PROVIDER = "hetzner"
# The Hetzner provider labels every server it creates with the node group's id
# (cloudprovider/hetzner/hetzner_node_group.go, nodeGroupLabel) and finds a group's servers by it.
NODE_GROUP_LABEL = "hcloud/node-group"
# Label on the spread group of a node group's servers: its node group id, so the group's max can
# be checked against the group's capacity from the plan alone.
NODE_GROUP_PLACEMENT_LABEL = "node-group"

# Block 0 of the address plan (hosts .2–.254; .1 is the gateway) is where Hetzner puts every
# address it assigns by itself: the autoscaler's servers and the CCM's load balancers. Autoscaled
# servers may take at most this many, so load balancers always find a free address there.
AUTO_ASSIGNED_HOSTS = 253
RESERVED_FOR_LOAD_BALANCERS = 53
MAX_AUTOSCALED_SERVERS = AUTO_ASSIGNED_HOSTS - RESERVED_FOR_LOAD_BALANCERS

# Liveness and metrics: the autoscaler's --address default (cluster-autoscaler FAQ).
METRICS_PORT = 8085


@cache
def facts() -> dict[str, Any]:
    return json.loads(FACTS_FILE.read_text())


def _minor(kubernetes_minor: tuple[int, int]) -> str:
    return f"{kubernetes_minor[0]}.{kubernetes_minor[1]}"


def supported_minors() -> list[str]:
    return list(facts()["releases"])


def release_for(kubernetes_minor: tuple[int, int]) -> str | None:
    """The autoscaler release (``1.35.2``) for a Kubernetes minor, or None when upstream has none."""
    return facts()["releases"].get(_minor(kubernetes_minor))


def image_for(kubernetes_minor: tuple[int, int]) -> str:
    release = release_for(kubernetes_minor)
    if release is None:
        raise ValueError(f"no cluster-autoscaler release for Kubernetes {_minor(kubernetes_minor)}")
    return f"{facts()['image']}:v{release}"


def rbac_rules(kubernetes_minor: tuple[int, int]) -> tuple[list[dict], list[dict]]:
    """(ClusterRole rules, Role rules in the autoscaler's namespace) from upstream's chart."""
    entry = facts()["rbac"][_minor(kubernetes_minor)]
    return entry["clusterRole"], entry["role"]


def hetzner_environment(kubernetes_minor: tuple[int, int]) -> list[str]:
    """Environment variables the Hetzner provider of that release reads."""
    return facts()["hetzner"][_minor(kubernetes_minor)]["environment"]


def hetzner_config_fields(kubernetes_minor: tuple[int, int]) -> dict[str, list[str]]:
    """Go field names of the cluster-config JSON structs (Go matches JSON keys case-insensitively)."""
    entry = facts()["hetzner"][_minor(kubernetes_minor)]
    return {"clusterConfig": entry["clusterConfig"], "nodeConfig": entry["nodeConfig"],
            "imageList": entry["imageList"]}
