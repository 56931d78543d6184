"""K3sBootstrap: k3s installed and joined on every node, and the cluster's kubeconfig.

Consumes the infrastructure's handles (``NodeHandle``, ``SshAccess``, ``ApiEndpoint``) and
produces ``kubeconfig`` (secret) and ``ready`` for the Kubernetes layer.

Creates, as children:
- ``<name>-cluster-token``, ``<name>-agent-token`` (random:RandomPassword): the join tokens;
- one :class:`~components.bootstrap.node.K3sNode` per node (named by the node's key), each with
  its boot, secrets, k3s and (but the first server) membership commands;
- ``<name>-ca-hash`` (command:remote:Command on the first server): the server CA's SHA-256, which
  joiners pin in their secure token;
- ``<name>-kubeconfig`` (command:remote:Command on the first server): reads k3s.yaml (secret
  stdout, stderr-only logging); its output is validated and rewritten into ``kubeconfig``.

Order: first server → the other servers one at a time → the agents of each pool in batches of
``workerPools[].maxUnavailable`` (default 1), pools side by side. Each node's rollout (drain →
k3s → uncordon, see ``K3sNode``) starts after the previous node's (or batch's) uncordon, i.e.
once it is back and Ready. Joining servers one at a time keeps etcd to one learner at a time:
concurrent joins fail with "too many learner members in cluster" (k3s-io/k3s#4335, #7000), and
it is the order k3s prescribes for upgrades (servers one at a time, then agents), which the same
commands perform on a version bump or a config change; a restart that drains one node of a pool
at a time keeps the pool's capacity minus one. Agents wait for the last server so an upgrade
never runs a kubelet newer than an API server. The chain grows with the number of servers (at
most 5 with embedded etcd) and with ``count / maxUnavailable`` of the largest pool.
With ``addons.systemUpgradeController`` the controller owns version bumps: the rollout is not
re-run for a new ``k3s.version`` (only the upgrade Plans change).
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_command as command

from components import yaml_text
from components.bootstrap import (
    etcd_snapshots,
    installer,
    k3s_config,
    kubeconfig,
    node_files,
    paths,
)
from components.bootstrap.bundle import StagedFile
from components.bootstrap.connection import node_connection
from components.bootstrap.join_tokens import join_tokens, secure_token
from components.bootstrap.node import K3sNode, NodeBootstrap
from components.bootstrap.remote_script import remote_script
from components.handles import ApiEndpoint, NodeHandle, Role, SshAccess
from stack_config import ClusterSpec

BOOTSTRAP_TYPE = "k3s-hcloud:bootstrap:K3sBootstrap"
READER_TIMEOUTS = pulumi.CustomTimeouts(create="10m", update="10m")


class K3sBootstrap(pulumi.ComponentResource):
    kubeconfig: pulumi.Output[str]
    """Secret. Admin kubeconfig: the API load balancer, or one context per server."""
    ready: list[pulumi.Resource]
    """After these, the API answers through ``kubeconfig`` and every node has registered."""
    cluster_ca_hash: pulumi.Output[str]
    """SHA-256 of the cluster CA (plain): the cluster's identity. k3s generates the CA when the
    cluster is initialised and keeps it in the datastore, so it changes exactly when the cluster
    is a new one, whatever address the kubeconfig points at."""
    nodes: dict[str, K3sNode]
    agent_join_token: pulumi.Output[str]
    """Secret. The agent token in its CA-pinning ``K10<hash>::node:<password>`` form."""

    def __init__(self, name: str, spec: ClusterSpec, nodes: Sequence[NodeHandle],
                 ssh: SshAccess, api: ApiEndpoint, depends_on: Sequence[pulumi.Resource] = (),
                 opts: pulumi.ResourceOptions | None = None) -> None:
        check_node_order(nodes)
        super().__init__(BOOTSTRAP_TYPE, name, {
            "clusterName": spec.cluster_name,
            "k3sVersion": spec.k3s.version,
            "clusterWideServerConfig": k3s_config.cluster_wide_config(spec).flags(),
            "apiLoadBalanced": api.load_balanced,
        }, opts)
        child = pulumi.ResourceOptions(parent=self)
        servers = [node for node in nodes if node.role == "server"]
        agents = [node for node in nodes if node.role == "agent"]
        first = servers[0]
        tokens = join_tokens(name, child)
        sudo = ssh.user != "root"
        first_connection = node_connection(first, ssh)
        join_url = pulumi.Output.from_input(api.join_address).apply(k3s_config.join_url)
        datastore = (pulumi.Output.secret(spec.k3s.datastore_endpoint)
                     if spec.k3s.datastore_endpoint is not None else None)
        upgrades_by_controller = spec.addons.system_upgrade_controller.enabled
        registries_secret = node_files.registries_staged(spec)

        def user_secrets(role: Role) -> dict[str, pulumi.Input[str]]:
            return {staged.name: content
                    for staged, content in node_files.user_secret_files(spec, role).items()}

        snapshot_credentials = etcd_snapshots.credentials_dropin(spec)

        def plan(node: NodeHandle, secrets: pulumi.Output[dict]) -> NodeBootstrap:
            place = k3s_config.NodePlace(node.key, node.role, node.private_ip,
                                         first_server=node is first, labels=node.labels,
                                         taints=node.taints)
            sans = api.tls_sans_for(node) if node.role == "server" else []
            config = pulumi.Output.all(join_url, *sans).apply(
                lambda resolved, place=place: k3s_config.render_config(
                    spec, place, join_url=resolved[0], tls_sans=resolved[1:]))
            staged = [node_files.AGENT_TOKEN]
            if node.role == "server":
                staged.insert(0, StagedFile(paths.CLUSTER_TOKEN_FILE, "cluster-token"))
                if datastore is not None:
                    staged.append(StagedFile(paths.DATASTORE_DROPIN, "datastore.yaml"))
                if snapshot_credentials is not None:
                    staged.append(StagedFile(paths.ETCD_S3_DROPIN, "etcd-s3.yaml"))
            staged += list(node_files.user_secret_files(spec, node.role))
            return NodeBootstrap(
                handle=node, k3s_version=spec.k3s.version, config=config,
                files=node_files.plain_files(spec, node.role,
                                             registries_staged=registries_secret),
                staged=staged, secrets=pulumi.Output.secret(secrets),
                connection=node_connection(node, ssh),
                first_server_connection=None if node is first else first_connection,
                sudo=sudo, installer=installer.installer_env(spec.k3s),
                upgrades_by_controller=upgrades_by_controller)

        def server_secrets(cluster_token: pulumi.Input[str]) -> pulumi.Output[dict]:
            parts = {"cluster-token": cluster_token, "agent-token": tokens.agent,
                     **user_secrets("server")}
            if datastore is not None:
                parts["datastore.yaml"] = datastore.apply(
                    lambda endpoint: yaml_text.dump({"datastore-endpoint": endpoint}, sort_keys=True))
            if snapshot_credentials is not None:
                parts["etcd-s3.yaml"] = snapshot_credentials
            return pulumi.Output.all(**parts)

        snapshots = _PreChangeSnapshots(name, spec, snapshot_credentials, first_connection,
                                        sudo, list(depends_on), self)

        self.nodes = {}
        first_node = K3sNode(first.key, plan(first, server_secrets(tokens.cluster)),
                             after=snapshots.before(first, first_connection, after=[]),
                             boot_after=list(depends_on), opts=child)
        self.nodes[first.key] = first_node

        on_first = pulumi.ResourceOptions(parent=self, depends_on=[first_node.k3s],
                                          custom_timeouts=READER_TIMEOUTS)
        ca_hash = command.remote.Command(
            f"{name}-ca-hash", connection=first_connection,
            create=remote_script("read-ca-hash.sh", {"SERVER_CA_FILE": paths.SERVER_CA_FILE},
                                 sudo=sudo),
            logging=command.remote.Logging.STDOUT_AND_STDERR, opts=on_first)
        # Re-read k3s.yaml whenever the first server's k3s restarts (config or version change):
        # k3s rewrites it on start, renewing client certificates close to expiry.
        reader = command.remote.Command(
            f"{name}-kubeconfig", connection=first_connection,
            create=remote_script("read-kubeconfig.sh", {"KUBECONFIG_FILE": paths.KUBECONFIG_FILE},
                                 sudo=sudo),
            triggers=[first_node.config_digest,
                      *([] if upgrades_by_controller else [spec.k3s.version])],
            logging=command.remote.Logging.STDERR,
            opts=pulumi.ResourceOptions.merge(on_first, pulumi.ResourceOptions(
                additional_secret_outputs=["stdout"])))

        self.cluster_ca_hash = ca_hash.stdout.apply(lambda text: text.strip())

        def pinned(role: str, password: pulumi.Output[str]) -> pulumi.Output[str]:
            return pulumi.Output.secret(pulumi.Output.all(ca_hash.stdout, password).apply(
                lambda values: secure_token(values[0], role, values[1])))

        # For the nodes the cluster-autoscaler creates (they join without this bootstrap).
        self.agent_join_token = pinned("agent", tokens.agent)

        previous = first_node
        previous_membership: list[pulumi.Resource] = []
        for server in servers[1:]:
            # Joiners through the supervisor pin the CA; on an external datastore servers do not
            # join through a supervisor and use the bare token like the first server.
            token = pinned("server", tokens.cluster) if spec.uses_embedded_etcd else tokens.cluster
            node = K3sNode(server.key, plan(server, server_secrets(token)),
                           after=snapshots.before(server, first_connection,
                                                  after=[previous.uncordon]),
                           membership_after=previous_membership + snapshots.members(
                               servers, first_node.k3s),
                           boot_after=list(depends_on), opts=child)
            self.nodes[server.key] = node
            previous = node
            previous_membership = [node.membership] if node.membership else []
        last_server = previous
        batches = {pool.name: pool.max_unavailable for pool in spec.worker_pools}
        rolled: dict[str, list[K3sNode]] = {}
        for agent in agents:
            secrets = pulumi.Output.all(**{"agent-token": pinned("agent", tokens.agent),
                                           **user_secrets("agent")})
            pool = rolled.setdefault(agent.pool, [])
            batch = batches.get(agent.pool, 1)
            # The node `batch` places earlier in its pool must be back first; the first batch
            # waits for the last server.
            after = pool[-batch].uncordon if len(pool) >= batch else last_server.uncordon
            node = K3sNode(agent.key, plan(agent, secrets), after=[after],
                           boot_after=list(depends_on), opts=child)
            self.nodes[agent.key] = node
            pool.append(node)

        self.kubeconfig = pulumi.Output.secret(_kubeconfig(spec, api, first, reader))
        self.ready = [reader] + [node.uncordon for node in self.nodes.values()] + [
            step for node in self.nodes.values()
            for step in (node.membership, node.node_metadata) if step is not None]
        # The control plane alone: what in-cluster installs need. Workers join on their own
        # schedule; waiting for them would tie the Kubernetes layer to every worker.
        self.control_plane_ready = [reader] + [
            step for server in servers for step in (self.nodes[server.key].uncordon,
                                                    self.nodes[server.key].membership) if step]
        self.register_outputs({"kubeconfig": self.kubeconfig,
                               "clusterCaHash": self.cluster_ca_hash,
                               "nodeNames": list(self.nodes)})


class _PreChangeSnapshots:
    """The named snapshot each server's k3s step waits for (see etcd_snapshots)."""

    def __init__(self, name: str, spec: ClusterSpec, credentials: pulumi.Output[str] | None,
                 first_connection: command.remote.ConnectionArgs, sudo: bool,
                 depends_on: list[pulumi.Resource], parent: pulumi.Resource) -> None:
        self.name, self.spec, self.sudo, self.parent = name, spec, sudo, parent
        self.enabled = etcd_snapshots.takes_pre_change_snapshots(spec)
        self.first_connection = first_connection
        self.depends_on = depends_on
        self.etcd_digest = etcd_snapshots.etcd_config_digest(spec, credentials)
        self._members: command.remote.Command | None = None

    def before(self, server: NodeHandle, connection: command.remote.ConnectionArgs,
               after: list[pulumi.Resource]) -> list[pulumi.Resource]:
        """``after`` plus this server's pre-change snapshot. It runs on the first server (the
        only one whose etcd is certain to hold the data when another server is replaced)."""
        if not self.enabled:
            return after
        snapshot = etcd_snapshots.pre_change_snapshot(
            f"{server.key}-etcd-snapshot",
            snapshot=etcd_snapshots.snapshot_name(server.key, self.spec.k3s.version),
            connection=connection, sudo=self.sudo,
            triggers=[self.spec.k3s.version, server.server.id, self.etcd_digest],
            depends_on=[server.server, *self.depends_on, *after], parent=self.parent)
        return [*after, snapshot]

    def members(self, servers: Sequence[NodeHandle],
                first_k3s: pulumi.Resource) -> list[pulumi.Resource]:
        """The snapshot before the set of servers changes (one, shared by every membership)."""
        if not self.enabled or len(servers) < 2:
            return []
        if self._members is None:
            keys = [server.key for server in servers]
            self._members = etcd_snapshots.pre_change_snapshot(
                f"{self.name}-etcd-snapshot-members",
                snapshot=etcd_snapshots.snapshot_name("control-plane-change",
                                                      self.spec.k3s.version),
                connection=self.first_connection, sudo=self.sudo, triggers=keys,
                depends_on=[first_k3s], parent=self.parent)
        return [self._members]


def check_node_order(nodes: Sequence[NodeHandle]) -> None:
    """The contract: servers first (the first one initialises the cluster), then agents."""
    if not nodes or nodes[0].role != "server":
        raise ValueError("K3sBootstrap needs the control-plane servers first in `nodes`")
    roles = [node.role for node in nodes]
    if "agent" in roles and "server" in roles[roles.index("agent"):]:
        raise ValueError("K3sBootstrap needs every server before the first agent in `nodes`")
    keys = [node.key for node in nodes]
    if len(set(keys)) != len(keys):
        raise ValueError(f"node keys must be unique: {keys}")


def _kubeconfig(spec: ClusterSpec, api: ApiEndpoint, first: NodeHandle,
                reader: command.remote.Command) -> pulumi.Output[str]:
    contexts = api.user_addresses()
    names = [key or spec.cluster_name for key, _ in contexts]
    addresses = [address for _, address in contexts]

    def build(values: list[str]) -> str:
        credentials = kubeconfig.parse_admin_kubeconfig(values[0], source=first.key)
        api_servers = [kubeconfig.ApiServer(n, a) for n, a in zip(names, values[1:], strict=True)]
        return kubeconfig.render_kubeconfig(credentials, spec.cluster_name, api_servers)

    return pulumi.Output.all(reader.stdout, *addresses).apply(build)
