"""Hetzner Cloud facts: locations, network zones and documented limits.

Ref: https://docs.hetzner.com/cloud/general/locations/ (locations and network zones)
Ref: https://docs.hetzner.com/cloud/placement-groups/overview (10 servers per spread group)
Ref: https://github.com/hetznercloud/hcloud-cloud-controller-manager/tree/v1.35.0/chart (CCM chart
     values) and docs/reference/load_balancer_annotations.md there (load balancer annotations)
Ref: https://docs.hetzner.com/cloud/firewalls/faq/ (no inbound rule = all inbound dropped)
Ref: https://docs.hetzner.com/networking/networks/technical-concepts/architecture (gateway, routes)
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
# The limit kube-hetzner and hetzner-k3s enforce; Hetzner's docs do not state it.
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


# -- server types --------------------------------------------------------------------------------
# Checked 2026-11-30 against Hetzner's server-type pages and changelog (not against the API: no
# token here). With a token, `GET /v1/server_types` (its `deprecation` field) and
# `GET /v1/datacenters` (`server_types.supported`) are the authority; re-check this table then.
# Ref: https://docs.hetzner.com/cloud/servers/overview (families, architectures, locations)
# Ref: https://docs.hetzner.cloud/changelog (new CX/CPX generations, deprecations of the old ones)
EU_CENTRAL = ("fsn1", "nbg1", "hel1")
SERVER_TYPE_FAMILIES: dict[str, tuple[str, ...]] = {
    "cx": EU_CENTRAL,            # shared vCPU, Intel/AMD x86, cost-optimised: EU only
    "cax": EU_CENTRAL,           # shared vCPU, Ampere arm64: EU only
    "cpx": tuple(NETWORK_ZONE_BY_LOCATION),  # shared vCPU, AMD x86: every location
    "ccx": tuple(NETWORK_ZONE_BY_LOCATION),  # dedicated vCPU, AMD x86: every location
}
# Types Hetzner no longer sells for new servers → the type that replaced them.
REMOVED_SERVER_TYPES: dict[str, str] = {
    "cx11": "cx23", "cx21": "cx23", "cx31": "cx33", "cx41": "cx43", "cx51": "cx53",
    "cx22": "cx23", "cx32": "cx33", "cx42": "cx43", "cx52": "cx53",
    "cpx11": "cpx12", "cpx21": "cpx22", "cpx31": "cpx32", "cpx41": "cpx42", "cpx51": "cpx52",
    "ccx11": "ccx13", "ccx21": "ccx23", "ccx31": "ccx33", "ccx41": "ccx43", "ccx51": "ccx53",
    "ccx61": "ccx63",
}


def server_type_family(server_type: str) -> str:
    """``cax21`` → ``cax``: the letters before the size digits."""
    return server_type.rstrip("abcdefghijklmnopqrstuvwxyz").rstrip("0123456789")


def server_type_problem(server_type: str, location: str) -> tuple[str, str] | None:
    """(problem, fix) when Hetzner would refuse this type here, else None."""
    if server_type in REMOVED_SERVER_TYPES:
        return (f"Hetzner no longer offers {server_type} for new servers.",
                f"use {REMOVED_SERVER_TYPES[server_type]}, its successor.")
    family = server_type_family(server_type)
    locations = SERVER_TYPE_FAMILIES.get(family)
    if locations is None:
        return (f"'{server_type}' is not of a known Hetzner family "
                f"({', '.join(sorted(SERVER_TYPE_FAMILIES))}).", "use e.g. cx23, cpx22 or cax21.")
    if location not in locations:
        offered = ", ".join(f for f, where in sorted(SERVER_TYPE_FAMILIES.items())
                            if location in where)
        return (f"{family} types are not offered in {location} (only in "
                f"{', '.join(locations)}).", f"use a type offered in {location} ({offered}), "
                "or another location.")
    return None


def network_zone(location: str) -> str:
    return NETWORK_ZONE_BY_LOCATION[location]


def is_arm_server_type(server_type: str) -> bool:
    """Ampere (cax*) server types are arm64; every other family is x86."""
    return server_type.startswith("cax")


# -- Hetzner's Kubernetes add-ons (Helm repository https://charts.hetzner.cloud) -------------------
HELM_REPOSITORY = "https://charts.hetzner.cloud"
CCM_CHART = "hcloud-cloud-controller-manager"
# chart/Chart.yaml of hetznercloud/hcloud-cloud-controller-manager v1.35.0 (released 2026-08-11).
CCM_CHART_VERSION = "1.35.0"
CSI_CHART = "hcloud-csi"
# chart/Chart.yaml of hetznercloud/csi-driver at its newest tag v2.22.1 (checked 2026-11-30 in a
# mirror of the repository, last commit 2026-08-21). docs/kubernetes/reference/version-policy.md
# lists Kubernetes 1.33–1.36 as supported; CHANGELOG v2.21.0: "support Kubernetes v1.36".
CSI_CHART_VERSION = "2.22.1"
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
LB_PRIVATE_IPV4 = LB_ANNOTATION_PREFIX + "private-ipv4"
LB_DISABLE_PUBLIC_NETWORK = LB_ANNOTATION_PREFIX + "disable-public-network"
# Hetzner resource names are RFC 1123 labels.
MAX_RESOURCE_NAME = 63


def is_ubuntu_image(image: str) -> bool:
    """Hetzner's Ubuntu images (``ubuntu-24.04``) manage interfaces with systemd-networkd."""
    return image.startswith("ubuntu-")
