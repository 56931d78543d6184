"""The benchmarks' own correctness (not their timings): the floor is a fair comparison, the
critical-path bench reports what the graph says."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

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
    # Servers join one at a time; Cilium, after the CCM, is the last step.
    assert small.count("k3s join (server)") == 2 and small[-1] == "helm: cilium"


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
    assert (simulate(large, FIXED_ADMISSION).seconds
            == simulate(large, BASTION_ADMISSION).seconds + 130)


def test_a_finish_after_constraint_holds_a_step_until_late_work_is_done() -> None:
    from tools.lib.engine import Plan, RecordedResource

    def resource(name: str, deps: list[str]) -> RecordedResource:
        return RecordedResource(urn=name, type="t", name=name, parent=None, custom=True,
                                inputs={}, dependencies=deps, property_dependencies={},
                                provider=None, options={})

    plan = Plan("s", "p", [resource("a", []), resource("late", ["a"]), resource("helm", ["a"])])
    seconds = {"a": 10.0, "late": 100.0, "helm": 20.0}
    plain = longest_chain(plan, lambda r: seconds[r.name])
    held = longest_chain(plan, lambda r: seconds[r.name],
                         lambda r: [("late", 30.0)] if r.name == "helm" else [])
    assert plain.seconds == 110.0
    assert held.seconds == 140.0 and [r.name for r in held.resources] == ["a", "late", "helm"]
