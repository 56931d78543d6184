"""The common day-2 changes, each planned before and after on an example stack and diffed.

Shared by the blast-radius test matrix (``tests/test_day2.py``, which asserts each change's exact
effect and verdict) and the day-2 page (``docs/day2.md``, rendered by ``bench/day2_matrix.py``
from the measured effects). A change is a stack-config edit; the two that no config key
expresses — a program release that edits every server's user data, and a new k3s token — are
simulated by patching what the program or the mocked provider produces.

The "after" plan is an update of the running cluster: the program reads the "before" plan's
outputs back (``clusterIdentity``), as it reads its own stack's outputs in ``pulumi up``. A
destructive edit is then refused; the matrix records the refusal and plans the edit again with
the acknowledgement it names, to show what acknowledging would do.
"""

from __future__ import annotations

import contextlib
import copy
import shlex
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml

from components.infrastructure import cloud_init
from stack_config.identity import DestructiveEditError
from tools.lib import mock_provider
from tools.lib.engine import Plan, run_program
from tools.lib.plan_diff import PlanDiff, diff_plans
from tools.lib.stack_files import load_stack_config

Config = dict[str, Any]
PREFIX = "k3s-hcloud:"
PROJECT_DIR = Path(__file__).resolve().parents[2]
PASSWORD_TYPE = "random:index/randomPassword:RandomPassword"


@dataclass(frozen=True)
class Day2Change:
    key: str
    """Stable id (test ids, table anchors)."""
    title: str
    stack: str
    """The example stack the change is applied to."""
    setting: str
    """What the user edits, as written in the stack file."""
    edit: Callable[[Config], None] = lambda _config: None
    simulate: Callable[[], contextlib.AbstractContextManager[None]] | None = None
    """For changes no config key expresses: active while the 'after' plan is made."""
    meaning: str = ""
    """What the measured effect means on a running cluster (for the day-2 page)."""
    workloads: str = ""
    """What happens to running workloads (Pods) while the change is applied."""
    base: Callable[[Config], None] = lambda _config: None
    """An edit of the example stack both plans start from (a variant of the example)."""


def _key(config: Config, name: str) -> Any:
    return config.setdefault(PREFIX + name, {})


def _pool(config: Config, name: str) -> dict[str, Any]:
    return next(p for p in config[PREFIX + "workerPools"] if p["name"] == name)


def _set_pool(name: str, **values: Any) -> Callable[[Config], None]:
    return lambda config: _pool(config, name).update(values)


@contextlib.contextmanager
def _new_sshd_directive() -> Iterator[None]:
    """A program release that adds one sshd directive to every server's user data."""
    with contextlib.ExitStack() as stack:
        for table in (cloud_init.SSHD_NODE, cloud_init.SSHD_BASTION):
            stack.enter_context(_patched_dict(table, {"ClientAliveInterval": "300"}))
        yield


@contextlib.contextmanager
def _patched_dict(table: dict[str, Any], values: dict[str, Any]) -> Iterator[None]:
    saved = dict(table)
    table.update(values)
    try:
        yield
    finally:
        table.clear()
        table.update(saved)


@contextlib.contextmanager
def _new_cluster_token() -> Iterator[None]:
    """The cluster token's RandomPassword yields a new value (``pulumi up --replace`` on it)."""
    original = mock_provider.COMPUTED_OUTPUTS[PASSWORD_TYPE]

    def rotated(args: Any) -> dict[str, Any]:
        outputs = original(args)
        if args.name.endswith("-cluster-token"):
            length = int(args.inputs.get("length", 32))
            outputs["result"] = pulumi.Output.secret(("rotated" + "0" * length)[:length])
        return outputs

    mock_provider.COMPUTED_OUTPUTS[PASSWORD_TYPE] = rotated
    try:
        yield
    finally:
        mock_provider.COMPUTED_OUTPUTS[PASSWORD_TYPE] = original


def _add_pool(config: Config) -> None:
    config[PREFIX + "workerPools"].append({"name": "batch", "count": 2, "serverType": "cx33"})


def _remove_pool(name: str) -> Callable[[Config], None]:
    def edit(config: Config) -> None:
        config[PREFIX + "workerPools"] = [p for p in config[PREFIX + "workerPools"]
                                          if p["name"] != name]
    return edit


def _cilium_values(config: Config) -> None:
    _key(config, "cilium").setdefault("values", {})["hubble"] = {"relay": {"enabled": True}}


CHANGES: tuple[Day2Change, ...] = (
    Day2Change(
        "add-worker", "Add a worker to a pool", "dev", "workerPools[workers].count: 2 → 3",
        _set_pool("workers", count=3),
        meaning="One new server joins (boot → secrets → k3s, then registered, labels applied). "
                "Nothing else is touched.",
        workloads="Keep running; the scheduler can use the new node once it is Ready."),
    Day2Change(
        "remove-worker", "Remove a worker", "dev", "workerPools[workers].count: 2 → 1",
        _set_pool("workers", count=1),
        meaning="The highest-numbered node is drained and deleted from Kubernetes "
                "(`-membership` delete) before its server is destroyed.",
        workloads="Pods on that node are evicted (PodDisruptionBudgets respected, 300 s) and "
                  "rescheduled on the others; a drain that cannot finish stops the update "
                  "with the server kept."),
    Day2Change(
        "add-pool", "Add a pool", "dev", "workerPools: + {name: batch, count: 2, serverType: cx33}",
        _add_pool,
        meaning="New servers in their own /24 and spread group; existing nodes untouched (the "
                "block comes from the pool's name, not its position).",
        workloads="Keep running."),
    Day2Change(
        "remove-pool", "Remove a pool", "private-ha", "workerPools: − arm",
        _remove_pool("arm"),
        meaning="Each node of the pool is drained, then its server and the pool's spread group "
                "are deleted; the other pool and the control plane are untouched.",
        workloads="Pods of the pool are evicted and rescheduled elsewhere (if they tolerate "
                  "the remaining nodes: the arm pool's Pods need arm64 nodes)."),
    Day2Change(
        "resize-pool", "Resize a pool's server type", "dev",
        "workerPools[workers].serverType: cx23 → cx33", _set_pool("workers", serverType="cx33"),
        meaning="Refused: the provider resizes in place by powering each server off (hard). "
                "Add a pool with the new type and remove the old one instead. Acknowledged, "
                "each node whose type changes is drained before its server's update "
                "(`<node>-resize-drain`, which the server waits for) and uncordoned once Ready "
                "(`<node>-resize-uncordon`), `maxUnavailable` of the pool at a time (its "
                "rollout slots); the disk grows and cannot be downgraded; addresses stay.",
        workloads="Refused: nothing happens. Acknowledged: Pods of `maxUnavailable` nodes at a "
                  "time are evicted (drain) and rescheduled before each power-off."),
    Day2Change(
        "resize-control-plane", "Resize the control plane's server type", "private-ha",
        "controlPlane.serverType: cx33 → cx43",
        lambda c: _key(c, "controlPlane").update(serverType="cx43"),
        meaning="Refused: without it all three servers would be powered off at once — etcd "
                "loses quorum and the API goes down. Acknowledged, one server at a time: the "
                "first server first (Pulumi cannot run a command through a server before that "
                "server's own update, so it is powered off without a drain while the other two "
                "keep etcd's quorum and the API), then each other server drained, resized, and "
                "waited for until its own API and etcd member answer; the agents' guards find "
                "nothing to do.",
        workloads="Refused: nothing happens. Acknowledged: the API stays up (two of three "
                  "servers); Pods on the first server stop with it and are rescheduled; those "
                  "on the others are evicted (drain) first."),
    Day2Change(
        "add-control-plane-pair", "Add a control-plane pair (1 → 3)", "dev",
        "controlPlane.count: 1 → 3", lambda c: _key(c, "controlPlane").update(count=3),
        meaning="Two servers join one after the other (etcd takes one learner at a time). The "
                "first server is not restarted. The kubeconfig gains their contexts (provider "
                "update) and the Cilium operator goes to 2 replicas (Helm upgrade).",
        workloads="Keep running."),
    Day2Change(
        "enable-api-lb", "Enable the API load balancer", "dev",
        "controlPlane.loadBalancer.enabled: false → true",
        lambda c: _key(c, "controlPlane").update(loadBalancer={"enabled": True}),
        meaning="The LB is created; k3s is re-applied on every node (servers add the LB to "
                "their certificate, agents register through it), servers one at a time, then "
                "the agents, `maxUnavailable` per pool at a time (each holds one of its pool's "
                "rollout slots, a Lease in the cluster, from its drain to its uncordon), each "
                "drained before and uncordoned once Ready; the kubeconfig is re-read. It keeps "
                "the servers' public addresses: a private LB is for joiners.",
        workloads="Pods of the nodes being restarted (one server, `maxUnavailable` agents per "
                  "pool) are evicted and rescheduled (drain); each pool keeps `count - "
                  "maxUnavailable` nodes schedulable."),
    Day2Change(
        "enable-public-api-lb", "Enable the API load balancer with a public interface", "dev",
        "controlPlane.loadBalancer: {enabled: true, publicInterface: true}",
        lambda c: _key(c, "controlPlane").update(
            loadBalancer={"enabled": True, "publicInterface": True}),
        meaning="As above, and the kubeconfig now points at the LB's public address: the "
                "Kubernetes provider is updated, not replaced, because its identity is the "
                "cluster CA (`clusterIdentifier`), not the server address. (The plan warns: "
                "Hetzner firewalls do not cover load balancers.)",
        workloads="As above: drained node by node."),
    Day2Change(
        "cilium-value", "Change a Cilium value", "dev",
        "cilium.values.hubble.relay.enabled: true", _cilium_values,
        meaning="A Helm upgrade of the one Cilium release; agents roll (`rollOutCiliumPods`). "
                "No node is touched.",
        workloads="Keep running; Cilium agents restart one node at a time (the datapath stays "
                  "in the kernel meanwhile)."),
    Day2Change(
        "cilium-patch", "Bump the Cilium patch version", "gateway",
        "cilium.version: 1.20.0 → 1.20.1",
        lambda c: _key(c, "cilium").update(version="1.20.1"),
        meaning="A Helm upgrade of the Cilium release only; the Gateway API CRDs belong to the "
                "line (1.20 → v1.6.0) and stay. (1.20.1 stands for the next patch release.)",
        workloads="Keep running; Cilium agents roll."),
    Day2Change(
        "k3s-version", "Bump k3s.version", "dev", "k3s.version: v1.35.3+k3s1 → v1.35.4+k3s1",
        lambda c: _key(c, "k3s").update(version="v1.35.4+k3s1"),
        meaning="The program upgrades k3s itself: each node's rollout (drain → `-k3s` runs the "
                "pinned installer → uncordon once Ready) runs servers one at a time, then the "
                "agents, at most `maxUnavailable` of a pool at once (its rollout slots); the "
                "kubeconfig is re-read. No server is replaced.",
        workloads="Pods of one node at a time (per pool) are evicted and rescheduled."),
    Day2Change(
        "k3s-version-controller", "Bump k3s.version with the system-upgrade-controller", "dev",
        "k3s.version: v1.35.3+k3s1 → v1.35.4+k3s1 (addons.systemUpgradeController.enabled)",
        lambda c: _key(c, "k3s").update(version="v1.35.4+k3s1"),
        base=lambda c: _key(c, "addons").update(systemUpgradeController={"enabled": True}),
        meaning="Only the two upgrade Plans change; the controller cordons and upgrades the "
                "servers one at a time, then drains and upgrades the agents one at a time. "
                "The program restarts nothing on the nodes: it only takes the pre-change etcd "
                "snapshot first (a node created later installs the new version).",
        workloads="Pods of one agent at a time are evicted and rescheduled (the Plan's drain)."),
    Day2Change(
        "pool-labels", "Edit a pool's labels", "dev",
        "workerPools[workers].labels: + tier: web",
        lambda c: _pool(c, "workers").setdefault("labels", {}).update(tier="web"),
        meaning="Applied through the API (`kubectl label` on the first server) on each node of "
                "the pool; k3s is not restarted (it applies `node-label` only at registration; "
                "new nodes still get it there).",
        workloads="Keep running; Pods whose nodeSelector/affinity now match can be scheduled "
                  "there."),
    Day2Change(
        "pool-taints", "Remove a pool's taint", "private-ha",
        "workerPools[arm].taints: − kubernetes.io/arch=arm64:NoSchedule",
        _set_pool("arm", taints=[]),
        meaning="Removed through the API (`kubectl taint … -`) on each node of the pool; no "
                "restart.",
        workloads="Keep running; Pods without the toleration may now be scheduled there (a "
                  "NoExecute taint added the same way evicts Pods that do not tolerate it)."),
    Day2Change(
        "api-allowed-cidrs", "Change access.apiAllowedCidrs", "dev",
        "access.apiAllowedCidrs: + 198.51.100.0/24",
        lambda c: _key(c, "access")["apiAllowedCidrs"].append("198.51.100.0/24"),
        meaning="One firewall rule updated in place; servers keep the firewall attached.",
        workloads="Keep running."),
    Day2Change(
        "cloud-init-image", "Edit cloud-init-only settings: a pool's image", "dev",
        "workerPools[workers].image: ubuntu-24.04 → debian-12",
        _set_pool("workers", image="debian-12"),
        meaning="User data and image are applied by Hetzner at creation only and ignored "
                "afterwards (`ignoreChanges`): running servers stay; servers created later get "
                "the new image and user data.",
        workloads="Keep running."),
    Day2Change(
        "cloud-init-release", "Edit cloud-init-only settings: a program release", "private-ha",
        "a program release adds an sshd directive to every server's user data",
        simulate=_new_sshd_directive,
        meaning="Same: no running server (bastion included) is replaced or rebooted.",
        workloads="Keep running."),
    Day2Change(
        "rotate-k3s-token", "Rotate the k3s token", "private-ha",
        "no config key: a new cluster token (pulumi up --replace on <cluster>-cluster-token)",
        simulate=_new_cluster_token,
        meaning="The design has no rotation: the token has no keepers and never changes by "
                "itself. A new value is re-staged and the first server's rollout starts "
                "(drained); k3s refuses a token its datastore was not encrypted with "
                "(\"bootstrap data already found and encrypted with different token\", "
                "k3s-io/k3s#4640), the health check fails, `apply-k3s.sh` rolls the files back "
                "and `pulumi up` stops there, the first server cordoned; no other node is "
                "touched. (The RandomPassword itself is replaced too; the offline diff cannot "
                "show it, its inputs do not change.) A manual `k3s token rotate` "
                "(docs.k3s.io/cli/token) would leave the stack holding the old token for later "
                "joiners: not supported either.",
        workloads="Pods of the first server are evicted before the failed restart; everything "
                  "else keeps running. Uncordon it by hand (`kubectl uncordon`)."),
    Day2Change(
        "network-cidr", "Change network.cidr", "dev", "network.cidr: 10.0.0.0/16 → 10.1.0.0/16",
        lambda c: _key(c, "network").update(cidr="10.1.0.0/16"),
        meaning="Refused. Acknowledged, the network and its subnet are replaced (`ip_range` "
                "cannot change) and every node is re-addressed while etcd and the kubelets "
                "still use the old addresses.",
        workloads="Refused: nothing happens. Acknowledged: the cluster network breaks; expect "
                  "an outage."),
    Day2Change(
        "private-only", "Leave private-only mode", "private-ha",
        "network.privateOnly: true → false",
        lambda c: _key(c, "network").update(privateOnly=False),
        meaning="Refused: every node gains public addresses (servers powered off to attach "
                "them) and k3s is re-applied with new node addresses.",
        workloads="Refused: nothing happens. Acknowledged: every node restarts; expect an "
                  "outage."),
    Day2Change(
        "rename-cluster", "Rename the cluster", "dev", "clusterName: dev → dev2",
        lambda c: c.update({PREFIX + "clusterName": "dev2"}),
        meaning="Refused: every resource is named after it; acknowledged, a second cluster is "
                "built and the running one deleted.",
        workloads="Refused: nothing happens. Acknowledged: every workload is deleted with the "
                  "old cluster."),
    Day2Change(
        "pool-location", "Move a pool to another location", "dev",
        "workerPools[workers].location: nbg1 → fsn1", _set_pool("workers", location="fsn1"),
        meaning="Refused: the servers would be replaced in place under the same name and "
                "address, which Hetzner refuses while the old ones exist. Add a pool in the new "
                "location and remove the old one.",
        workloads="Refused: nothing happens."),
    Day2Change(
        "hardening", "Turn k3s.hardening on for a running cluster", "dev",
        "k3s.hardening.enabled: false → true",
        lambda c: _key(c, "k3s").update(hardening={"enabled": True}),
        meaning="Refused: it switches secrets encryption on a datastore that holds secrets and "
                "imposes the restricted Pod Security level on running workloads.",
        workloads="Refused: nothing happens. Acknowledged: Pods that violate `restricted` "
                  "are rejected when they are recreated."),
)
BY_KEY = {change.key: change for change in CHANGES}


@dataclass
class Day2Matrix:
    """Plans every change once; base plans are shared by the changes on the same stack."""

    workdir: Path
    """Where the edited stack files are written (one folder per plan)."""
    _bases: dict[tuple[str, str], Plan] = field(default_factory=dict)
    _afters: dict[str, Plan] = field(default_factory=dict)
    _refusals: dict[str, DestructiveEditError] = field(default_factory=dict)

    def base_config(self, change: Day2Change) -> Config:
        config = example_config(change.stack)
        change.base(config)
        return config

    def before(self, change: Day2Change) -> Plan:
        base = yaml.safe_dump(self.base_config(change))
        if (change.stack, base) not in self._bases:
            label = f"base-{len(self._bases)}"
            self._bases[(change.stack, base)] = self._plan(change.stack, label,
                                                           self.base_config(change))
        return self._bases[(change.stack, base)]

    def after(self, change: Day2Change) -> Plan:
        if change.key not in self._afters:
            config = self.base_config(change)
            change.edit(config)
            previous = {name: out.value for name, out in self.before(change).outputs.items()}
            with change.simulate() if change.simulate else contextlib.nullcontext():
                try:
                    plan = self._plan(change.stack, change.key, config, previous)
                except DestructiveEditError as refusal:
                    self._refusals[change.key] = refusal
                    config[PREFIX + "acknowledge"] = refusal.acknowledgements
                    plan = self._plan(change.stack, change.key, config, previous)
            self._afters[change.key] = plan
        return self._afters[change.key]

    def refusal(self, change: Day2Change) -> DestructiveEditError | None:
        """The program's refusal of the edit on the running cluster, if it refuses it."""
        self.after(change)
        return self._refusals.get(change.key)

    def diff(self, change: Day2Change, *, preview: bool = False) -> PlanDiff:
        return diff_plans(self.before(change), self.after(change), preview=preview)

    def _plan(self, stack: str, label: str, config: Config,
              previous: dict[str, Any] | None = None) -> Plan:
        directory = self.workdir / label
        directory.mkdir(parents=True, exist_ok=True)
        stack_file = directory / f"Pulumi.{stack}.yaml"
        stack_file.write_text(yaml.safe_dump({"config": config}, sort_keys=False))
        return run_program(PROJECT_DIR, load_stack_config(PROJECT_DIR, stack_file, stack),
                           previous)


COMMAND_TYPE = "command:remote:Command"
NODE_TYPE = "k3s-hcloud:bootstrap:K3sNode"


@dataclass(frozen=True)
class RestartBounds:
    """How a plan bounds the k3s restarts of running nodes, read from what it registers."""

    servers_in_sequence: bool
    """Each server's drain waits for the previous server's uncordon (one at a time)."""
    agent_slots: dict[str, int]
    """Pool → how many of its nodes restart at once (the rollout slots its drains take)."""
    unbounded: list[str]
    """Nodes whose restart nothing bounds: a server out of the sequence, an agent whose drain
    takes no slot of its pool."""


def slot_settings(command_line: str) -> dict[str, str]:
    """The rollout-slot environment of a drain's command line (empty: it takes no slot)."""
    words = shlex.split(command_line)
    if "STEP=acquire" not in words:
        return {}
    settings = {}
    for word in words[words.index("STEP=acquire"):]:
        key, sep, value = word.partition("=")
        if sep and key in ("LOCK_POOL", "LOCK_SLOTS") and key not in settings:
            settings[key] = value
    return settings


def restart_bounds(plan: Plan, nodes: Sequence[str]) -> RestartBounds:
    """The bounds on restarting ``nodes`` (keys): servers chained in the order of the plan,
    agents through their pool's rollout slots (components/bootstrap/rollout.py)."""
    commands = {r.name: r for r in plan.by_type(COMMAND_TYPE)}
    roles = {r.name: r.inputs.get("role") for r in plan.by_type(NODE_TYPE)}
    servers = [name for name, role in roles.items() if role == "server"]
    unbounded: list[str] = []
    in_sequence = True
    for earlier, later in zip(servers, servers[1:]):
        if commands[f"{earlier}-uncordon"].urn not in commands[f"{later}-drain"].dependencies:
            in_sequence = False
            if later in nodes:
                unbounded.append(later)
    slots: dict[str, int] = {}
    for name in nodes:
        if roles.get(name) != "agent":
            continue
        settings = slot_settings(str(commands[f"{name}-drain"].inputs.get("create", "")))
        if not settings:
            unbounded.append(name)
            continue
        pool, count = settings["LOCK_POOL"], int(settings["LOCK_SLOTS"])
        slots[pool] = max(count, slots.get(pool, 0))
    return RestartBounds(in_sequence, dict(sorted(slots.items())), sorted(unbounded))


def verdict(matrix: Day2Matrix, change: Day2Change) -> str:
    """One line a reader acts on, measured from the plans (never typed per change)."""
    refusal = matrix.refusal(change)
    if refusal is not None:
        keys = ", ".join(sorted({problem.key for problem in refusal.problems}))
        return f"refused on a running cluster ({keys}) unless acknowledged: " + \
            ", ".join(f"`{a}`" for a in refusal.acknowledgements)
    diff = matrix.diff(change)
    restarted = sorted({c.name.rsplit("-", 1)[0] for c in diff.commands_run()
                        if c.name.endswith("-k3s") and c.kind != "create"})
    if restarted:
        bounds = restart_bounds(matrix.after(change), restarted)
        if bounds.unbounded:
            return (f"UNBOUNDED: k3s restarts on {len(restarted)} node(s), of which "
                    f"{', '.join(bounds.unbounded)} at once with others")
        pools = ", ".join(f"`{pool}` {count} at a time" for pool, count in
                          bounds.agent_slots.items())
        return (f"rolling: k3s restarts on {len(restarted)} node(s), drained — servers one at a "
                "time" + (f", then agents per pool ({pools})" if pools else ""))
    if diff.actions():
        return "no running node restarts"
    return "nothing changes on running servers"


def example_config(stack: str) -> Config:
    """The ``config:`` mapping of an example stack file."""
    document = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())
    return copy.deepcopy(document["config"])
