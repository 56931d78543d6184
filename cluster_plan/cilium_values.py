"""The Cilium Helm values a stack asks for: computed Hetzner defaults under ``cilium.values``.

Pure and free of Pulumi, so the config validator checks exactly what the Kubernetes layer will
send (``upstream.cilium_chart``) before anything is registered. The one value that only exists at
deploy time, a generated Maglev hash seed, is added by the layer (``needs_generated_hash_seed``).

Merge rule: the user's ``cilium.values`` win, key by key; nested mappings merge, anything else
(lists included) replaces the default as a whole, the way Helm merges values files.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from typing import Any

from upstream.hetzner import PRIVATE_NETWORK_MTU
from upstream.k3s import API_PROXY_HOST, API_PROXY_PORT



@dataclass(frozen=True)
class CiliumValueInputs:
    """What the computed defaults depend on, read from the stack by the config model."""

    cluster_cidr: IPv4Network
    control_plane_count: int
    ccm_enabled: bool
    gateway_api_enabled: bool
    user_values: Mapping[str, Any] = field(default_factory=dict)
    """``cilium.values`` as written in the stack: they win over the defaults."""


def computed_defaults(spec: CiliumValueInputs) -> dict[str, Any]:
    """Helm values the program chooses for a k3s cluster on a Hetzner Cloud network."""
    defaults: dict[str, Any] = {
        # k3s runs without kube-proxy (disable-kube-proxy); both sides must agree.
        "kubeProxyReplacement": True,
        "k8sServiceHost": API_PROXY_HOST,
        "k8sServicePort": API_PROXY_PORT,
        # Pods are routed by the Hetzner network (routes from hcloud-ccm), no overlay.
        "routingMode": "native",
        "ipv4NativeRoutingCIDR": str(spec.cluster_cidr),
        # Node pod CIDRs come from k3s (cluster-cidr), so hcloud-ccm can route exactly them; the
        # chart default cluster-pool 10.0.0.0/8 collides with typical Hetzner networks.
        "ipam": {"mode": "kubernetes"},
        "k8s": {"requireIPv4PodCIDR": True},
        "bpf": {"masquerade": True},
        "MTU": PRIVATE_NETWORK_MTU,
        # XDP where the driver supports it; "native" fails on devices without XDP support, and
        # virtio-net had XDP crashes on Hetzner (hetznercloud/hcloud-cloud-controller-manager#241);
        # best-effort being the safer default is inferred, not measured.
        "loadBalancer": {"acceleration": "best-effort"},
        # One operator per server up to two: a single server is not HA anyway.
        "operator": {"replicas": min(spec.control_plane_count, 2), "rollOutPods": True},
        # Agents and Envoy read their ConfigMap at start; roll them when a value changes so a
        # `pulumi up` that changes cilium.values takes effect (chart default: false).
        "rollOutCiliumPods": True,
        "envoy": {"rollOutPods": True},
    }
    if spec.ccm_enabled:
        # hcloud-ccm provisions Hetzner LBs for LoadBalancer Services; Cilium's LB-IPAM would
        # fight it for the same Services. Services that name a Cilium loadBalancerClass
        # (io.cilium/l2-announcer) still get LB-IPAM addresses.
        defaults["defaultLBServiceIPAM"] = "none"
    if spec.gateway_api_enabled:
        # The Gateway API CRDs are installed before Cilium, so "auto" would also work; "true"
        # does not depend on what Helm can see at render time.
        defaults["gatewayAPI"] = {"gatewayClass": {"create": "true"}}
    return defaults


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` on top of ``base``: mappings merge recursively, other values replace."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def helm_values(spec: CiliumValueInputs) -> dict[str, Any]:
    """The values the Cilium release gets (before a generated Maglev seed is added)."""
    return deep_merge(computed_defaults(spec), spec.user_values)


def needs_generated_hash_seed(values: Mapping[str, Any]) -> bool:
    """Maglev is on and no seed was given: every agent needs the same one, so generate it once."""
    maglev = values.get("maglev")
    has_seed = isinstance(maglev, Mapping) and maglev.get("hashSeed") not in (None, "")
    load_balancer = values.get("loadBalancer")
    algorithm = load_balancer.get("algorithm") if isinstance(load_balancer, Mapping) else None
    return algorithm == "maglev" and not has_seed
