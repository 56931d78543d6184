"""Hetzner Cloud facts: locations, network zones and documented limits.

Ref: https://docs.hetzner.com/cloud/general/locations/ (locations and network zones)
Ref: https://docs.hetzner.com/cloud/placement-groups/overview (10 servers per spread group)
Ref: ../shared/reference/hcloud-ccm-chart-v1.35.0/ (CCM chart values, load balancer annotations)
Ref: https://docs.hetzner.com/cloud/firewalls/faq/ (no inbound rule = all inbound dropped)
Ref: https://docs.hetzner.com/networking/networks/technical-concepts/architecture (gateway, routes)
"""

from __future__ import annotations

import math

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

# Cloud networks are routed (L3): every server sends off-link traffic to the gateway, which is the
# first address of the network's range (10.0.0.1 in 10.0.0.0/16).
NETWORK_GATEWAY_OFFSET = 1

# Hetzner's recursive resolvers; they answer queries from Hetzner addresses, which includes traffic
# a private node sends through the bastion's NAT.
# Ref: https://docs.hetzner.com/dns-console/dns/general/recursive-name-servers
RECURSIVE_RESOLVERS = ("185.12.64.1", "185.12.64.2")

# Ref: Hetzner Cloud API, POST /servers: "user_data ... limited to 32KiB".
MAX_USER_DATA_BYTES = 32 * 1024


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


def is_ubuntu_image(image: str) -> bool:
    """Hetzner's Ubuntu images (``ubuntu-24.04``) manage interfaces with systemd-networkd."""
    return image.startswith("ubuntu-")


def spread_groups_needed(server_count: int) -> int:
    """Spread placement groups needed for ``server_count`` servers of one pool and location."""
    return math.ceil(server_count / MAX_SERVERS_PER_PLACEMENT_GROUP)
