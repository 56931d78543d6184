"""The Kubernetes layer: Gateway API CRDs, hcloud CCM, Cilium, Cilium resources, the default
Gateway and the optional CSI driver and upgrade controller. See ``layer.py`` for the order."""

from components.kubernetes.layer import KubernetesLayer

__all__ = ["KubernetesLayer"]
