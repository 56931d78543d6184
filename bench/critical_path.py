"""Bootstrap critical path: the longest chain from nothing to a ready cluster, by cluster size.

    python bench/critical_path.py [--out bench/results]

For 3 control planes + 2, 20 and 96 workers (private network, bastion/NAT, API LB: the
``bench/sizes.py`` cluster) the real program is planned offline and ``tools/lib/critical_path.py``
walks the recorded dependency graph (custom resources only):

- the longest chain counted in resources, and counted in remote commands only;
- the simulated wall time: the chain with the largest sum of latencies from
  ``bench/latency_model.py`` (``pulumi up`` runs independent resources in parallel, unbounded by
  default, so the slowest chain is the wall time), with the terms that grow with the cluster
  (NAT bandwidth, Cilium waiting for every registered node, private power-on, the Hetzner API
  bucket, the bastion's SSH admission) — once with the bastion's admission as the program renders
  it, once with the fixed 10-a-minute limit it had before, for comparison;
- the largest single step against its retry budget (the bootstrap's dial budget: a step that
  waits longer than that fails the create).

3 + 100 is refused (with the bastion that is 104 servers, over the ~100 servers one Hetzner
network takes; a public cluster without a bastion would still be 103): 3 + 96 is the largest
accepted size, and the refusal is recorded. Writes critical_path.json and critical_path.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.latency_model import (  # noqa: E402
    GROWTH_CONSTANTS,
    STEPS,
    cilium_waits_for_registered_nodes,
    first_server_commands,
    growth_of,
    latency_for,
    step_of,
)
from cluster_plan.bastion_admission import BASTION_ADMISSION, SshAdmission  # noqa: E402
from components.bootstrap.connection import FRESH_BOOT  # noqa: E402
from components.kubernetes import ccm, cilium, csi  # noqa: E402
from bench.sizes import CONTROL_PLANES, private_cluster  # noqa: E402
from stack_config.errors import ConfigError  # noqa: E402
from tools.lib.critical_path import Chain, longest_chain  # noqa: E402
from tools.lib.engine import Plan, run_program  # noqa: E402
from tools.lib.stack_files import load_stack_config  # noqa: E402

WORKERS = (2, 20, 96, 100)
COMMAND = "command:remote:Command"
# Ref: hetzner-k3s README: "creating a highly available k3s cluster with 3 masters for the
# control plane and 3 worker nodes takes 2-3 minutes only" (infrastructure, k3s, CCM, CSI,
# system-upgrade-controller, cluster autoscaler).
HETZNER_K3S_CLAIM = (120, 180)
# The per-source limit the bastion had before it was sized for the bootstrap's fan-out.
FIXED_ADMISSION = SshAdmission(burst=10, per_minute=10)
# Targets for the modelled create (private, HA): 3 + 2 and 3 + 96.
TARGET_SECONDS = {2: 240, 96: 480}
# A step that waits longer than its budget fails the create: Helm releases their own timeout,
# remote commands every dial attempt of the bootstrap.
DIAL_BUDGET_SECONDS = FRESH_BOOT.dial_error_limit * FRESH_BOOT.per_dial_timeout
HELM_BUDGET_SECONDS = {"helm: cilium": cilium.TIMEOUT_SECONDS, "helm: hcloud-csi": csi.TIMEOUT_SECONDS,
                       "helm: hcloud-cloud-controller-manager": ccm.TIMEOUT_SECONDS}


def budget_of(step: str) -> int:
    return HELM_BUDGET_SECONDS.get(step, DIAL_BUDGET_SECONDS)


def plan_for(workers: int, directory: Path, *, whole_pool_batches: bool = False) -> Plan:
    """The bench cluster; ``whole_pool_batches`` sets each pool's ``maxUnavailable`` to its size,
    so its nodes install (and restart) side by side instead of one after the other."""
    directory.mkdir(parents=True, exist_ok=True)
    config = private_cluster(workers)
    if whole_pool_batches:
        for pool in config["k3s-hcloud:workerPools"]:
            pool["maxUnavailable"] = pool["count"]
    stack_file = directory / "Pulumi.bench.yaml"
    stack_file.write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    return run_program(ROOT, load_stack_config(ROOT, stack_file, "bench"))


def simulate(plan: Plan, admission: SshAdmission) -> Chain:
    growth = growth_of(plan, admission)
    return longest_chain(plan, latency_for(plan, growth), cilium_waits_for_registered_nodes(plan))


def layer_after_first_server(plan: Plan) -> Plan:
    """What-if: the in-cluster layer starts once the first server answers, not after every server
    joined (the atomic Cilium release still waits for every node registered meanwhile). Not the
    program's structure today; modelled to size the change before making it."""
    first = first_server_commands(plan)
    joins = {r.urn for r in plan.resources if r.type == COMMAND
             and step_of(r, first) in ("k3s join (server)", "node registered")}
    layer = {r.urn for r in plan.resources if r.type.startswith("kubernetes:")}
    resources = [replace(r, dependencies=[d for d in r.dependencies if d not in joins])
                 if r.urn in layer else r for r in plan.resources]
    return replace(plan, resources=resources)


def measure(plan: Plan) -> dict:
    by_resources = longest_chain(plan)
    by_commands = longest_chain(plan, lambda r: 1.0 if r.type == COMMAND else 0.0)
    timed = simulate(plan, BASTION_ADMISSION)
    before = simulate(plan, FIXED_ADMISSION)
    early_layer = simulate(layer_after_first_server(plan), BASTION_ADMISSION)
    chain = describe(plan, timed)
    return {
        "servers": len(plan.by_type("hcloud:index/server:Server")),
        "resources": sum(1 for r in plan.resources if r.custom),
        "chain_resources": by_resources.length,
        "chain_commands": int(by_commands.seconds),
        "wall_seconds": timed.seconds,
        "wall_seconds_fixed_ssh_limit": before.seconds,
        "wall_seconds_if_layer_after_first_server": early_layer.seconds,
        "tightest_step": max(({"step": s["step"], "seconds": s["seconds"],
                               "budget_seconds": budget_of(s["step"])} for s in chain),
                              key=lambda s: s["seconds"] / s["budget_seconds"]),
        "growth": vars(growth_of(plan, BASTION_ADMISSION)) | {"admission": vars(BASTION_ADMISSION)},
        "chain": chain,
    }


def describe(plan: Plan, chain: Chain) -> list[dict]:
    """The chain's steps with their modelled seconds; ``done_at`` is the finish time of each."""
    latency = latency_for(plan, growth_of(plan, BASTION_ADMISSION))
    first = first_server_commands(plan)
    elapsed = 0.0
    steps = []
    for resource in chain.resources:
        seconds = latency(resource)
        elapsed += seconds
        steps.append({"name": resource.name, "type": resource.type,
                      "step": step_of(resource, first), "seconds": seconds, "done_at": elapsed})
    # The last step may finish later than its own latency says: Cilium's wait for late nodes.
    if steps:
        steps[-1]["done_at"] = max(steps[-1]["done_at"], chain.seconds)
    return steps


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def render(results: dict[int, dict]) -> str:
    lines = ["| cluster | servers | resources | longest chain (resources) "
             "| longest chain (remote commands) | simulated wall time | target "
             "| with the old 10/min SSH limit | what-if: layer after the first server "
             "| with maxUnavailable = pool size "
             "| tightest step / its budget |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for workers, row in results.items():
        label = f"{CONTROL_PLANES} + {workers}"
        if "refused" in row:
            lines.append(f"| {label} | | refused: {row['refused']} | | | | | | | | |")
            continue
        target = TARGET_SECONDS.get(workers)
        lines.append(f"| {label} | {row['servers']} | {row['resources']} | "
                     f"{row['chain_resources']} | {row['chain_commands']} | "
                     f"{minutes(row['wall_seconds'])} | "
                     f"{minutes(target) if target else ''} | "
                     f"{minutes(row['wall_seconds_fixed_ssh_limit'])} | "
                     f"{minutes(row['wall_seconds_if_layer_after_first_server'])} | "
                     f"{minutes(row['wall_seconds_pool_side_by_side'])} | "
                     f"{row['tightest_step']['step']}: {row['tightest_step']['seconds']:.0f} s / "
                     f"{row['tightest_step']['budget_seconds']} s |")
    for workers in (WORKERS[0], 96):
        row = results[workers]
        lines += ["", f"The slowest chain ({CONTROL_PLANES} + {workers}):", "",
                  "| # | resource | step | s | done at |", "| ---: | --- | --- | ---: | ---: |"]
        for index, step in enumerate(row["chain"], start=1):
            lines.append(f"| {index} | `{step['name']}` | {step['step']} | "
                         f"{step['seconds']:.0f} | {minutes(step['done_at'])} |")
    lines += ["", "Latency model (`bench/latency_model.py`; assumptions, not measurements):", "",
              "| step | s | basis |", "| --- | ---: | --- |"]
    lines += [f"| {name} | {step.seconds:g} | {step.basis} |" for name, step in STEPS.items()]
    lines += ["", "What grows with the cluster:", "", "| constant | value | basis |",
              "| --- | ---: | --- |"]
    lines += [f"| {name} | {c.value:g} | {c.basis} |" for name, c in GROWTH_CONSTANTS.items()]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    results: dict[int, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for workers in WORKERS:
            try:
                plan = plan_for(workers, Path(tmp) / str(workers))
            except ConfigError as error:
                results[workers] = {"refused": str(error).splitlines()[-1].strip()
                                    .removeprefix("- ")}
                continue
            results[workers] = measure(plan)
            side_by_side = plan_for(workers, Path(tmp) / f"{workers}-pool",
                                    whole_pool_batches=True)
            results[workers]["wall_seconds_pool_side_by_side"] = simulate(
                side_by_side, BASTION_ADMISSION).seconds
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "critical_path.json").write_text(json.dumps(
        {"sizes": results, "hetzner_k3s_claim_seconds": HETZNER_K3S_CLAIM,
         "target_seconds": TARGET_SECONDS,
         "steps": {name: vars(step) for name, step in STEPS.items()},
         "growth_constants": {name: vars(c) for name, c in GROWTH_CONSTANTS.items()}}, indent=2))
    text = render(results)
    (args.out / "critical_path.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
