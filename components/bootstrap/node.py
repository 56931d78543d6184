"""K3sNode: k3s on one node, from a fresh boot to a healthy, registered member of the cluster.

Creates, as children (names start with the node's key, e.g. ``dev-workers-3``):
- ``<key>-boot`` (command:remote:Command): waits for cloud-init and the package lock;
- ``<key>-pod-route`` (command:remote:Command): routes the pod ranges via the network gateway,
  now and at every boot (``pod-route.sh``, ``pod_routes.py``); re-run only when the routes
  change, never restarting k3s; ordered before ``<key>-k3s``;
- ``<key>-secrets`` (command:remote:Command): stages the token files and, with an external
  datastore, the datastore drop-in from **stdin** (secret stdin, stderr-only logging, secret stdout);
- the **rollout** of a change that restarts k3s, as a sequence of named steps (``ROLLOUT``),
  each a command:remote:Command re-run exactly when k3s must restart (``restart_triggers``):
  on agents first ``<key>-servers-at`` (on the first server: waits until no server runs an
  older k3s release than the agent's, ``await-control-plane-version.sh``), then
  ``<key>-drain`` (on the first server: cordon and drain, ``drain-node.sh``; a no-op before the
  node registered) → ``<key>-k3s`` (on the node: applies config.yaml, registries.yaml and
  hardening files and installs or upgrades k3s, ``apply-k3s.sh``: compare, back up, restart,
  check, roll back) → ``<key>-uncordon`` (on the first server: waits for Ready, uncordons what
  the drain cordoned, ``uncordon-node.sh``). K3sBootstrap chains the servers' rollouts (the
  next server drains only after this one is back and Ready); an agent's drain first takes one of
  its pool's rollout slots and its uncordon gives it back (``rollout.py``,
  ``NodeBootstrap.rollout_slots``), so at most ``maxUnavailable`` agents of a pool restart at
  once. A "before" step (an etcd snapshot on servers) slots in ahead of ``drain``;
- ``<key>-registration`` (command:remote:Command): writes the node's labels and taints to a
  config.yaml.d drop-in, which k3s reads when the node registers; an edit rewrites it without
  a restart (``write-registration.sh``);
- ``<key>-node-metadata`` (agents; on the first server): labels and taints applied through the
  API (``set-node-metadata.sh``) — no restart; removed ones removed;
- ``<key>-membership`` (command:remote:Command, every node but the first server): runs on the
  first server; create waits until the node is registered, **delete drains the node and deletes
  it from Kubernetes** before its server is destroyed.

The component's own inputs carry what the node runs (``k3sVersion``, ``role``, ``k3sConfig``,
``configYaml``, ``registriesYaml``) so policies and ``plan.py --out`` read them from the plan;
see docs/contracts.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_command as command

from components.bootstrap import bundle, k3s_config, paths, pod_routes, rollout
from components.bootstrap.remote_script import remote_script
from components.handles import NodeHandle, Role
from upstream import k3s as upstream_k3s

NODE_TYPE = "k3s-hcloud:bootstrap:K3sNode"

# How long each step may take before Pulumi gives up on it (explicit, never the provider default).
BOOT_TIMEOUTS = pulumi.CustomTimeouts(create="20m", update="20m")
SECRETS_TIMEOUTS = pulumi.CustomTimeouts(create="10m", update="10m")
K3S_TIMEOUTS = pulumi.CustomTimeouts(create=rollout.minutes(rollout.K3S_MINUTES),
                                     update=rollout.minutes(rollout.K3S_MINUTES))
# Delete covers the drain (DRAIN_TIMEOUT) plus the node deletion.
MEMBERSHIP_TIMEOUTS = pulumi.CustomTimeouts(create="15m", update="15m", delete="15m")
DRAIN_TIMEOUT = rollout.DRAIN_TIMEOUT
UNCORDON_TIMEOUTS = pulumi.CustomTimeouts(create=rollout.minutes(rollout.UNCORDON_MINUTES),
                                          update=rollout.minutes(rollout.UNCORDON_MINUTES))
METADATA_TIMEOUTS = pulumi.CustomTimeouts(create="10m", update="10m")

ROLLOUT = ("drain", "k3s", "uncordon")
"""The steps of a change that restarts k3s on a node, in order (resource name suffixes)."""


@dataclass(frozen=True)
class NodeBootstrap:
    """Everything one node's bootstrap needs, decided by K3sBootstrap."""

    handle: NodeHandle
    k3s_version: str
    config: pulumi.Output[dict]
    """The config.yaml mapping (may wait on addresses)."""
    files: Sequence[bundle.NodeFile]
    """Non-secret files besides config.yaml: registries.yaml, hardening files."""
    staged: Sequence[bundle.StagedFile]
    secrets: pulumi.Output[dict]
    """Secret: staged name → content."""
    connection: command.remote.ConnectionArgs
    first_server_connection: command.remote.ConnectionArgs | None
    """Where membership commands run; None for the first server itself."""
    sudo: bool
    installer: Mapping[str, str]
    """``apply-k3s.sh``'s installer inputs (``installer.installer_env``): source and digest."""
    pod_routes: Mapping[str, str]
    """``pod-route.sh``'s inputs (``pod_routes.pod_route_env``): pod ranges and gateway."""
    upgrades_by_controller: bool = False
    """system-upgrade-controller owns k3s upgrades: a version bump must not re-run the rollout;
    a new node still installs ``k3s_version``."""
    rotation: Mapping[str, str] = field(default_factory=dict)
    """Servers behind the API load balancer: ``apply-k3s.sh``'s out-of-rotation inputs
    (``api_readiness.rotation_env``); empty otherwise."""
    rollout_slots: rollout.RolloutSlots | None = None
    """Agents: the pool's bound on concurrent restarts, held from drain to uncordon. None for
    servers, which K3sBootstrap rolls one at a time by the order of the plan."""

    @property
    def role(self) -> Role:
        return self.handle.role


class K3sNode(pulumi.ComponentResource):
    pod_route: command.remote.Command
    drain: command.remote.Command
    k3s: command.remote.Command
    uncordon: command.remote.Command
    node_metadata: command.remote.Command | None
    membership: command.remote.Command | None
    config_digest: pulumi.Output[str]
    """Of every file k3s restarts for (labels and taints are not among them)."""

    def __init__(self, name: str, node: NodeBootstrap, *, after: Sequence[pulumi.Resource],
                 membership_after: Sequence[pulumi.Resource] = (),
                 boot_after: Sequence[pulumi.Resource] = (),
                 opts: pulumi.ResourceOptions | None = None) -> None:
        config_yaml = node.config.apply(
            lambda c: k3s_config.config_yaml(k3s_config.restart_config(c)))
        registration_yaml = node.config.apply(
            lambda c: k3s_config.config_yaml(k3s_config.registration_config(c)))
        registries = next((f.content for f in node.files if f.path == paths.REGISTRIES_FILE), None)
        # Also registered as outputs: a stack policy in a real preview sees outputs, not props.
        described = {
            "nodeName": node.handle.key,
            "role": node.role,
            "k3sVersion": node.k3s_version,
            # Where the install script comes from (a URL, or a path on the node when air-gapped)
            # and the SHA-256 it must have before it runs.
            "installerUrl": node.installer.get("INSTALL_SCRIPT_URL",
                                               node.installer.get("INSTALL_SCRIPT_PATH")),
            "installerSha256": node.installer.get("INSTALL_SCRIPT_SHA256"),
            "k3sConfig": node.config,
            "configYaml": config_yaml,
            "registriesYaml": registries,
            "registrationYaml": registration_yaml,
        }
        super().__init__(NODE_TYPE, name, described, opts)

        file_bundle = config_yaml.apply(lambda text: bundle.encode_file_bundle(
            [bundle.NodeFile(paths.CONFIG_FILE, text), *node.files], node.staged))
        secret_bundle = pulumi.Output.secret(node.secrets.apply(bundle.encode_secret_bundle))
        self.config_digest = file_bundle.apply(bundle.digest)

        self.boot = command.remote.Command(
            f"{name}-boot",
            connection=node.connection,
            create=remote_script("wait-for-boot.sh", sudo=node.sudo),
            logging=command.remote.Logging.STDOUT_AND_STDERR,
            opts=pulumi.ResourceOptions(parent=self, custom_timeouts=BOOT_TIMEOUTS,
                                        depends_on=[node.handle.server, *boot_after]))
        # Its own step so that a change of the route set re-runs only this, never the rollout.
        pod_route = remote_script(pod_routes.SCRIPT, node.pod_routes, sudo=node.sudo)
        self.pod_route = command.remote.Command(
            f"{name}-pod-route",
            connection=node.connection,
            create=pod_route, update=pod_route,
            triggers=[node.pod_routes["POD_ROUTES"], node.pod_routes["NETWORK_GATEWAY"]],
            logging=command.remote.Logging.STDOUT_AND_STDERR,
            opts=pulumi.ResourceOptions(parent=self, custom_timeouts=SECRETS_TIMEOUTS,
                                        depends_on=[self.boot]))
        self.secrets = command.remote.Command(
            f"{name}-secrets",
            connection=node.connection,
            create=remote_script("stage-secrets.sh", {"STATE_DIR": paths.STATE_DIR},
                                 sudo=node.sudo),
            stdin=secret_bundle,
            # The script prints nothing on stdout; stderr carries status and errors only.
            logging=command.remote.Logging.STDERR,
            opts=pulumi.ResourceOptions(parent=self, custom_timeouts=SECRETS_TIMEOUTS,
                                        depends_on=[self.boot],
                                        additional_secret_outputs=["stdout"]))
        # Re-run the rollout only when what k3s runs with changes: the files (less the
        # registration-only keys), the version (unless the upgrade controller owns it), or the
        # staged secrets (by a digest that stays secret).
        restart_triggers: list[pulumi.Input] = [self.config_digest]
        if not node.upgrades_by_controller:
            restart_triggers.append(node.k3s_version)
        restart_triggers.append(pulumi.Output.secret(secret_bundle.apply(bundle.digest)))
        # Drain and uncordon need the API: they run on the first server (on itself for it).
        api_connection = node.first_server_connection or node.connection
        node_env = {"NODE_NAME": node.handle.key}

        # Agents join once the first server answers, not after every server: before k3s
        # changes on one, the servers must run its release (never a kubelet newer than an
        # apiserver). With the upgrade controller, it orders upgrades itself.
        drain_after: list[pulumi.Resource] = [self.secrets, *after]
        if node.role == "agent" and not node.upgrades_by_controller:
            servers_at = command.remote.Command(
                f"{name}-servers-at",
                connection=api_connection,
                create=rollout.servers_at_command(node.k3s_version, sudo=node.sudo),
                triggers=restart_triggers,
                logging=command.remote.Logging.STDOUT_AND_STDERR,
                opts=pulumi.ResourceOptions(parent=self,
                                            custom_timeouts=rollout.SERVERS_AT_TIMEOUTS,
                                            depends_on=drain_after))
            drain_after = [*drain_after, servers_at]
        drain_create = rollout.drain_command(node.handle.key, node.rollout_slots, sudo=node.sudo)
        self.drain = command.remote.Command(
            f"{name}-drain",
            connection=api_connection,
            create=drain_create,
            triggers=restart_triggers,
            logging=command.remote.Logging.STDOUT_AND_STDERR,
            opts=pulumi.ResourceOptions(parent=self,
                                        custom_timeouts=rollout.drain_timeouts(node.rollout_slots),
                                        depends_on=drain_after))
        # Labels and taints for the node's registration; an edit rewrites the file only.
        registration = remote_script("write-registration.sh", {
            "REGISTRATION_FILE": paths.REGISTRATION_DROPIN}, sudo=node.sudo)
        self.registration = command.remote.Command(
            f"{name}-registration",
            connection=node.connection,
            create=registration, update=registration,
            stdin=registration_yaml,
            logging=command.remote.Logging.STDOUT_AND_STDERR,
            opts=pulumi.ResourceOptions(parent=self, custom_timeouts=SECRETS_TIMEOUTS,
                                        depends_on=[self.secrets]))
        self.k3s = command.remote.Command(
            f"{name}-k3s",
            connection=node.connection,
            create=remote_script("apply-k3s.sh", {
                "K3S_ROLE": node.role,
                "K3S_VERSION": node.k3s_version,
                "K3S_SERVICE": upstream_k3s.SERVICE_BY_ROLE[node.role],
                **node.installer,
                "STATE_DIR": paths.STATE_DIR,
                "K3S_UPGRADES": "controller" if node.upgrades_by_controller else "program",
                **node.rotation,
            }, sudo=node.sudo),
            stdin=file_bundle,
            triggers=restart_triggers,
            logging=command.remote.Logging.STDOUT_AND_STDERR,
            opts=pulumi.ResourceOptions(
                parent=self, custom_timeouts=K3S_TIMEOUTS,
                depends_on=[self.drain, self.registration, self.pod_route],
                # With the controller, a version bump changes only the Plans: the command keeps
                # the version it installed (a new node installs the current one).
                ignore_changes=["create"] if node.upgrades_by_controller else None))
        self.uncordon = command.remote.Command(
            f"{name}-uncordon",
            connection=api_connection,
            create=rollout.uncordon_command(node.handle.key, node.rollout_slots,
                                            sudo=node.sudo),
            # pulumi-command runs a command again when its text changes: a drain re-run by a
            # new drain script must be followed by its uncordon, or the node stays cordoned.
            triggers=[*restart_triggers, bundle.digest(drain_create)],
            logging=command.remote.Logging.STDOUT_AND_STDERR,
            opts=pulumi.ResourceOptions(parent=self, custom_timeouts=UNCORDON_TIMEOUTS,
                                        depends_on=[self.k3s]))

        self.membership = None
        if node.first_server_connection is not None:
            env = {"NODE_NAME": node.handle.key}
            # No triggers, ever: replacing this resource would run its delete and drain a live
            # node. Its inputs only change when the first server's connection does.
            self.membership = command.remote.Command(
                f"{name}-membership",
                connection=node.first_server_connection,
                create=remote_script("await-node.sh", env, sudo=node.sudo),
                delete=remote_script("remove-node.sh", env | {"DRAIN_TIMEOUT": DRAIN_TIMEOUT},
                                     sudo=node.sudo),
                logging=command.remote.Logging.STDOUT_AND_STDERR,
                opts=pulumi.ResourceOptions(
                    parent=self, custom_timeouts=MEMBERSHIP_TIMEOUTS,
                    depends_on=[self.k3s, node.handle.server, *membership_after]))

        self.node_metadata = None
        if node.role == "agent":
            script = remote_script("set-node-metadata.sh", node_env | {
                "NODE_LABELS": " ".join(f"{k}={v}" for k, v in sorted(node.handle.labels.items())),
                "NODE_TAINTS": " ".join(node.handle.taints)}, sudo=node.sudo)
            # create and update run the same script: an edit is an update, which gets the
            # previous run's stdout (the keys it managed) to remove what is no longer wanted.
            self.node_metadata = command.remote.Command(
                f"{name}-node-metadata",
                connection=api_connection,
                create=script, update=script,
                logging=command.remote.Logging.STDOUT_AND_STDERR,
                opts=pulumi.ResourceOptions(
                    parent=self, custom_timeouts=METADATA_TIMEOUTS,
                    depends_on=[self.k3s, *([self.membership] if self.membership else [])]))

        self.register_outputs({**described, "configDigest": self.config_digest})
