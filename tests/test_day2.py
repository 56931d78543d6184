"""Blast radius of the common day-2 changes: each one's exact, minimal effect.

Each change of ``tools.lib.day2_changes`` is planned on its example stack before and after and
diffed as ``pulumi up`` applies it, as an update of the running cluster (the program reads the
"before" plan's outputs back). The expectation lists every custom resource created, updated
(with the changed input paths), replaced (with why) and deleted; anything more is a regression
in day-2 safety. Remote commands that are "replaced" by changed triggers run their script
again (the rollout: drain → ``-k3s``, idempotent: compare, back up, restart, roll back →
uncordon); no applied change replaces a server. Destructive changes are refused, naming their
key. docs/day2.md's tables are rendered from the same diffs (checked at the end).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bench.day2_matrix import DAY2_PAGE, page_block, render_matrix
from components.bootstrap.node import ROLLOUT
from tools.lib.day2_changes import (
    BY_KEY,
    CHANGES,
    Day2Matrix,
    restart_bounds,
    slot_settings,
    verdict,
)
from tools.lib.engine import Plan
from tools.lib.plan_diff import PlanDiff, readdressed_servers

SERVER = "hcloud:index/server:Server"
K8S_PROVIDER = "pulumi:providers:kubernetes"
TRIGGERS = ["provider: triggers"]




def rollout_steps(key: str) -> tuple[str, ...]:
    """The steps a restart re-runs: agents first wait for the servers' release."""
    return ROLLOUT if "-cp-" in key else ("servers-at", *ROLLOUT)


def node(key: str) -> list[str]:
    """A node's custom resources: server, host key and its bootstrap commands."""
    return [key, f"{key}-host-key", f"{key}-boot", f"{key}-pod-route", f"{key}-secrets", f"{key}-registration",
            *(f"{key}-{step}" for step in rollout_steps(key))]


def joiner(key: str, agent: bool = True) -> list[str]:
    return node(key) + [f"{key}-membership"] + ([f"{key}-node-metadata"] if agent else [])


def rolled(*keys: str) -> dict[str, list[str]]:
    """Each node's rollout re-run: (servers-at,) drain, k3s, uncordon replaced by their
    triggers."""
    return {f"{key}-{step}": TRIGGERS for key in keys for step in rollout_steps(key)}


DEV_NODES = ("dev-cp-1", "dev-workers-1", "dev-workers-2")
NODES_RE_APPLIED = rolled(*DEV_NODES)
# The API load balancer, the server's answer to its readiness check and the wait until it routes.
API_LB = ["dev-cp-api", "dev-cp-api-network", "dev-cp-api-6443", "dev-cp-api-target-1",
          "dev-cp-1-api-readiness", "dev-api-routes"]
METADATA = ["create", "update"]

EXPECTED: dict[str, dict[str, Any]] = {
    "add-worker": {"create": joiner("dev-workers-3")},
    "remove-worker": {"delete": joiner("dev-workers-2")},
    "add-pool": {"create": joiner("dev-batch-1") + joiner("dev-batch-2") + ["dev-batch-pg-1"]},
    "remove-pool": {"delete": joiner("prod-arm-1") + joiner("prod-arm-2") + ["prod-arm-pg-1"]},
    "resize-pool": {"refused": ["workerPools[workers].serverType"]},
    "resize-control-plane": {"refused": ["controlPlane.serverType"]},
    "add-control-plane-pair": {
        # Each joining server's k3s step waits for a snapshot; so do the new memberships.
        "create": joiner("dev-cp-2", agent=False) + joiner("dev-cp-3", agent=False) + [
            "dev-cp-2-etcd-snapshot", "dev-cp-3-etcd-snapshot", "dev-etcd-snapshot-members"],
        # The kubeconfig gains the new servers' contexts; the operator gets a second replica.
        "update": {"dev-k8s": ["kubeconfig"], "dev-cilium": ["values.operator.replicas"]},
    },
    "enable-api-lb": {
        "create": API_LB,
        # Servers: the LB joins tls-san; agents: they register through the LB. The reader
        # re-reads k3s.yaml after the first server's restart; the kubeconfig keeps the servers'
        # public addresses (a private LB serves joiners), so the provider is untouched.
        "replace": {**NODES_RE_APPLIED, "dev-kubeconfig": TRIGGERS},
    },
    "enable-public-api-lb": {
        "create": API_LB,
        "replace": {**NODES_RE_APPLIED, "dev-kubeconfig": TRIGGERS},
        # A new server address, same cluster: an update thanks to clusterIdentifier.
        "update": {"dev-k8s": ["kubeconfig"]},
    },
    "cilium-value": {"update": {"dev-cilium": ["values.hubble"]}},
    "cilium-patch": {"update": {"web-cilium": ["version"]}},
    # The upgrade of the (only) server is preceded by a snapshot named after it.
    "k3s-version": {"replace": {**NODES_RE_APPLIED, "dev-kubeconfig": TRIGGERS,
                                "dev-cp-1-etcd-snapshot": TRIGGERS}},
    # With the controller the Plans change and nothing restarts: the only command is the
    # pre-change etcd snapshot (k3s etcd-snapshot save), taken before the Plans change.
    "k3s-version-controller": {"update": {"dev-k3s-server-plan": ["spec.version"],
                                          "dev-k3s-agent-plan": ["spec.version"]},
                               "replace": {"dev-cp-1-etcd-snapshot": TRIGGERS}},
    "pool-labels": {"update": {
        **{f"dev-workers-{n}-registration": ["stdin"] for n in (1, 2)},
        **{f"dev-workers-{n}-node-metadata": METADATA for n in (1, 2)}}},
    "pool-taints": {"update": {
        **{f"prod-arm-{n}-registration": ["stdin"] for n in (1, 2)},
        **{f"prod-arm-{n}-node-metadata": METADATA for n in (1, 2)}}},
    "api-allowed-cidrs": {"update": {"dev-firewall-nodes": ["rules[1].sourceIps"]}},
    "cloud-init-image": {},
    "cloud-init-release": {},
    "rotate-k3s-token": {
        "update": {f"prod-cp-{n}-secrets": ["stdin"] for n in (1, 2, 3)},
        "replace": rolled("prod-cp-1", "prod-cp-2", "prod-cp-3"),
    },
    "network-cidr": {"refused": ["network.cidr"]},
    "private-only": {"refused": ["network.privateOnly"]},
    "rename-cluster": {"refused": ["clusterName"]},
    "pool-location": {"refused": ["workerPools[workers].location"]},
    "hardening": {"refused": ["k3s.hardening.enabled"]},
}
REFUSED = sorted(key for key, expected in EXPECTED.items() if "refused" in expected)
APPLIED = [change.key for change in CHANGES if change.key not in REFUSED]


def effect(diff: PlanDiff) -> dict[str, Any]:
    """Custom resources only: components hold no provider state."""
    found: dict[str, Any] = {}
    for change in diff.actions():
        if change.kind in ("create", "delete"):
            found.setdefault(change.kind, []).append(change.name)
        elif change.kind == "update":
            found.setdefault("update", {})[change.name] = change.changed_paths
        else:
            found.setdefault("replace", {})[change.name] = change.replace_reasons
    for kind in ("create", "delete"):
        if kind in found:
            found[kind] = sorted(found[kind])
    return found


def normalised(expected: dict[str, Any]) -> dict[str, Any]:
    return {kind: sorted(value) if isinstance(value, list) else value
            for kind, value in expected.items() if value}


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Day2Matrix:
    return Day2Matrix(tmp_path_factory.mktemp("day2"))


def test_every_change_has_an_expectation() -> None:
    assert set(EXPECTED) == set(BY_KEY)


@pytest.mark.parametrize("key", APPLIED)
def test_each_change_has_exactly_its_minimal_effect(matrix: Day2Matrix, key: str) -> None:
    assert matrix.refusal(BY_KEY[key]) is None
    assert effect(matrix.diff(BY_KEY[key])) == normalised(EXPECTED[key])


@pytest.mark.parametrize("key", REFUSED)
def test_each_destructive_change_is_refused_on_the_running_cluster(matrix: Day2Matrix,
                                                                   key: str) -> None:
    refusal = matrix.refusal(BY_KEY[key])
    assert refusal is not None, f"{key} must be refused without its acknowledgement"
    assert sorted({p.key for p in refusal.problems}) == EXPECTED[key]["refused"]
    assert verdict(matrix, BY_KEY[key]).startswith("refused on a running cluster")


@pytest.mark.parametrize("key", APPLIED)
def test_no_change_replaces_a_server_or_the_kubernetes_provider(matrix: Day2Matrix,
                                                                key: str) -> None:
    for preview in (False, True):
        replaced = {c.type for c in matrix.diff(BY_KEY[key], preview=preview).replaced}
        assert not replaced & {SERVER, K8S_PROVIDER}, (key, preview)


@pytest.mark.parametrize("key", APPLIED)
def test_a_preview_shows_no_replacement_that_pulumi_up_would_not_do(matrix: Day2Matrix,
                                                                    key: str) -> None:
    change = BY_KEY[key]
    applied = {c.urn for c in matrix.diff(change).replaced}
    assert {c.urn for c in matrix.diff(change, preview=True).replaced} == applied


def test_removed_nodes_are_drained_and_nothing_else_runs(matrix: Day2Matrix) -> None:
    for key, drained in (("remove-worker", ["dev-workers-2-membership"]),
                         ("remove-pool", ["prod-arm-1-membership", "prod-arm-2-membership"])):
        runs = {c.name: c.scripts for c in matrix.diff(BY_KEY[key]).commands_run()}
        assert runs == {name: ("delete",) for name in drained}, key


def test_a_k3s_upgrade_re_runs_the_installer_on_every_node_and_nothing_else(
        matrix: Day2Matrix) -> None:
    diff = matrix.diff(BY_KEY["k3s-version"])
    runs = {c.name: c.scripts for c in diff.commands_run()}
    assert runs == {name: ("create",) for name in [*NODES_RE_APPLIED, "dev-kubeconfig",
                                                   "dev-cp-1-etcd-snapshot"]}
    assert all(c.changed_paths == ["create", "triggers[1]"]
               for c in diff.replaced if c.name.endswith("-k3s"))
    assert verdict(matrix, BY_KEY["k3s-version"]).startswith("rolling: k3s restarts on 3 node(s)")


def test_a_k3s_upgrade_preview_updates_the_provider_without_replacing_anything_in_the_cluster(
        matrix: Day2Matrix) -> None:
    # The re-read kubeconfig is unknown in a preview; without clusterIdentifier that alone
    # would show every Helm release as replaced.
    preview = matrix.diff(BY_KEY["k3s-version"], preview=True)
    assert {c.name: c.kind for c in preview.actions() if not c.scripts} == {"dev-k8s": "update"}


@pytest.mark.parametrize("key, servers", [("cloud-init-image", {"dev-workers-1", "dev-workers-2"}),
                                          ("cloud-init-release", None)])
def test_cloud_init_edits_reach_the_plan_but_no_running_server(matrix: Day2Matrix, key: str,
                                                               servers: set[str] | None) -> None:
    change = BY_KEY[key]
    before = {r.name: r.plain_inputs() for r in matrix.before(change).by_type(SERVER)}
    after = {r.name: r.plain_inputs() for r in matrix.after(change).by_type(SERVER)}
    edited = {name for name in after if after[name]["userData"] != before[name]["userData"]}
    assert edited == (servers or set(after)) and edited, "the edit must reach user data"
    assert matrix.diff(change).changes == []


def test_with_the_upgrade_controller_a_version_bump_runs_nothing_on_the_nodes(
        matrix: Day2Matrix) -> None:
    change = BY_KEY["k3s-version-controller"]
    for preview in (False, True):
        runs = [c.name for c in matrix.diff(change, preview=preview).commands_run()]
        assert runs == ["dev-cp-1-etcd-snapshot"], (preview, runs)
    # ... and the Plans exist only with the controller: never both upgrade paths.
    plain = matrix.after(BY_KEY["k3s-version"])
    assert not [r for r in plain.resources if r.name.endswith("-plan")]


def test_labels_and_taints_never_restart_k3s(matrix: Day2Matrix) -> None:
    for key in ("pool-labels", "pool-taints"):
        runs = {c.name for c in matrix.diff(BY_KEY[key]).commands_run()}
        assert runs and not [name for name in runs if name.rsplit("-", 1)[1] in ROLLOUT], key


def test_acknowledged_network_change_shows_the_replacement_and_the_re_addressing(
        matrix: Day2Matrix) -> None:
    change = BY_KEY["network-cidr"]
    replaced = {c.name for c in matrix.diff(change).replaced}
    assert {"dev-network", "dev-network-subnet"} <= replaced
    assert readdressed_servers(matrix.before(change), matrix.after(change)) == {
        name: ["private"] for name in DEV_NODES}


def test_the_day2_page_shows_the_measured_matrix(matrix: Day2Matrix) -> None:
    assert page_block(DAY2_PAGE.read_text()) == render_matrix(matrix), \
        "docs/day2.md's day-2 table is stale: run python bench/day2_matrix.py"


RESTARTS = ["enable-api-lb", "enable-public-api-lb", "k3s-version", "rotate-k3s-token"]


@pytest.mark.parametrize("key", RESTARTS)
def test_every_restart_of_running_nodes_is_bounded(matrix: Day2Matrix, key: str) -> None:
    """Servers one at a time (the plan's order), agents through their pool's rollout slots."""
    diff = matrix.diff(BY_KEY[key])
    restarted = sorted({c.name.removesuffix("-k3s") for c in diff.replaced
                        if c.name.endswith("-k3s")})
    bounds = restart_bounds(matrix.after(BY_KEY[key]), restarted)
    assert restarted and bounds.unbounded == [] and bounds.servers_in_sequence, key
    agents = [name for name in restarted if "-cp-" not in name]
    assert bounds.agent_slots == ({"workers": 1} if agents else {}), key
    assert verdict(matrix, BY_KEY[key]).startswith("rolling: k3s restarts on")


def _without_slot(plan: Plan, node: str) -> Plan:
    """The plan as if ``node``'s drain took no slot (its create is a bare drain)."""
    def strip(resource):
        if resource.name != f"{node}-drain":
            return resource
        create = resource.inputs["create"]
        bare = create[create.index("&& { ") + 5:create.index(" || {")]
        return dataclasses.replace(resource, inputs={**resource.inputs, "create": bare})
    return dataclasses.replace(plan, resources=[strip(r) for r in plan.resources])


def test_an_agent_whose_drain_takes_no_slot_is_reported_unbounded(matrix: Day2Matrix) -> None:
    after = matrix.after(BY_KEY["k3s-version"])
    nodes = ["dev-cp-1", "dev-workers-1", "dev-workers-2"]
    assert restart_bounds(after, nodes).unbounded == []
    assert restart_bounds(_without_slot(after, "dev-workers-2"), nodes).unbounded == [
        "dev-workers-2"]


def _resize_steps(plan: Plan) -> dict[str, Any]:
    return {r.name: r for r in plan.resources
            if r.name.endswith(("-resize-drain", "-resize-uncordon"))}


@pytest.mark.parametrize("key", ["resize-pool", "resize-control-plane"])
def test_a_resize_has_no_guard_without_its_acknowledgement(matrix: Day2Matrix, key: str) -> None:
    assert _resize_steps(matrix.before(BY_KEY[key])) == {}


def test_an_acknowledged_pool_resize_drains_each_node_before_its_power_off(
        matrix: Day2Matrix) -> None:
    after = matrix.after(BY_KEY["resize-pool"])
    steps = _resize_steps(after)
    for n in (1, 2):
        node = f"dev-workers-{n}"
        server = after.get(SERVER, node)
        drain, back = steps[f"{node}-resize-drain"], steps[f"{node}-resize-uncordon"]
        # The server's update waits for the drain; the uncordon waits for the update.
        assert drain.urn in server.dependencies and server.urn in back.dependencies
        assert drain.plain_inputs()["triggers"] == ["cx33"] == back.plain_inputs()["triggers"]
        create = drain.plain_inputs()["create"]
        assert "SERVER_TYPE=cx33" in create and "resize-node.sh" in create
        # A pool's resize is bounded like its restarts: one rollout slot (maxUnavailable 1).
        assert slot_settings(create) == {"LOCK_POOL": "workers", "LOCK_SLOTS": "1"}
        # After the control plane's guards (the only server: its uncordon step).
        assert steps["dev-cp-1-resize-uncordon"].urn in drain.dependencies
    # Public mode: the first server is reached on its own address, an output of the server
    # being updated, so nothing can drain it before its update.
    assert "dev-cp-1-resize-drain" not in steps
    effect_of = effect(matrix.diff(BY_KEY["resize-pool"]))
    assert effect_of["update"] == {"dev-workers-1": ["serverType"],
                                   "dev-workers-2": ["serverType"]}


def test_an_acknowledged_control_plane_resize_goes_one_server_at_a_time(
        matrix: Day2Matrix) -> None:
    after = matrix.after(BY_KEY["resize-control-plane"])
    steps = _resize_steps(after)
    servers = [after.get(SERVER, f"prod-cp-{n}") for n in (1, 2, 3)]
    # Private mode: every server, the first included, is drained before its update (reached
    # on its planned address through the bastion, not an output of the server itself).
    for server in servers:
        drain = steps[f"{server.name}-resize-drain"]
        assert drain.urn in server.dependencies
        assert slot_settings(drain.plain_inputs()["create"]) == {}, "servers take no slot"
        assert server.urn not in drain.dependencies
    for earlier, later in zip(servers, servers[1:]):
        drain = steps[f"{later.name}-resize-drain"]
        assert steps[f"{earlier.name}-resize-uncordon"].urn in drain.dependencies
    for server in servers:
        back = steps[f"{server.name}-resize-uncordon"]
        assert server.urn in back.dependencies
        assert "STEP=await-api" in back.plain_inputs()["create"], "etcd member back first"
    # Agents' guards wait for the last server; their types do not change, so their scripts
    # find nothing pending at run time.
    assert steps["prod-cp-3-resize-uncordon"].urn in steps["prod-arm-1-resize-drain"].dependencies
    updated = effect(matrix.diff(BY_KEY["resize-control-plane"]))["update"]
    assert updated == {f"prod-cp-{n}": ["serverType"] for n in (1, 2, 3)}


def test_a_server_out_of_the_sequence_is_reported_unbounded(matrix: Day2Matrix) -> None:
    after = matrix.after(BY_KEY["rotate-k3s-token"])
    servers = ["prod-cp-1", "prod-cp-2", "prod-cp-3"]
    assert restart_bounds(after, servers).servers_in_sequence
    previous = after.get("command:remote:Command", "prod-cp-2-uncordon").urn

    def unchain(resource):
        if resource.name != "prod-cp-3-drain":
            return resource
        return dataclasses.replace(resource, dependencies=[
            urn for urn in resource.dependencies if urn != previous])

    loose = dataclasses.replace(after, resources=[unchain(r) for r in after.resources])
    bounds = restart_bounds(loose, servers)
    assert not bounds.servers_in_sequence and bounds.unbounded == ["prod-cp-3"]
