"""Cluster-autoscaler (Hetzner provider) guardrails, read from the autoscaler's Deployment.

A Deployment is the Hetzner autoscaler when a container runs with ``--cloud-provider=hetzner``;
its node groups are its ``--nodes=<min>:<max>:<type>:<location>:<id>`` arguments and the
provider's settings are its environment (cluster-autoscaler ``cloudprovider/hetzner/README.md``).
Servers the autoscaler creates are not in the plan, so each rule counts them at ``max``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
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

from policies.rules.servers import private_only_intent
from policies.rules.types import HCLOUD_PLACEMENT_GROUP, HCLOUD_SERVER, K8S_DEPLOYMENT
from upstream.cluster_autoscaler import MAX_AUTOSCALED_SERVERS, NODE_GROUP_PLACEMENT_LABEL
from upstream.hetzner import MAX_SERVERS_PER_NETWORK, MAX_SERVERS_PER_PLACEMENT_GROUP

PROVIDER_FLAG = "--cloud-provider=hetzner"
NODES_FLAG = "--nodes="
# Everything that carries a credential: the API token, and the join user data (agent token).
SECRET_ENVIRONMENT = ("HCLOUD_TOKEN", "HCLOUD_CLUSTER_CONFIG", "HCLOUD_CLOUD_INIT")


@dataclass(frozen=True)
class NodeGroupArg:
    id: str
    max_size: int


def _containers(props: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    pod = ((props.get("spec") or {}).get("template") or {}).get("spec") or {}
    return list(pod.get("containers") or [])


def _words(container: Mapping[str, Any]) -> list[str]:
    return [str(word) for word in [*(container.get("command") or []),
                                   *(container.get("args") or [])]]


def hetzner_autoscalers(resource_type: str, props: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The containers of a Deployment that run the autoscaler with the Hetzner provider."""
    if resource_type != K8S_DEPLOYMENT:
        return []
    return [c for c in _containers(props) if PROVIDER_FLAG in _words(c)]


def node_groups(container: Mapping[str, Any]) -> list[NodeGroupArg]:
    groups = []
    for word in _words(container):
        if word.startswith(NODES_FLAG):
            parts = word.removeprefix(NODES_FLAG).split(":", 4)
            if len(parts) == 5 and parts[1].isdigit():
                groups.append(NodeGroupArg(parts[4], int(parts[1])))
    return groups


def _environment(container: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {str(item.get("name")): item for item in container.get("env") or []}


def _stack_autoscalers(resources: Iterable[PolicyResource]) -> Iterator[
        tuple[PolicyResource, Mapping[str, Any]]]:
    for resource in resources:
        for container in hetzner_autoscalers(resource.resource_type, resource.props):
            yield resource, container


# -- an autoscaled pool's servers get SSH keys --------------------------------------------------
def _ssh_key(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for container in hetzner_autoscalers(args.resource_type, args.props):
        item = _environment(container).get("HCLOUD_SSH_KEY") or {}
        if not (item.get("value") or item.get("valueFrom")):
            report(f"Cluster-autoscaler '{args.name}' creates servers without an SSH key "
                   "(HCLOUD_SSH_KEY unset): Hetzner then sets a root password and e-mails it. "
                   "Fix: set HCLOUD_SSH_KEY to one of the stack's SSH keys (k3s-hcloud does).",
                   None)


autoscaler_ssh_key_required = ResourceValidationPolicy(
    name="cluster-autoscaler-ssh-key-required",
    description="Servers the cluster-autoscaler creates get an SSH key (no root-password mail).",
    validate=_ssh_key,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    remediation_steps="Set HCLOUD_SSH_KEY in the autoscaler's environment.",
    url="https://github.com/vitobotta/hetzner-k3s/issues/173",
)


# -- the autoscaler's token and join data come from a Secret -----------------------------------
def _secret_environment(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for container in hetzner_autoscalers(args.resource_type, args.props):
        for name, item in _environment(container).items():
            if name in SECRET_ENVIRONMENT and "value" in item:
                report(f"Cluster-autoscaler '{args.name}' has {name} as a plain value: anyone "
                       "who can read the Deployment (and the plan) reads the credential. Fix: "
                       "take it from a Secret (valueFrom.secretKeyRef).", None)


autoscaler_token_is_secret = ResourceValidationPolicy(
    name="cluster-autoscaler-token-from-secret",
    description="The autoscaler's hcloud token and join user data come from a Secret.",
    validate=_secret_environment,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    remediation_steps="Use env valueFrom.secretKeyRef for HCLOUD_TOKEN and HCLOUD_CLUSTER_CONFIG.",
)


# -- private mode: the autoscaler's servers get no public IPs ----------------------------------
def _private_public_ips(args: StackValidationArgs, report: ReportViolation) -> None:
    resources = list(args.resources)
    if not private_only_intent(resources):
        return
    for resource, container in _stack_autoscalers(resources):
        env = _environment(container)
        public = [name for name in ("HCLOUD_PUBLIC_IPV4", "HCLOUD_PUBLIC_IPV6")
                  if str((env.get(name) or {}).get("value", "true")).lower() != "false"]
        if public:
            report(f"Cluster-autoscaler '{resource.name}' would create servers with public IPs "
                   f"in a private-only cluster ({', '.join(public)} not 'false'; the provider "
                   "defaults to true). Fix: set both to \"false\" (k3s-hcloud does with "
                   "network.privateOnly).", resource.urn)


autoscaler_private_no_public_ip = StackValidationPolicy(
    name="cluster-autoscaler-private-no-public-ip",
    description="In a private-only cluster the autoscaler creates servers without public IPs.",
    validate=_private_public_ips,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="HCLOUD_PUBLIC_IPV4=false and HCLOUD_PUBLIC_IPV6=false.",
)


# -- limits count every node group at max -------------------------------------------------------
def _limits(args: StackValidationArgs, report: ReportViolation) -> None:
    resources = list(args.resources)
    autoscalers = list(_stack_autoscalers(resources))
    if not autoscalers:
        return
    groups = {group.id: group for _, c in autoscalers for group in node_groups(c)}
    autoscaled = sum(group.max_size for group in groups.values())
    servers = [r for r in resources if r.resource_type == HCLOUD_SERVER and r.props.get("networks")]
    anchor = autoscalers[0][0].urn
    if len(servers) + autoscaled > MAX_SERVERS_PER_NETWORK:
        report(f"{len(servers)} servers plus up to {autoscaled} the cluster-autoscaler may create "
               f"exceed the ~{MAX_SERVERS_PER_NETWORK} servers one Hetzner network attaches. "
               "Fix: lower the node groups' max (autoscaling.max).", anchor)
    if autoscaled > MAX_AUTOSCALED_SERVERS:
        report(f"The cluster-autoscaler may create {autoscaled} servers; Hetzner assigns their "
               "private addresses from the network's first /24, which keeps room for load "
               f"balancers only up to {MAX_AUTOSCALED_SERVERS}. Fix: lower autoscaling.max.",
               anchor)
    for group in (r for r in resources if r.resource_type == HCLOUD_PLACEMENT_GROUP):
        owner = (group.props.get("labels") or {}).get(NODE_GROUP_PLACEMENT_LABEL)
        if owner in groups and groups[owner].max_size > MAX_SERVERS_PER_PLACEMENT_GROUP:
            report(f"Placement group '{group.name}' is node group '{owner}''s, which may grow to "
                   f"{groups[owner].max_size} servers; a spread group holds at most "
                   f"{MAX_SERVERS_PER_PLACEMENT_GROUP} and the autoscaler refuses to start. Fix: "
                   "lower autoscaling.max or drop the group.", group.urn)


autoscaler_limits = StackValidationPolicy(
    name="cluster-autoscaler-max-within-limits",
    description="Node groups at max fit the network, its auto-assigned addresses and spread groups.",
    validate=_limits,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="Lower the node groups' max sizes.",
)

POLICIES = [autoscaler_ssh_key_required, autoscaler_token_is_secret,
            autoscaler_private_no_public_ip, autoscaler_limits]
