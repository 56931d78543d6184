"""K3sBootstrap: k3s installed and joined on every node, and the cluster's kubeconfig.

Consumes the infrastructure's handles (``NodeHandle``, ``SshAccess``, ``ApiEndpoint``) and
produces ``kubeconfig`` (secret) and ``control_plane_ready`` for the Kubernetes layer.

Creates, as children:
- ``<name>-cluster-token``, ``<name>-agent-token`` (random:RandomPassword): the join tokens;
- one :class:`~components.bootstrap.node.K3sNode` per node (named by the node's key), each with
  its boot, secrets, k3s and (but the first server) membership commands;
- ``<name>-ca-hash`` (command:remote:Command on the first server): the server CA's SHA-256, which
  joiners pin in their secure token;
- ``<name>-kubeconfig`` (command:remote:Command on the first server): reads k3s.yaml (secret
  stdout, stderr-only logging); its output is validated and rewritten into ``kubeconfig``.

Order: first server → the other servers one at a time, and beside them every agent side by side
(agents start once the first server answers). Each server's
rollout (drain → k3s → uncordon, see ``K3sNode``) starts after the previous server's uncordon,
i.e. once it is back and Ready: etcd admits one learner at a time ("etcd server limits the
number of learners that cluster can have to one", etcd Documentation/learning/learner.md;
concurrent k3s joins fail with "too many learner members in cluster", k3s-io/k3s#4335, #7000),
and it is the order k3s prescribes for upgrades (servers one at a time, then agents), which the
same commands perform on a version bump or a config change. Agents do not wait for the last
server in the plan: an agent's drain first waits until no server runs an older release, so an
upgrade still never runs a kubelet newer than an API server; nor for each other: an agent's
restart holds one of its pool's ``workerPools[].maxUnavailable`` rollout slots (Leases in the
cluster, ``rollout.py``) from its drain to its uncordon, so running nodes of a pool restart in
drained batches of that size while first installs (nodes not registered yet take no slot) go
in parallel. The chain grows with the number of servers (at most 5 with embedded etcd), never
with workers.
With ``addons.systemUpgradeController`` the controller owns version bumps: the rollout is not
re-run for a new ``k3s.version`` (only the upgrade Plans change).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pulumi
import pulumi_command as command

from components.bootstrap import api_readiness, etcd_snapshots, k3s_config, kubeconfig, paths
from components.bootstrap.connection import node_connection
from components.bootstrap.join_tokens import join_tokens, secure_token
from components.bootstrap.node import K3sNode
from components.bootstrap.node_plans import NodePlans
from components.bootstrap.remote_script import remote_script
from components.bootstrap.rollout import RolloutSlots
from components.handles import ApiEndpoint, NodeHandle, SshAccess
from stack_config import ClusterSpec

BOOTSTRAP_TYPE = "k3s-hcloud:bootstrap:K3sBootstrap"
READER_TIMEOUTS = pulumi.CustomTimeouts(create="10m", update="10m")


class K3sBootstrap(pulumi.ComponentResource):
    """k3s on every node, in etcd's order, and the cluster's kubeconfig (see the module doc).

    The constructor runs the steps in order: tokens, the first server, the read-backs from it
    (CA hash, kubeconfig), the joining servers one at a time, the agents, then the outputs.
    """

    kubeconfig: pulumi.Output[str]
    """Secret. Admin kubeconfig: the API load balancer, or one context per server."""
    control_plane_ready: list[pulumi.Resource]
    """The control plane alone: what in-cluster installs need. Workers join on their own
    schedule; waiting for them would tie the Kubernetes layer to every worker."""
    cluster_ca_hash: pulumi.Output[str]
    """SHA-256 of the cluster CA (plain): the cluster's identity. k3s generates the CA when the
    cluster is initialised and keeps it in the datastore, so it changes exactly when the cluster
    is a new one, whatever address the kubeconfig points at."""
    nodes: dict[str, K3sNode]
    """Every node's bootstrap, by node key, in join order."""
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
        self._name, self._spec, self._api = name, spec, api
        self._servers = [node for node in nodes if node.role == "server"]
        self._agents = [node for node in nodes if node.role == "agent"]
        self._boot_after = list(depends_on)
        self._child = pulumi.ResourceOptions(parent=self)
        self._plans = NodePlans(spec, api, ssh, self._servers[0])
        self._tokens = join_tokens(name, self._child)
        self._snapshots = _PreChangeSnapshots(
            name, spec, self._plans.snapshot_credentials, self._plans.first_connection,
            self._plans.sudo, self._boot_after, self)
        self.nodes = {}
        # Per server, its answer to the API load balancer's check: installed (and passing)
        # before k3s changes on it, so a restart's out-of-rotation marker has an answer to read.
        self._answers: dict[str, command.remote.Command] = {}

        service = self._open_api_service()
        first_node = self._initialise_first_server()
        # With an API load balancer, joiners and the in-cluster layer go through it once it
        # routes to the first server's ready apiserver.
        routes = self._await_api_routes(first_node, service)
        self._join_after = [routes] if routes is not None else []
        ca_hash, reader = self._read_back_from(first_node)
        self.cluster_ca_hash = ca_hash.stdout.apply(lambda text: text.strip())
        # For the nodes the cluster-autoscaler creates (they join without this bootstrap).
        self.agent_join_token = _pinned(ca_hash, "agent", self._tokens.agent)
        self._join_servers(first_node, ca_hash)
        self._join_agents(first_node, ca_hash)
        self._declare_outputs(reader)

    def _open_api_service(self) -> pulumi.Resource | None:
        """Every server answers the API load balancer's readiness check, then its service opens
        (api_readiness.py): before any server joins through it."""
        if self._api.open_service is None:
            return None
        self._answers = {
            server.key: api_readiness.install_answer(
                server, node_connection(server, self._plans.ssh), sudo=self._plans.sudo,
                after=self._boot_after, parent=self)
            for server in self._servers}
        return self._api.open_service(list(self._answers.values()))

    def _answer_of(self, server: NodeHandle) -> list[pulumi.Resource]:
        answer = self._answers.get(server.key)
        return [answer] if answer is not None else []

    def _await_api_routes(self, first_node: K3sNode,
                          service: pulumi.Resource | None) -> command.remote.Command | None:
        if service is None or self._api.load_balancer_ip is None:
            return None
        return api_readiness.await_routes(
            self._name, self._api.load_balancer_ip, self._plans.first_connection,
            sudo=self._plans.sudo, after=[first_node.k3s, service], parent=self)

    def _initialise_first_server(self) -> K3sNode:
        first = self._servers[0]
        plan = self._plans.plan(first, self._plans.server_secrets(self._tokens.cluster,
                                                                  self._tokens.agent))
        node = K3sNode(first.key, plan,
                       after=[*self._snapshots.before(first, self._plans.first_connection,
                                                      after=[]),
                              *self._answer_of(first)],
                       boot_after=self._boot_after, opts=self._child)
        self.nodes[first.key] = node
        return node

    def _read_back_from(self, first_node: K3sNode) -> tuple[command.remote.Command,
                                                             command.remote.Command]:
        """The first server's CA hash and k3s.yaml, once its k3s runs."""
        connection, sudo = self._plans.first_connection, self._plans.sudo
        on_first = pulumi.ResourceOptions(parent=self, depends_on=[first_node.k3s],
                                          custom_timeouts=READER_TIMEOUTS)
        ca_hash = command.remote.Command(
            f"{self._name}-ca-hash", connection=connection,
            create=remote_script("read-ca-hash.sh", {"SERVER_CA_FILE": paths.SERVER_CA_FILE},
                                 sudo=sudo),
            logging=command.remote.Logging.STDOUT_AND_STDERR, opts=on_first)
        # Re-read k3s.yaml whenever the first server's k3s restarts (config or version change):
        # k3s rewrites it on start, renewing client certificates close to expiry.
        reader = command.remote.Command(
            f"{self._name}-kubeconfig", connection=connection,
            create=remote_script("read-kubeconfig.sh", {"KUBECONFIG_FILE": paths.KUBECONFIG_FILE},
                                 sudo=sudo),
            triggers=[first_node.config_digest,
                      *([] if self._plans.upgrades_by_controller else [self._spec.k3s.version])],
            logging=command.remote.Logging.STDERR,
            opts=pulumi.ResourceOptions.merge(on_first, pulumi.ResourceOptions(
                additional_secret_outputs=["stdout"])))
        return ca_hash, reader

    def _join_servers(self, first_node: K3sNode, ca_hash: command.remote.Command) -> None:
        """The other servers, one at a time (etcd takes one learner at a time): each one's
        rollout waits for the previous server's uncordon."""
        previous = first_node
        previous_membership: list[pulumi.Resource] = []
        for server in self._servers[1:]:
            # Joiners through the supervisor pin the CA; on an external datastore servers do not
            # join through a supervisor and use the bare token like the first server.
            token = (_pinned(ca_hash, "server", self._tokens.cluster)
                     if self._spec.uses_embedded_etcd else self._tokens.cluster)
            plan = self._plans.plan(server, self._plans.server_secrets(token, self._tokens.agent))
            node = K3sNode(server.key, plan,
                           after=[*self._snapshots.before(server, self._plans.first_connection,
                                                          after=[previous.uncordon,
                                                                 *self._join_after]),
                                  *self._answer_of(server)],
                           membership_after=previous_membership + self._snapshots.members(
                               self._servers, first_node.k3s),
                           boot_after=self._boot_after, opts=self._child)
            self.nodes[server.key] = node
            previous = node
            previous_membership = [node.membership] if node.membership else []

    def _join_agents(self, first_node: K3sNode, ca_hash: command.remote.Command) -> None:
        """Every agent side by side, once the first server answers: they join while the other
        servers do. An agent's drain first waits until no server runs an older release (never a
        kubelet newer than an API server during an upgrade; ``rollout.drain_command``). A
        restart holds one of the pool's ``maxUnavailable`` rollout slots in the cluster from
        drain to uncordon; a first install (not registered yet) takes none."""
        batches = {pool.name: pool.max_unavailable for pool in self._spec.worker_pools}
        for agent in self._agents:
            secrets = self._plans.agent_secrets(_pinned(ca_hash, "agent", self._tokens.agent))
            slots = RolloutSlots(agent.pool, batches.get(agent.pool, 1))
            plan = replace(self._plans.plan(agent, secrets), rollout_slots=slots)
            self.nodes[agent.key] = K3sNode(agent.key, plan,
                                            after=[first_node.uncordon, *self._join_after],
                                            boot_after=self._boot_after, opts=self._child)

    def _declare_outputs(self, reader: command.remote.Command) -> None:
        self.kubeconfig = pulumi.Output.secret(
            _kubeconfig(self._spec, self._api, self._servers[0], reader))
        self.control_plane_ready = [reader, *self._join_after] + [
            step for server in self._servers for step in (self.nodes[server.key].uncordon,
                                                          self.nodes[server.key].membership)
            if step]
        self.register_outputs({"kubeconfig": self.kubeconfig,
                               "clusterCaHash": self.cluster_ca_hash,
                               "nodeNames": list(self.nodes)})


def _pinned(ca_hash: command.remote.Command, role: str,
            password: pulumi.Output[str]) -> pulumi.Output[str]:
    """The secure join token ``K10<CA hash>::<user>:<password>`` (secret)."""
    return pulumi.Output.secret(pulumi.Output.all(ca_hash.stdout, password).apply(
        lambda values: secure_token(values[0], role, values[1])))


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
