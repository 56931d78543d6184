"""Hetzner server guardrails: SSH keys, public exposure in private clusters, firewalls, egress,
placement groups.

A private-only stack is recognised by what it registers: this program's ``K3sCluster`` says
``privateOnly``; a hand-written stack by its ``0.0.0.0/0`` network route to a NAT gateway.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.rules.types import (
    HCLOUD_FIREWALL,
    HCLOUD_FIREWALL_ATTACHMENT,
    HCLOUD_NETWORK_ROUTE,
    HCLOUD_SERVER,
    K3S_CLUSTER,
)
from upstream.hetzner import MAX_SERVERS_PER_PLACEMENT_GROUP

DEFAULT_ROUTE = "0.0.0.0/0"


def has_public_interface(props: Mapping[str, Any]) -> bool:
    """The Hetzner API gives a server public IPv4 and IPv6 unless ``publicNets`` says otherwise."""
    nets = props.get("publicNets")
    if not nets:
        return True
    return any(net.get("ipv4Enabled", True) or net.get("ipv6Enabled", True) for net in nets)


def _private_ips(props: Mapping[str, Any]) -> set[str]:
    return {str(net.get("ip")) for net in props.get("networks") or [] if net.get("ip")}


def _default_routes(resources: Iterable[PolicyResource]) -> list[PolicyResource]:
    return [r for r in resources if r.resource_type == HCLOUD_NETWORK_ROUTE
            and r.props.get("destination") == DEFAULT_ROUTE]


def private_only_intent(resources: list[PolicyResource]) -> bool:
    clusters = [r for r in resources if r.resource_type == K3S_CLUSTER]
    if clusters:
        return any(r.props.get("privateOnly") for r in clusters)
    return bool(_default_routes(resources))


# -- 17a: every server has SSH keys ---------------------------------------------------------------
def _ssh_keys(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != HCLOUD_SERVER:
        return
    if not args.props.get("sshKeys"):
        report(f"Server '{args.name}' has no SSH keys: Hetzner then sets a root password and "
               "e-mails it, and password login is the way in. Fix: give every server "
               "ssh_keys (k3s-hcloud does: access.sshPublicKeys or a generated key).", None)


server_ssh_keys_required = ResourceValidationPolicy(
    name="hcloud-server-ssh-keys-required",
    description="Every Hetzner server is created with SSH keys (no root-password e-mails).",
    validate=_ssh_keys,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    remediation_steps="Pass ssh_keys to every hcloud.Server.",
    url="https://github.com/vitobotta/hetzner-k3s/issues/173",
)


# -- 17b: no public IP on nodes of a private-only cluster ------------------------------------------
def _nat_gateways(resources: list[PolicyResource]) -> set[str]:
    return {str(route.props.get("gateway")) for route in _default_routes(resources)}


def _private_nodes_public(args: StackValidationArgs, report: ReportViolation) -> None:
    resources = list(args.resources)
    if not private_only_intent(resources):
        return
    gateways = _nat_gateways(resources)
    for server in (r for r in resources if r.resource_type == HCLOUD_SERVER):
        if _private_ips(server.props) & gateways or server.props.get("labels", {}).get(
                "role") == "bastion":
            continue  # the NAT gateway / jump host is the one server meant to be public
        if has_public_interface(server.props):
            report(f"Server '{server.name}' has a public interface in a private-only cluster. "
                   "Fix: create it with public_nets ipv4_enabled and ipv6_enabled false "
                   "(k3s-hcloud does with network.privateOnly: true).", server.urn)


private_node_public_ip = StackValidationPolicy(
    name="hcloud-private-node-no-public-ip",
    description="Nodes of a private-only cluster have no public IPv4 or IPv6.",
    validate=_private_nodes_public,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="Set public_nets explicitly on every node (the API default is public).",
)


# -- 17c: every public server has a firewall --------------------------------------------------------
def _attached_elsewhere(server: PolicyResource, resources: list[PolicyResource]) -> bool:
    for resource in resources:
        if resource.resource_type == HCLOUD_FIREWALL_ATTACHMENT:
            servers = resource.property_dependencies.get("serverIds") or []
            if any(dep.urn == server.urn for dep in servers):
                return True
            if _labels_match(resource.props.get("labelSelectors"), server.props.get("labels")):
                return True
        if resource.resource_type == HCLOUD_FIREWALL:
            for target in resource.props.get("applyTos") or []:
                if _labels_match([target.get("labelSelector")], server.props.get("labels")):
                    return True
    return False


def _labels_match(selectors: Any, labels: Any) -> bool:
    labels = labels or {}
    for selector in selectors or []:
        if not selector:
            continue
        terms = [term.strip() for term in str(selector).split(",")]
        if all(_term_matches(term, labels) for term in terms):
            return True
    return False


def _term_matches(term: str, labels: Mapping[str, str]) -> bool:
    if "=" in term:
        key, _, value = term.partition("=")
        return labels.get(key.strip().rstrip("!")) == value.strip()
    return term in labels


def _public_without_firewall(args: StackValidationArgs, report: ReportViolation) -> None:
    resources = list(args.resources)
    for server in (r for r in resources if r.resource_type == HCLOUD_SERVER):
        if not has_public_interface(server.props) or server.props.get("firewallIds"):
            continue
        if not _attached_elsewhere(server, resources):
            report(f"Server '{server.name}' has a public interface and no firewall: every port "
                   "it listens on is open to the internet. Fix: attach a firewall at creation "
                   "(firewall_ids) or through a FirewallAttachment.", server.urn)


public_server_firewall_required = StackValidationPolicy(
    name="hcloud-public-server-firewall-required",
    description="A server with a public interface is protected by a Hetzner firewall.",
    validate=_public_without_firewall,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="Attach a firewall to every public server (k3s-hcloud attaches one at "
                      "creation).",
)


# -- 17d: private nodes need the egress route -----------------------------------------------------
def _egress_route(args: StackValidationArgs, report: ReportViolation) -> None:
    resources = list(args.resources)
    clusters = [r for r in resources if r.resource_type == K3S_CLUSTER]
    if not any(r.props.get("privateOnly") for r in clusters) or _default_routes(resources):
        return
    private = [s.name for s in resources
               if s.resource_type == HCLOUD_SERVER and not has_public_interface(s.props)]
    if private:
        report(f"Servers without a public interface ({', '.join(private)}) have no "
               f"{DEFAULT_ROUTE} network route: they cannot reach the internet (the Hetzner API "
               "for the CCM and CSI driver; the k3s installer and images unless staged). Fix: route 0.0.0.0/0 to the NAT host's private IP (k3s-hcloud's "
               "bastion does, with network.privateOnly and bastion.enabled).", clusters[0].urn)


private_nodes_need_egress_route = StackValidationPolicy(
    name="hcloud-private-nodes-egress-route",
    description="A private-only cluster routes 0.0.0.0/0 to its NAT gateway.",
    validate=_egress_route,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="Add an hcloud.NetworkRoute 0.0.0.0/0 → the bastion's private IP.",
    url="https://github.com/mysticaltech/terraform-hcloud-kube-hetzner/blob/master/docs/"
        "private-network-egress.md",
)


# -- 12b: placement groups hold at most 10 servers ------------------------------------------------
def _placement_capacity(args: StackValidationArgs, report: ReportViolation) -> None:
    members: dict[str, list[PolicyResource]] = defaultdict(list)
    for server in (r for r in args.resources if r.resource_type == HCLOUD_SERVER):
        groups = server.property_dependencies.get("placementGroupId") or []
        key = groups[0].name if groups else server.props.get("placementGroupId")
        if key is not None:
            members[str(key)].append(server)
    for group, servers in members.items():
        if len(servers) > MAX_SERVERS_PER_PLACEMENT_GROUP:
            report(f"Placement group '{group}' would hold {len(servers)} servers; a spread group "
                   f"holds at most {MAX_SERVERS_PER_PLACEMENT_GROUP} and creation fails with "
                   "'already contains 10 servers'. Fix: split the servers over more groups "
                   "(k3s-hcloud does this per pool).", servers[0].urn)


placement_group_capacity = StackValidationPolicy(
    name="hcloud-placement-group-capacity",
    description="No spread placement group gets more than 10 servers.",
    validate=_placement_capacity,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation_steps="One spread group per 10 servers.",
    url="https://docs.hetzner.com/cloud/placement-groups/overview",
)

POLICIES = [server_ssh_keys_required, private_node_public_ip, public_server_firewall_required,
            private_nodes_need_egress_route, placement_group_capacity]
