"""Bootstrap critical path: the longest chain from nothing to a ready cluster, by cluster size.

    python bench/critical_path.py [--out bench/results]

For 3 control planes + 2, 20 and 96 workers (private network, bastion/NAT, API LB: the
``bench/sizes.py`` cluster) the real program is planned offline and ``tools/lib/critical_path.py``
walks the recorded dependency graph (custom resources only):

- the longest chain counted in resources, and counted in remote commands only;
- the simulated wall time: the chain with the largest sum of latencies from
  ``bench/latency_model.py`` (``pulumi up`` runs independent resources in parallel, unbounded by
  default, so the slowest chain is when it returns), with the terms that grow with the cluster
  (NAT bandwidth, Cilium's Helm wait over the nodes registered meanwhile, private power-on, the
  Hetzner API bucket, the bastion's SSH admission) — once with the bastion's admission as the
  program renders it, once with the fixed 10-a-minute limit it had before, for comparison;
- when every node is Ready (its Cilium agent up), which may be after ``pulumi up`` returns: the
  cluster is ready at the later of the two, and the targets are measured on that;
- every Helm release's modelled step against its timeout (an atomic release that outwaits it
  rolls back and fails the create), and the chain's tightest step against its budget;
- "what would move it": the same create with one more change at a time (the embedded registry
  mirror, no pre-change steps on a first create), and a public cluster with and without the API
  load balancer (either way the in-cluster layer starts after the first server: the load
  balancer routes only to servers whose apiserver is ready, cluster_plan/api_readiness.py).

3 + 100 is refused (with the bastion that is 104 servers, over the ~100 servers one Hetzner
network takes; a public cluster without a bastion would still be 103): 3 + 96 is the largest
accepted size, and the refusal is recorded. Writes critical_path.json and critical_path.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.latency_model import (  # noqa: E402
    GROWTH_CONSTANTS,
    STEPS,
    agent_max_unavailable,
    cilium_wait,
    cilium_waits_for_registered_nodes,
    node_registrations,
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
from tools.lib.critical_path import Chain, Schedule, longest_chain, schedule  # noqa: E402
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


def plan_for(workers: int, directory: Path, *, registry_mirror: bool = False,
             public_load_balancer: bool | None = None) -> Plan:
    """The bench cluster; ``registry_mirror`` turns on ``k3s.embeddedRegistryMirror``;
    ``public_load_balancer`` (True/False) makes it a public cluster (no bastion) with or without
    the API load balancer."""
    directory.mkdir(parents=True, exist_ok=True)
    config = private_cluster(workers)
    if public_load_balancer is not None:
        config["k3s-hcloud:network"]["privateOnly"] = False
        config["k3s-hcloud:bastion"] = {"enabled": False}
        config["k3s-hcloud:controlPlane"]["loadBalancer"] = {
            "enabled": public_load_balancer, "publicInterface": public_load_balancer}
    if registry_mirror:
        config["k3s-hcloud:k3s"] = {"embeddedRegistryMirror": {"enabled": True}}
    stack_file = directory / "Pulumi.bench.yaml"
    stack_file.write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    return run_program(ROOT, load_stack_config(ROOT, stack_file, "bench"))


@dataclass(frozen=True)
class Simulation:
    chain: Chain
    """The slowest chain: ``chain.seconds`` is when ``pulumi up`` returns."""
    timeline: Schedule
    nodes_ready_at: float
    """When the last node's Cilium agent is ready, i.e. every node is Ready."""

    @property
    def seconds(self) -> float:
        return self.chain.seconds

    @property
    def cluster_ready(self) -> float:
        """``pulumi up`` returned and every node is Ready: what the targets are measured on."""
        return max(self.chain.seconds, self.nodes_ready_at)

    def step_seconds(self, resource) -> float:
        """From the moment its dependencies were done to its own end (a Helm wait included)."""
        finish = self.timeline.finish
        start = max((finish[d] for d in resource.dependencies if d in finish), default=0.0)
        return finish[resource.urn] - start

    def over_budget(self, plan: Plan) -> list[dict]:
        """Helm releases whose modelled step outlasts their timeout: the create fails there."""
        first = first_server_commands(plan)
        late = []
        for resource in plan.by_type("kubernetes:helm.sh/v3:Release"):
            step = step_of(resource, first)
            seconds = self.step_seconds(resource)
            if seconds > budget_of(step):
                late.append({"step": step, "seconds": seconds, "budget_seconds": budget_of(step)})
        return late


def simulate(plan: Plan, admission: SshAdmission,
             no_op_steps: frozenset[str] = frozenset()) -> Simulation:
    """``no_op_steps``: step kinds modelled as taking no time (a what-if)."""
    growth = growth_of(plan, admission)
    timed = latency_for(plan, growth)
    first = first_server_commands(plan)

    def latency(resource):
        return 0.0 if step_of(resource, first) in no_op_steps else timed(resource)

    wait = cilium_wait(plan, growth, latency)
    timeline = schedule(plan, latency, cilium_waits_for_registered_nodes(plan, growth, latency))
    return Simulation(timeline.longest(), timeline, wait.nodes_ready_at)


# What a first create does not need: a pre-change etcd snapshot of a cluster that holds nothing
# yet, and drain/uncordon of nodes that are not registered. (The commands belong to the
# bootstrap: modelled here as taking no time, to size the change.)
FIRST_CREATE_NO_OPS = frozenset({"etcd snapshot", "rollout check"})


@dataclass(frozen=True)
class Variant:
    """One cumulative step of "what would move it": a config, a graph change, no-op steps."""

    key: str
    label: str
    registry_mirror: bool = False
    no_ops: frozenset[str] = frozenset()


# Each adds to the one before: how far the create gets with every change in turn. The first is
# a config key users have today, the second the bootstrap's rollout steps on a first install.
# (Agents joining after the first server and the in-cluster layer after the first server, once
# rows here, are the program's structure now: components/bootstrap/bootstrap.py,
# components/cluster.py ``layer_waits_for``.)
VARIANTS = (
    Variant("program", "the program today"),
    Variant("registry_mirror", "+ `k3s.embeddedRegistryMirror.enabled`", registry_mirror=True),
    Variant("no_prechange_steps", "+ no pre-change snapshot/drain on create",
            registry_mirror=True, no_ops=FIRST_CREATE_NO_OPS),
)


def simulate_variant(workers: int, directory: Path,
                     variant: Variant) -> tuple[Plan, Simulation]:
    plan = plan_for(workers, directory / variant.key, registry_mirror=variant.registry_mirror)
    return plan, simulate(plan, BASTION_ADMISSION, variant.no_ops)


def measure(plan: Plan) -> dict:
    by_resources = longest_chain(plan)
    by_commands = longest_chain(plan, lambda r: 1.0 if r.type == COMMAND else 0.0)
    timed = simulate(plan, BASTION_ADMISSION)
    before = simulate(plan, FIXED_ADMISSION)
    chain = describe(plan, timed)
    return {
        "servers": len(plan.by_type("hcloud:index/server:Server")),
        "resources": sum(1 for r in plan.resources if r.custom),
        "chain_resources": by_resources.length,
        "chain_commands": int(by_commands.seconds),
        "wall_seconds": timed.seconds,
        "nodes_ready_seconds": timed.nodes_ready_at,
        "cluster_ready_seconds": timed.cluster_ready,
        "cilium_tolerates_not_ready_agents": agent_max_unavailable(
            plan, len(node_registrations(plan))),
        "wall_seconds_fixed_ssh_limit": before.seconds,
        "over_budget": timed.over_budget(plan),
        "cluster_ready_seconds_fixed_ssh_limit": before.cluster_ready,
        "tightest_step": max(({"step": s["step"], "seconds": s["seconds"],
                               "budget_seconds": budget_of(s["step"])} for s in chain),
                              key=lambda s: s["seconds"] / s["budget_seconds"]),
        "growth": vars(growth_of(plan, BASTION_ADMISSION)) | {"admission": vars(BASTION_ADMISSION)},
        "chain": chain,
    }


def describe(plan: Plan, simulation: Simulation) -> list[dict]:
    """The chain's steps: ``seconds`` from the moment its dependencies were done (a Helm wait
    included) to ``done_at``."""
    first = first_server_commands(plan)
    finish = simulation.timeline.finish
    steps = []
    for resource in simulation.chain.resources:
        start = max((finish[d] for d in resource.dependencies if d in finish), default=0.0)
        steps.append({"name": resource.name, "type": resource.type,
                      "step": step_of(resource, first), "seconds": finish[resource.urn] - start,
                      "done_at": finish[resource.urn]})
    return steps


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


COLUMNS = (
    ("pulumi up returns", "wall_seconds"),
    ("every node Ready", "nodes_ready_seconds"),
    ("cluster ready", "cluster_ready_seconds"),
    ("target", None),
    ("missed by", None),
    ("with the old 10/min SSH limit", "cluster_ready_seconds_fixed_ssh_limit"),
)


def render(results: dict[int, dict]) -> str:
    names = ["cluster", "servers", "resources", "longest chain (resources)",
             "longest chain (remote commands)", *(name for name, _ in COLUMNS),
             "tightest step / its budget"]
    lines = ["| " + " | ".join(names) + " |",
             "| --- |" + " ---: |" * (len(names) - 1)]
    for workers, row in results.items():
        label = f"{CONTROL_PLANES} + {workers}"
        if "refused" in row:
            lines.append(f"| {label} | | refused: {row['refused']} |" + " |" * (len(names) - 3))
            continue
        target = TARGET_SECONDS.get(workers)
        cells = [label, str(row["servers"]), str(row["resources"]), str(row["chain_resources"]),
                 str(row["chain_commands"])]
        for name, key in COLUMNS:
            if name == "target":
                cells.append(minutes(target) if target else "")
            elif name == "missed by":
                missed = row["cluster_ready_seconds"] - target if target else None
                cells.append("" if missed is None else
                             ("met" if missed <= 0 else minutes(missed)))
            else:
                cells.append(minutes(row[key]) if key in row else "")
        tight = row["tightest_step"]
        cells.append(f"{tight['step']}: {tight['seconds']:.0f} s / {tight['budget_seconds']} s"
                     + (" (over: the create fails)" if row["over_budget"] else ""))
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "What would move it: each row adds one change to the row before (cluster "
              "ready, pulumi up in brackets when it returns earlier):", "",
              "| change | " + " | ".join(f"{CONTROL_PLANES} + {w}" for w in results
                                        if "variants" in results[w]) + " |",
              "| --- |" + " ---: |" * sum(1 for w in results if "variants" in results[w])]
    for variant in VARIANTS:
        cells = []
        for row in results.values():
            if "variants" not in row:
                continue
            done = row["variants"][variant.key]
            up = done["wall_seconds"]
            ready = done["cluster_ready_seconds"]
            cells.append(minutes(ready) + (f" ({minutes(up)})" if up < ready else "")
                         + ("; fails: " + ", ".join(
                             f"{late['step']} {late['seconds']:.0f} s > {late['budget_seconds']} s"
                             for late in done["over_budget"]) if done["over_budget"] else ""))
        lines.append(f"| {variant.label} | " + " | ".join(cells) + " |")
    lines += ["", "Public clusters (no bastion, no NAT): either way the in-cluster layer starts "
              "once the first server answers (`layer_waits_for` in components/cluster.py); "
              "the load balancer adds its wait until it routes to that server:", "",
              "| cluster | with API LB | without API LB |", "| --- | ---: | ---: |"]
    for workers, row in results.items():
        if "public" in row:
            lines.append(f"| {CONTROL_PLANES} + {workers} | "
                         f"{minutes(row['public']['with_api_lb'])} | "
                         f"{minutes(row['public']['without_api_lb'])} |")
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
            # With and without the API load balancer (its readiness check and routing wait).
            results[workers]["public"] = {
                label: simulate(plan_for(workers, Path(tmp) / f"{workers}-{label}",
                                         public_load_balancer=lb), BASTION_ADMISSION).cluster_ready
                for label, lb in (("with_api_lb", True), ("without_api_lb", False))}
            results[workers]["variants"] = {}
            for variant in VARIANTS:
                variant_plan, done = simulate_variant(workers, Path(tmp) / str(workers), variant)
                results[workers]["variants"][variant.key] = {
                    "label": variant.label, "wall_seconds": done.seconds,
                    "nodes_ready_seconds": done.nodes_ready_at,
                    "cluster_ready_seconds": done.cluster_ready,
                    "over_budget": done.over_budget(variant_plan)}
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
