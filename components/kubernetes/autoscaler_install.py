"""The cluster-autoscaler in the cluster: its Secret, RBAC and Deployment (renderers: ``autoscaler.py``).

Creates, in kube-system:
- Secret ``cluster-autoscaler-hetzner`` (``token``: the hcloud API token; ``cluster-config.json``:
  the provider's cluster config with each node group's join user data, mounted for
  ``HCLOUD_CLUSTER_CONFIG_FILE``; releases before 1.33 get it base64 as ``cluster-config`` for
  ``HCLOUD_CLUSTER_CONFIG``). Both are Pulumi secrets end to end: the user data carries the agent
  join token;
- ServiceAccount, ClusterRole, ClusterRoleBinding, Role, RoleBinding ``cluster-autoscaler`` with
  the rules of upstream's chart for the release;
- Deployment ``cluster-autoscaler`` on a control-plane node.

Servers the autoscaler creates are not in Pulumi state: docs/autoscaler.md says how they are
removed when a pool or autoscaling goes away.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as kubernetes

from components.bootstrap.join_user_data import join_user_data
from components.handles import AutoscalingTargets
from components.infrastructure.cloud_init import PrivateEgress
from components.kubernetes import autoscaler
from stack_config import ClusterSpec
from upstream import cluster_autoscaler as upstream
from upstream.hetzner import RECURSIVE_RESOLVERS

# Stands in for the secret token when fingerprinting the cluster config: the fingerprint restarts
# the autoscaler when what its nodes get changes, and must not be derived from a secret.
_TOKEN_STAND_IN = "K10" + "0" * 64 + "::node:token"


@dataclass(frozen=True)
class AutoscalerInputs:
    targets: AutoscalingTargets
    hcloud_token: pulumi.Output[str]
    join_url: pulumi.Output[str]
    agent_join_token: pulumi.Output[str]
    """Secret, ``K10<CA hash>::node:<password>``."""


def _egress(targets: AutoscalingTargets) -> PrivateEgress | None:
    return PrivateEgress(targets.network_gateway, RECURSIVE_RESOLVERS) \
        if targets.private_only else None


def _cluster_config(spec: ClusterSpec, groups: list[autoscaler.NodeGroup],
                    egress: PrivateEgress | None, join_url: str, token: str,
                    placement_groups: dict[str, Any]) -> dict[str, Any]:
    user_data = {group.id: join_user_data(spec, group.pool, join_url=join_url,
                                          agent_token=token, egress=egress)
                 for group in groups}
    return autoscaler.cluster_config(groups, user_data,
                                     {key: str(value) for key, value in placement_groups.items()})


def install_cluster_autoscaler(name: str, spec: ClusterSpec, inputs: AutoscalerInputs,
                               opts: pulumi.ResourceOptions) -> list[pulumi.Resource]:
    groups = autoscaler.node_groups(spec)
    if not groups:
        return []
    targets = inputs.targets
    egress = _egress(targets)
    minor = spec.k3s.parsed_version.kubernetes_minor
    placement = pulumi.Output.all(**targets.placement_group_ids) \
        if targets.placement_group_ids else pulumi.Output.from_input({})

    config_file = autoscaler.CONFIG_FILE_VARIABLE in upstream.hetzner_environment(minor)

    def secret_value(values: list[Any]) -> str:
        config = _cluster_config(spec, groups, egress, values[0], values[1], values[2])
        if config_file:
            return json.dumps(config, sort_keys=True)
        return autoscaler.check_environment_size(autoscaler.encoded_cluster_config(config))

    config_value = pulumi.Output.secret(pulumi.Output.all(
        inputs.join_url, inputs.agent_join_token, placement).apply(secret_value))
    config_key = autoscaler.CLUSTER_CONFIG_FILE_KEY if config_file \
        else autoscaler.CLUSTER_CONFIG_KEY
    fingerprint = pulumi.Output.all(inputs.join_url, placement).apply(
        lambda values: hashlib.sha256(autoscaler.encoded_cluster_config(_cluster_config(
            spec, groups, egress, values[0], _TOKEN_STAND_IN, values[1])).encode()).hexdigest())

    secret = kubernetes.core.v1.Secret(
        f"{name}-autoscaler-secret",
        metadata={"name": autoscaler.SECRET_NAME, "namespace": upstream.NAMESPACE,
                  "labels": dict(autoscaler.LABELS)},
        type="Opaque",
        string_data={autoscaler.TOKEN_KEY: pulumi.Output.secret(inputs.hcloud_token),
                     config_key: config_value},
        opts=opts)

    cluster_rules, role_rules = upstream.rbac_rules(minor)
    rbac = [_register(f"{name}-autoscaler-{m['kind'].lower()}", m, opts)
            for m in autoscaler.rbac_manifests(cluster_rules, role_rules)]

    def rendered(values: list[Any]) -> dict[str, Any]:
        network, ssh_key, firewall, digest = values
        env = autoscaler.provider_environment(autoscaler.ProviderTargets(
            network=str(network), ssh_key=str(ssh_key),
            firewall=None if firewall is None else str(firewall)),
            private_only=targets.private_only, config_file=config_file)
        manifest = autoscaler.deployment(upstream.image_for(minor),
                                         autoscaler.autoscaler_args(groups), env,
                                         config_file=config_file)
        template = manifest["spec"]["template"]["metadata"]
        template["annotations"] = {"k3s-hcloud/cluster-config-sha256": digest}
        return manifest["spec"]

    deployment_spec = pulumi.Output.all(targets.network_id, targets.ssh_key_id,
                                        targets.firewall_id, fingerprint).apply(rendered)
    after_rbac = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
        depends_on=[secret, *rbac]))
    deployment = kubernetes.apps.v1.Deployment(
        f"{name}-autoscaler",
        metadata=autoscaler.deployment_metadata(),
        spec=deployment_spec, opts=after_rbac)
    return [secret, *rbac, deployment]


def _register(resource_name: str, manifest: dict[str, Any],
              opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    kind = manifest["kind"]
    metadata = manifest["metadata"]
    if kind == "ServiceAccount":
        return kubernetes.core.v1.ServiceAccount(resource_name, metadata=metadata, opts=opts)
    if kind == "ClusterRole":
        return kubernetes.rbac.v1.ClusterRole(resource_name, metadata=metadata,
                                              rules=manifest["rules"], opts=opts)
    if kind == "Role":
        return kubernetes.rbac.v1.Role(resource_name, metadata=metadata, rules=manifest["rules"],
                                       opts=opts)
    binding = kubernetes.rbac.v1.ClusterRoleBinding if kind == "ClusterRoleBinding" \
        else kubernetes.rbac.v1.RoleBinding
    return binding(resource_name, metadata=metadata, role_ref=manifest["roleRef"],
                   subjects=manifest["subjects"], opts=opts)
