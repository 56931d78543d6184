"""The benchmarks' own correctness (not their timings): the floor is a fair comparison, the
critical-path bench reports what the graph says."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bench.critical_path import plan_for
from bench.sizes import private_cluster
from bench.floor import write_floor_program
from bench.latency_model import STEPS, first_server_commands, latency_for, step_of
from bench.plan_cost import linear_fit
from tests.helpers import EXAMPLE_STACKS, plan_config, plan_example
from tools.lib.critical_path import longest_chain
from tools.lib.engine import run_program
from tools.lib.stack_files import StackConfig


def _options_as_sets(options: dict) -> dict:
    # A typed SDK class adds its own replaceOnChanges/additionalSecretOutputs entries to what it
    # is given, so the floor's lists repeat them: compare what is asked for, not how often.
    return {k: sorted(set(v)) if isinstance(v, list) else v for k, v in options.items()}


def test_the_floor_registers_the_program_as_the_program_does(tmp_path: Path) -> None:
    """Same resources, typed classes, edges, secret inputs and options: only the logic is gone."""
    plan = plan_example("private-ha")
    floor = run_program(write_floor_program(plan, tmp_path / "floor"),
                        StackConfig(plan.stack, plan.project))
    ours = {(r.type, r.name): r for r in plan.resources}
    theirs = {(r.type, r.name): r for r in floor.resources}
    assert theirs.keys() == ours.keys()
    assert floor.outputs["typedResources"].value == sum(r.custom for r in plan.resources)
    for key, resource in ours.items():
        copy = theirs[key]
        assert copy.custom == resource.custom and copy.parent == resource.parent, key
        assert copy.dependencies == resource.dependencies, key
        assert copy.secret_input_paths() == resource.secret_input_paths(), key
        assert copy.plain_inputs() == resource.plain_inputs(), key
        assert copy.provider_urn == resource.provider_urn, key
        assert _options_as_sets(copy.options) == _options_as_sets(resource.options), key
    # The comparison covers real edges and secrets, not an empty shell.
    assert sum(len(r.dependencies) for r in plan.resources) > 100
    assert sum(len(r.secret_input_paths()) for r in plan.resources) > 10
    # ... and it runs under the program's collector settings, not CPython's defaults.
    from components.runtime_tuning import GENERATION_THRESHOLDS
    program = (tmp_path / "floor" / "__main__.py").read_text()
    assert f"gc.set_threshold({', '.join(map(str, GENERATION_THRESHOLDS))})" in program


def test_peak_memory_is_read_in_the_measured_process_itself() -> None:
    from bench.plan_cost import peak_rss_mib

    assert 10 < peak_rss_mib() < 10_000


def test_linear_fit_recovers_a_line() -> None:
    fit = linear_fit([5, 10, 50, 100], [0.5 + 0.04 * x for x in (5, 10, 50, 100)])
    assert round(fit["intercept"], 6) == 0.5 and round(fit["slope"], 6) == 0.04
    assert round(fit["r2"], 6) == 1.0


def test_the_latency_model_covers_every_resource_the_example_stacks_register() -> None:
    for stack in EXAMPLE_STACKS:
        plan = plan_example(stack)
        first = first_server_commands(plan)
        assert len(first) == 1, stack
        for resource in plan.resources:
            if resource.custom:
                assert step_of(resource, first) in STEPS, resource.urn


def timed_chain(tmp_path: Path, workers: int, batch: int | None = None) -> list[str]:
    """Step kinds of the timed critical path; ``batch``: the pools' ``maxUnavailable``."""
    config = private_cluster(workers)
    for pool in config["k3s-hcloud:workerPools"]:
        if batch is not None:
            pool["maxUnavailable"] = batch
    directory = tmp_path / f"{workers}-{batch}"
    directory.mkdir()
    plan = plan_config(directory, config, "bench")
    timed = longest_chain(plan, latency_for(plan))
    return [step_of(r, first_server_commands(plan)) for r in timed.resources]


def test_the_timed_critical_path_does_not_grow_with_workers_rolled_all_at_once(
        tmp_path: Path) -> None:
    small = timed_chain(tmp_path, 2, batch=2)
    assert small == timed_chain(tmp_path, 20, batch=20)
    # The other servers join beside the layer, which waits for the first server and the load
    # balancer's routing to it; Cilium, after the CCM, is the last step.
    assert small.count("k3s join (server)") == 0 and small[-1] == "helm: cilium"
    assert small.index("k3s init (first server)") < small.index("load balancer routes")
    assert small.index("load balancer routes") < small.index("helm: hcloud-cloud-controller-manager")


def test_one_node_at_a_time_restarts_do_not_serialise_first_installs(tmp_path: Path) -> None:
    # maxUnavailable: 1 (the default) bounds restarts of running nodes through the pool's
    # rollout slots in the cluster, not through the graph: a big pool's first installs run
    # side by side, so the timed path holds at most one agent join whatever the pool's size.
    one_at_a_time = timed_chain(tmp_path, 20)
    assert one_at_a_time.count("k3s join (agent)") <= 1
    assert one_at_a_time == timed_chain(tmp_path, 20, batch=20)
def test_the_modelled_create_grows_with_what_grows_and_the_ssh_admission_removes_its_toll(
        tmp_path: Path) -> None:
    from bench.critical_path import FIXED_ADMISSION, simulate
    from bench.latency_model import growth_of
    from cluster_plan.bastion_admission import BASTION_ADMISSION

    small, large = plan_for(2, tmp_path / "2"), plan_for(20, tmp_path / "20")
    assert simulate(large, BASTION_ADMISSION).seconds > simulate(small, BASTION_ADMISSION).seconds
    growth = growth_of(large, BASTION_ADMISSION)
    assert growth.private and growth.nodes == 23 and growth.agents == 20
    assert growth.admission_wait_seconds() == 0
    # 23 first connections at once against a burst of 10: two refills of a minute, plus a dial.
    assert growth_of(large, FIXED_ADMISSION).admission_wait_seconds() == 2 * 60 + 10
    assert simulate(large, FIXED_ADMISSION).seconds == pytest.approx(
        simulate(large, BASTION_ADMISSION).seconds + 130)


def _resource(name: str, deps: list[str]):
    from tools.lib.engine import RecordedResource

    return RecordedResource(urn=name, type="t", name=name, parent=None, custom=True, inputs={},
                            dependencies=deps, property_dependencies={}, provider=None,
                            options={})


def test_a_finish_after_constraint_holds_a_step_until_late_work_is_done() -> None:
    from tools.lib.critical_path import WaitFor
    from tools.lib.engine import Plan

    plan = Plan("s", "p", [_resource("a", []), _resource("late", ["a"]),
                           _resource("helm", ["a"])])
    # "late" is done at 25 s, before the release's own 30 s; its piece then runs 30 s more.
    seconds = {"a": 10.0, "late": 15.0, "helm": 20.0}
    plain = longest_chain(plan, lambda r: seconds[r.name])
    held = longest_chain(plan, lambda r: seconds[r.name],
                         lambda r: WaitFor([("late", 30.0)]) if r.name == "helm" else WaitFor())
    assert plain.seconds == 30.0 and [r.name for r in plain.resources] == ["a", "helm"]
    assert held.seconds == 55.0 and [r.name for r in held.resources] == ["a", "late", "helm"]


def test_a_helm_wait_tolerates_max_unavailable_and_ignores_nodes_registered_after_it() -> None:
    """Helm's DaemonSet check: ready >= desired - maxUnavailable, over the nodes registered
    while it polls; a node registering after the release is done is not waited for."""
    from tools.lib.critical_path import WaitFor, schedule
    from tools.lib.engine import Plan

    plan = Plan("s", "p", [_resource("a", []), _resource("n1", ["a"]), _resource("n2", ["a"]),
                           _resource("n3", ["a"]), _resource("helm", ["a"])])
    seconds = {"a": 0.0, "n1": 10.0, "n2": 20.0, "n3": 500.0, "helm": 50.0}
    # Agents ready 100 s after registration: n1 at 110, n2 at 120, n3 (registers at 500) later.
    work = [("n1", 100.0), ("n2", 100.0), ("n3", 100.0)]

    def finish(tolerate: int) -> float:
        timeline = schedule(plan, lambda r: seconds[r.name],
                            lambda r: WaitFor(work, tolerate) if r.name == "helm" else WaitFor())
        return timeline.finish["helm"]

    assert finish(0) == 120.0  # both agents registered before 50 s must be ready
    assert finish(1) == 110.0  # one may lag
    assert finish(2) == 50.0   # both may lag: the release is done on its own time
    # n3 registers at 500 s, after the release: never waited for, whatever the tolerance.
    assert finish(0) < 500.0


def test_transfers_through_one_link_share_it() -> None:
    from bench.latency_model import shared_transfers

    assert shared_transfers([0.0, 0.0], 100.0, 100.0) == pytest.approx([2.0, 2.0])
    # The second starts when the first is half done: 0.5 s alone, then both at half rate.
    assert shared_transfers([0.0, 0.5], 100.0, 100.0) == pytest.approx([1.5, 2.0])
    assert shared_transfers([3.0], 100.0, float("inf")) == [3.0]


def test_with_the_registry_mirror_late_nodes_fetch_from_the_nodes_that_hold_the_images() -> None:
    from bench.latency_model import shared_transfers

    # Three nodes hold the images after 7.5 s; 96 more start at 100 s.
    starts = [0.0, 0.0, 0.0] + [100.0] * 96
    through_nat = shared_transfers(starts, 250.0, 100.0)
    with_peers = shared_transfers(starts, 250.0, 100.0, peer_rate=100.0)
    assert through_nat[-1] == pytest.approx(100.0 + 96 * 250 / 100)
    # Three holders serve 100 MB/s each to the 96: 80 s instead of 240 s.
    assert with_peers[-1] == pytest.approx(100.0 + 96 * 250 / 300)
    # Everyone starting at once: nobody holds anything yet, the mirror cannot help.
    assert shared_transfers([0.0] * 4, 250.0, 100.0, peer_rate=100.0) == pytest.approx([10.0] * 4)


def test_helm_tolerates_the_agent_daemonsets_max_unavailable(tmp_path: Path) -> None:
    from bench.latency_model import agent_max_unavailable

    plan = plan_for(2, tmp_path / "default")
    # Chart default of the line (upstream/cilium_charts/<line>.json): 2.
    assert agent_max_unavailable(plan, 5) == 2
    config = private_cluster(2)
    config["k3s-hcloud:cilium"] = {"values": {"updateStrategy": {"rollingUpdate": {
        "maxUnavailable": "50%"}}}}
    directory = tmp_path / "set"
    directory.mkdir()
    assert agent_max_unavailable(plan_config(directory, config, "bench"), 5) == 3


def test_the_model_reads_the_programs_graph_the_layer_after_the_first_server(
        tmp_path: Path) -> None:
    """Through the API load balancer (the bench cluster's), the in-cluster layer waits for the
    first server and the load balancer's routing to it, not for the other servers' joins."""
    from bench.latency_model import cilium_release

    plan = plan_for(2, tmp_path / "2")

    def upstream(of_plan, urn: str) -> set[str]:
        by_urn = {r.urn: r for r in of_plan.resources}
        seen: set[str] = set()
        stack = [urn]
        while stack:
            for dep in by_urn[stack.pop()].dependencies:
                if dep in by_urn and dep not in seen:
                    seen.add(dep)
                    stack.append(dep)
        return {by_urn[u].name for u in seen}

    release = cilium_release(plan)
    assert release is not None
    real = upstream(plan, release.urn)
    assert {"bench-cp-1-k3s", "bench-api-routes", "bench-ccm", "bench-kubeconfig"} <= real
    assert not {n for n in real if n.startswith(("bench-cp-2-", "bench-cp-3-"))
                and n.endswith(("-k3s", "-membership", "-uncordon"))}
    assert not {n for n in real if n.startswith("bench-pool0-")}


def test_the_cluster_is_ready_when_its_last_agent_is_and_the_nat_is_the_bottleneck(
        tmp_path: Path) -> None:
    from bench.critical_path import simulate
    from bench.latency_model import constant, node_registrations
    from cluster_plan.bastion_admission import BASTION_ADMISSION

    small = simulate(plan_for(2, tmp_path / "2"), BASTION_ADMISSION)
    assert small.cluster_ready >= small.seconds and small.nodes_ready_at > 0
    config = private_cluster(20)
    config["k3s-hcloud:workerPools"][0]["maxUnavailable"] = 20
    directory = tmp_path / "20"
    directory.mkdir()
    plan = plan_config(directory, config, "bench")
    large = simulate(plan, BASTION_ADMISSION)
    # The 20 agents register together and pull 250 MB each through one 100 MB/s NAT: the last
    # one is ready no sooner than 50 s of transfer plus the agent's start after registering.
    agents = [urn for urn in node_registrations(plan) if "pool0" in urn]
    assert len(agents) == 20
    registered = max(large.timeline.finish[urn] for urn in agents)
    assert large.nodes_ready_at >= registered + 20 * 250 / 100 + constant(
        "cilium_agent_ready_seconds") - 1e-6
    assert large.cluster_ready == max(large.seconds, large.nodes_ready_at)


def test_agents_join_beside_the_servers_that_join_after_the_first(tmp_path: Path) -> None:
    from bench.critical_path import simulate
    from cluster_plan.bastion_admission import BASTION_ADMISSION

    plan = plan_for(2, tmp_path / "2")
    finish = {r.name: simulate(plan, BASTION_ADMISSION).timeline.finish[r.urn]
              for r in plan.resources if r.custom}
    # An agent is registered before the last server has even joined; servers keep their order
    # (one etcd learner at a time).
    assert finish["bench-pool0-1-membership"] < finish["bench-cp-3-k3s"]
    assert finish["bench-cp-2-uncordon"] < finish["bench-cp-3-k3s"]


def test_the_summary_prints_every_headline_figure(capsys) -> None:
    from bench import summary

    assert summary.main.__module__ == "bench.summary"
    import sys

    argv, sys.argv = sys.argv, ["summary.py"]
    try:
        assert summary.main() == 0
    finally:
        sys.argv = argv
    out = capsys.readouterr().out
    assert "fair_floor_ratio" in out and "peak MiB (VmHWM)" in out
    import json

    results = Path(summary.ROOT) / "bench" / "results"
    for row in json.loads((results / "plan_cost.json").read_text())["sizes"].values():
        if "fair_floor_ratio" in row:
            assert f"{row['fair_floor_ratio']:.2f}" in out
            assert f"{row['program']['peak_mib']:.0f}" in out
    created = json.loads((results / "critical_path.json").read_text())["sizes"]
    for workers in ("2", "20", "96"):
        assert f"3 + {workers}" in out
        assert summary.minutes(created[workers]["nodes_ready_seconds"]) in out
    # The bastion's admission is part of the modelled create.
    assert "SSH admission" in out and "missed by" in out
    mirrored = created["96"]["variants"]["registry_mirror"]["cluster_ready_seconds"]
    assert f"{summary.minutes(mirrored)}" in out and "with k3s.embeddedRegistryMirror" in out
