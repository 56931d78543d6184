"""What each node's bootstrap gets: its k3s config, plain files, staged secret files and secrets.

The per-node half of :class:`~components.bootstrap.bootstrap.K3sBootstrap`: assembly of
Outputs, no resources. The bootstrap decides the order and the tokens; this module decides what
lands on a node.
"""

from __future__ import annotations

import pulumi
import pulumi_command as command

from components import yaml_text
from components.bootstrap import (
    api_readiness,
    etcd_snapshots,
    installer,
    k3s_config,
    node_files,
    paths,
    pod_routes,
)
from components.bootstrap.bundle import StagedFile
from components.bootstrap.connection import node_connection
from components.bootstrap.node import NodeBootstrap
from components.handles import ApiEndpoint, NodeHandle, Role, SshAccess
from stack_config import ClusterSpec


class NodePlans:
    """Builds the :class:`NodeBootstrap` of every node of one cluster."""

    def __init__(self, spec: ClusterSpec, api: ApiEndpoint, ssh: SshAccess,
                 first: NodeHandle) -> None:
        self.spec, self.api, self.ssh, self.first = spec, api, ssh, first
        self.sudo = ssh.user != "root"
        self.first_connection: command.remote.ConnectionArgs = node_connection(first, ssh)
        self.join_url = pulumi.Output.from_input(api.join_address).apply(k3s_config.join_url)
        self.datastore = (pulumi.Output.secret(spec.k3s.datastore_endpoint)
                          if spec.k3s.datastore_endpoint is not None else None)
        self.upgrades_by_controller = spec.addons.system_upgrade_controller.enabled
        self.registries_secret = node_files.registries_staged(spec)
        self.snapshot_credentials = etcd_snapshots.credentials_dropin(spec)

    def user_secrets(self, role: Role) -> dict[str, pulumi.Input[str]]:
        return {staged.name: content
                for staged, content in node_files.user_secret_files(self.spec, role).items()}

    def server_secrets(self, cluster_token: pulumi.Input[str],
                       agent_token: pulumi.Input[str]) -> pulumi.Output[dict]:
        parts = {"cluster-token": cluster_token, "agent-token": agent_token,
                 **self.user_secrets("server")}
        if self.datastore is not None:
            parts["datastore.yaml"] = self.datastore.apply(
                lambda endpoint: yaml_text.dump({"datastore-endpoint": endpoint}, sort_keys=True))
        if self.snapshot_credentials is not None:
            parts["etcd-s3.yaml"] = self.snapshot_credentials
        return pulumi.Output.all(**parts)

    def agent_secrets(self, agent_token: pulumi.Input[str]) -> pulumi.Output[dict]:
        return pulumi.Output.all(**{"agent-token": agent_token, **self.user_secrets("agent")})

    def staged_files(self, role: Role) -> list[StagedFile]:
        """Files written from the secrets on stdin, in the order stage-secrets.sh writes them."""
        staged = [node_files.AGENT_TOKEN]
        if role == "server":
            staged.insert(0, StagedFile(paths.CLUSTER_TOKEN_FILE, "cluster-token"))
            if self.datastore is not None:
                staged.append(StagedFile(paths.DATASTORE_DROPIN, "datastore.yaml"))
            if self.snapshot_credentials is not None:
                staged.append(StagedFile(paths.ETCD_S3_DROPIN, "etcd-s3.yaml"))
        staged += list(node_files.user_secret_files(self.spec, role))
        return staged

    def plan(self, node: NodeHandle, secrets: pulumi.Output[dict]) -> NodeBootstrap:
        """One node's bootstrap: config.yaml (with its certificate names), files, secrets."""
        place = k3s_config.NodePlace(node.key, node.role, node.private_ip,
                                     first_server=node is self.first, labels=node.labels,
                                     taints=node.taints)
        sans = self.api.tls_sans_for(node) if node.role == "server" else []
        config = pulumi.Output.all(self.join_url, *sans).apply(
            lambda resolved: k3s_config.render_config(
                self.spec, place, join_url=resolved[0], tls_sans=resolved[1:]))
        return NodeBootstrap(
            handle=node, k3s_version=self.spec.k3s.version, config=config,
            files=node_files.plain_files(self.spec, node.role,
                                         registries_staged=self.registries_secret),
            staged=self.staged_files(node.role), secrets=pulumi.Output.secret(secrets),
            connection=node_connection(node, self.ssh),
            first_server_connection=None if node is self.first else self.first_connection,
            sudo=self.sudo, installer=installer.installer_env(self.spec.k3s),
            pod_routes=pod_routes.pod_route_env(self.spec),
            upgrades_by_controller=self.upgrades_by_controller,
            # With one server there is no other to take the traffic: leaving the rotation
            # would only lengthen the restart's downtime.
            rotation=(api_readiness.rotation_env()
                      if node.role == "server" and self.api.load_balanced
                      and len(self.api.servers) > 1 else {}))
