"""The common day-2 changes, each planned before and after on an example stack and diffed.

Shared by the blast-radius test matrix (``tests/test_day2.py``, which asserts each change's exact
effect) and the "Day-2 operations" table of docs/day2.md (``bench/day2_matrix.py``, which renders the
measured effects). A change is a stack-config edit; the two that no config key expresses — a
program release that edits every server's user data, and a new k3s token — are simulated by
patching what the program or the mocked provider produces.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml

from components.infrastructure import cloud_init
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
    """What the measured effect means on a running cluster (for docs/day2.md)."""


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
        meaning="One new server joins (boot → secrets → k3s, then registered). Nothing else is "
                "touched."),
    Day2Change(
        "remove-worker", "Remove a worker", "dev", "workerPools[workers].count: 2 → 1",
        _set_pool("workers", count=1),
        meaning="The highest-numbered node is drained and deleted from Kubernetes "
                "(`-membership` delete) before its server is destroyed."),
    Day2Change(
        "add-pool", "Add a pool", "dev", "workerPools: + {name: batch, count: 2, serverType: cx33}",
        _add_pool,
        meaning="New servers in their own /24 and spread group; existing nodes untouched (the "
                "block comes from the pool's name, not its position)."),
    Day2Change(
        "remove-pool", "Remove a pool", "private-ha", "workerPools: − arm",
        _remove_pool("arm"),
        meaning="Each node of the pool is drained, then its server and the pool's spread group "
                "are deleted; the other pool and the control plane are untouched."),
    Day2Change(
        "resize-pool", "Resize a pool's server type", "dev",
        "workerPools[workers].serverType: cx23 → cx33", _set_pool("workers", serverType="cx33"),
        meaning="Updated in place: Hetzner changes a server's type only while it is off, so "
                "the provider powers each server off, changes it and starts it again — every "
                "server of the pool at once, without a drain (cordon and drain first, or add "
                "a new pool and remove the old one). The disk grows with the type (no "
                "`keep_disk`), so it cannot be downgraded later; addresses stay."),
    Day2Change(
        "add-control-plane-pair", "Add a control-plane pair (1 → 3)", "dev",
        "controlPlane.count: 1 → 3", lambda c: _key(c, "controlPlane").update(count=3),
        meaning="Two servers join one after the other (etcd takes one learner at a time). The "
                "first server is not restarted. The kubeconfig gains their contexts (provider "
                "update) and the Cilium operator goes to 2 replicas (Helm upgrade)."),
    Day2Change(
        "enable-api-lb", "Enable the API load balancer", "dev",
        "controlPlane.loadBalancer.enabled: false → true",
        lambda c: _key(c, "controlPlane").update(loadBalancer={"enabled": True}),
        meaning="The LB is created; k3s is re-applied on every node (servers add the LB to "
                "their certificate, agents register through it: k3s restarts, pods keep "
                "running) and the kubeconfig is re-read. It keeps the servers' public "
                "addresses: a private LB is for joiners."),
    Day2Change(
        "enable-public-api-lb", "Enable the API load balancer with a public interface", "dev",
        "controlPlane.loadBalancer: {enabled: true, publicInterface: true}",
        lambda c: _key(c, "controlPlane").update(
            loadBalancer={"enabled": True, "publicInterface": True}),
        meaning="As above, and the kubeconfig now points at the LB's public address: the "
                "Kubernetes provider is updated, not replaced, because its identity is the "
                "cluster CA (`clusterIdentifier`), not the server address. (The plan warns: "
                "Hetzner firewalls do not cover load balancers.)"),
    Day2Change(
        "cilium-value", "Change a Cilium value", "dev",
        "cilium.values.hubble.relay.enabled: true", _cilium_values,
        meaning="A Helm upgrade of the one Cilium release; agents roll (`rollOutCiliumPods`). "
                "No node is touched."),
    Day2Change(
        "cilium-patch", "Bump the Cilium patch version", "gateway",
        "cilium.version: 1.20.0 → 1.20.1",
        lambda c: _key(c, "cilium").update(version="1.20.1"),
        meaning="A Helm upgrade of the Cilium release only; the Gateway API CRDs belong to the "
                "line (1.20 → v1.6.0) and stay. (1.20.1 stands for the next patch release.)"),
    Day2Change(
        "k3s-version", "Bump k3s.version", "dev", "k3s.version: v1.35.3+k3s1 → v1.35.4+k3s1",
        lambda c: _key(c, "k3s").update(version="v1.35.4+k3s1"),
        meaning="In-place upgrade: each node's `-k3s` step runs the pinned installer again "
                "(servers one at a time, then agents), and the kubeconfig is re-read. No server "
                "is replaced."),
    Day2Change(
        "api-allowed-cidrs", "Change access.apiAllowedCidrs", "dev",
        "access.apiAllowedCidrs: + 198.51.100.0/24",
        lambda c: _key(c, "access")["apiAllowedCidrs"].append("198.51.100.0/24"),
        meaning="One firewall rule updated in place; servers keep the firewall attached."),
    Day2Change(
        "cloud-init-image", "Edit cloud-init-only settings: a pool's image", "dev",
        "workerPools[workers].image: ubuntu-24.04 → debian-12",
        _set_pool("workers", image="debian-12"),
        meaning="User data and image are applied by Hetzner at creation only and ignored "
                "afterwards (`ignoreChanges`): running servers stay; servers created later get "
                "the new image and user data."),
    Day2Change(
        "cloud-init-release", "Edit cloud-init-only settings: a program release", "private-ha",
        "a program release adds an sshd directive to every server's user data",
        simulate=_new_sshd_directive,
        meaning="Same: no running server (bastion included) is replaced or rebooted."),
    Day2Change(
        "rotate-k3s-token", "Rotate the k3s token", "private-ha",
        "no config key: a new cluster token (pulumi up --replace on <cluster>-cluster-token)",
        simulate=_new_cluster_token,
        meaning="The design has no rotation: the token has no keepers and never changes by "
                "itself. A new value is re-staged and k3s re-applied on every server, first "
                "server first; k3s refuses a token its datastore was not encrypted with "
                "(\"bootstrap data already found and encrypted with different token\", "
                "k3s-io/k3s#4640), the health check fails, `apply-k3s.sh` rolls the files back "
                "and `pulumi up` stops there; agents are not touched. (The RandomPassword "
                "itself is replaced too; the offline diff cannot show it, its inputs do not "
                "change.) A manual `k3s token rotate` (docs.k3s.io/cli/token) would leave the "
                "stack holding the old token for later joiners: not supported either."),
)
BY_KEY = {change.key: change for change in CHANGES}


@dataclass
class Day2Matrix:
    """Plans every change once; base plans are shared by the changes on the same stack."""

    workdir: Path
    """Where the edited stack files are written (one folder per plan)."""
    _bases: dict[str, Plan] = field(default_factory=dict)
    _afters: dict[str, Plan] = field(default_factory=dict)

    def before(self, change: Day2Change) -> Plan:
        if change.stack not in self._bases:
            self._bases[change.stack] = self._plan(change.stack, "base",
                                                   example_config(change.stack))
        return self._bases[change.stack]

    def after(self, change: Day2Change) -> Plan:
        if change.key not in self._afters:
            config = example_config(change.stack)
            change.edit(config)
            with change.simulate() if change.simulate else contextlib.nullcontext():
                self._afters[change.key] = self._plan(change.stack, change.key, config)
        return self._afters[change.key]

    def diff(self, change: Day2Change, *, preview: bool = False) -> PlanDiff:
        return diff_plans(self.before(change), self.after(change), preview=preview)

    def _plan(self, stack: str, label: str, config: Config) -> Plan:
        directory = self.workdir / label
        directory.mkdir(parents=True, exist_ok=True)
        stack_file = directory / f"Pulumi.{stack}.yaml"
        stack_file.write_text(yaml.safe_dump({"config": config}, sort_keys=False))
        return run_program(PROJECT_DIR, load_stack_config(PROJECT_DIR, stack_file, stack))


def example_config(stack: str) -> Config:
    """The ``config:`` mapping of an example stack file."""
    document = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())
    return copy.deepcopy(document["config"])
