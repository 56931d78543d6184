"""The benchmarks' own correctness (not their timings): the floor is a fair comparison, the
critical-path bench reports what the graph says."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bench.sizes import private_cluster
from bench.floor import write_floor_program
from bench.latency_model import STEPS, first_server_commands, latency_for, step_of
from bench.plan_cost import linear_fit
from tests.helpers import EXAMPLE_STACKS, plan_config, plan_example
from tools.critical_path import longest_chain
from tools.engine import run_program
from tools.stack_files import StackConfig


def test_the_floor_registers_the_same_resources_as_the_program(tmp_path: Path) -> None:
    plan = plan_example("private-ha")
    floor = run_program(write_floor_program(plan, tmp_path / "floor"),
                        StackConfig("bench", "k3s-hcloud"))

    def kinds(p) -> Counter:
        return Counter((r.type, r.name, r.custom) for r in p.resources)

    assert kinds(floor) == kinds(plan)


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
    # Servers join one at a time; Cilium, after the CCM, is the last step.
    assert small.count("k3s join (server)") == 2 and small[-1] == "helm: cilium"


def test_one_node_at_a_time_makes_a_big_pool_join_in_sequence(tmp_path: Path) -> None:
    # The price of rolling restarts one node at a time (maxUnavailable: 1, the default): the
    # same chain orders the first installs, so a big pool joins one node after the other.
    assert timed_chain(tmp_path, 20).count("k3s join (agent)") == 20
