"""Hetzner Cloud facts: locations, network zones and documented limits.

Ref: https://docs.hetzner.com/cloud/general/locations/ (locations and network zones)
Ref: https://docs.hetzner.com/cloud/placement-groups/overview (10 servers per spread group)
Ref: ../shared/reference/hcloud-ccm-chart-v1.35.0/ (CCM chart values, load balancer annotations)
"""

from __future__ import annotations

NETWORK_ZONE_BY_LOCATION: dict[str, str] = {
    "fsn1": "eu-central",
    "nbg1": "eu-central",
    "hel1": "eu-central",
    "ash": "us-east",
    "hil": "us-west",
    "sin": "ap-southeast",
}

# Spread placement groups hold at most 10 servers; a project holds at most 50 groups.
MAX_SERVERS_PER_PLACEMENT_GROUP = 10
MAX_PLACEMENT_GROUPS = 50
# The limit kube-hetzner and hetzner-k3s enforce; Hetzner's docs do not state it (domain notes §4).
MAX_SERVERS_PER_NETWORK = 100

# Load balancer type → (max targets, max services). lb31 is not verified here; ask the API.
LOAD_BALANCER_LIMITS: dict[str, tuple[int, int]] = {
    "lb11": (25, 5),
    "lb21": (75, 15),
}

# Private interfaces on Hetzner networks have an MTU of 1450 (public: 1500).
PRIVATE_NETWORK_MTU = 1450


def network_zone(location: str) -> str:
    return NETWORK_ZONE_BY_LOCATION[location]


def is_arm_server_type(server_type: str) -> bool:
    """Ampere (cax*) server types are arm64; every other family is x86."""
    return server_type.startswith("cax")


# -- Hetzner's Kubernetes add-ons (Helm repository https://charts.hetzner.cloud) -------------------
HELM_REPOSITORY = "https://charts.hetzner.cloud"
CCM_CHART = "hcloud-cloud-controller-manager"
# chart/Chart.yaml of hcloud-cloud-controller-manager, 2026-08-11 (../shared/reference).
CCM_CHART_VERSION = "1.35.0"
CSI_CHART = "hcloud-csi"
# chart/Chart.yaml of hetznercloud/csi-driver; its release notes add Kubernetes v1.35 support
# (2.18.3 → 2.19.0, 2026-02). Newer releases may exist: not verifiable offline.
CSI_CHART_VERSION = "2.19.0"
# The Secret both charts read: key `token` (API token) and, for the CCM, `network` (id or name).
CREDENTIALS_SECRET = "hcloud"

# Service annotations hcloud-ccm reads to shape the load balancer it creates (names from the
# chart's load_balancer_annotations.md; `location` and `network-zone` are mutually exclusive).
LB_ANNOTATION_PREFIX = "load-balancer.hetzner.cloud/"
LB_LOCATION = LB_ANNOTATION_PREFIX + "location"
LB_NETWORK_ZONE = LB_ANNOTATION_PREFIX + "network-zone"
LB_TYPE = LB_ANNOTATION_PREFIX + "type"
LB_USE_PRIVATE_IP = LB_ANNOTATION_PREFIX + "use-private-ip"
LB_NAME = LB_ANNOTATION_PREFIX + "name"
# Hetzner resource names are RFC 1123 labels.
MAX_RESOURCE_NAME = 63
