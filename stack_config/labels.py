"""Which node labels the kubelet may set on its own node (``--node-labels``).

The kubelet refuses to start when asked to set a label in the ``kubernetes.io`` / ``k8s.io``
namespaces other than the ones it owns, e.g. ``node-role.kubernetes.io/worker`` (the
NodeRestriction admission plugin keeps those for the control plane).
Ref: kubernetes pkg/kubelet/apis/well_known_labels.go (KubeletLabels, KubeletLabelNamespaces);
https://kubernetes.io/docs/reference/access-authn-authz/admission-controllers/#noderestriction
"""

from __future__ import annotations

RESTRICTED_NAMESPACES = ("kubernetes.io", "k8s.io")
# Namespaces (and their subdomains) the kubelet may always set.
KUBELET_NAMESPACES = ("kubelet.kubernetes.io", "node.kubernetes.io")
KUBELET_LABELS = frozenset({
    "kubernetes.io/hostname", "kubernetes.io/arch", "kubernetes.io/os",
    "beta.kubernetes.io/arch", "beta.kubernetes.io/os", "beta.kubernetes.io/instance-type",
    "node.kubernetes.io/instance-type",
    "failure-domain.beta.kubernetes.io/region", "failure-domain.beta.kubernetes.io/zone",
    "topology.kubernetes.io/region", "topology.kubernetes.io/zone",
})


def _in(namespace: str, parent: str) -> bool:
    return namespace == parent or namespace.endswith("." + parent)


def kubelet_refuses_label(key: str) -> bool:
    """True when the kubelet would refuse to start with this label in ``--node-labels``."""
    namespace, slash, _ = key.partition("/")
    if not slash or not any(_in(namespace, ns) for ns in RESTRICTED_NAMESPACES):
        return False
    if key in KUBELET_LABELS:
        return False
    return not any(_in(namespace, ns) for ns in KUBELET_NAMESPACES)
