"""Bootstrap critical path: the longest chain from nothing to a ready cluster, by cluster size.

    python bench/critical_path.py [--out bench/results]

For 3 control planes + 2, 20 and 96 workers (private network, bastion/NAT, API LB: the
``bench/sizes.py`` cluster) the real program is planned offline and ``tools/lib/critical_path.py``
walks the recorded dependency graph (custom resources only):

- the longest chain counted in resources, and counted in remote commands only;
- the simulated wall time: the chain with the largest sum of latencies from
  ``bench/latency_model.py`` (``pulumi up`` runs independent resources in parallel, unbounded by
  default, so the slowest chain is the wall time, before API rate limits).

3 + 100 is refused (with the bastion that is 104 servers, over the ~100 servers one Hetzner
network takes; a public cluster without a bastion would still be 103): 3 + 96 is the largest
accepted size, and the refusal is recorded. Writes critical_path.json and critical_path.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.latency_model import STEPS, first_server_commands, latency_for, step_of  # noqa: E402
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


def plan_for(workers: int, directory: Path) -> Plan:
    directory.mkdir(parents=True, exist_ok=True)
    stack_file = directory / "Pulumi.bench.yaml"
    stack_file.write_text(yaml.safe_dump({"config": private_cluster(workers)}, sort_keys=False))
    return run_program(ROOT, load_stack_config(ROOT, stack_file, "bench"))


def measure(plan: Plan) -> dict:
    by_resources = longest_chain(plan)
    by_commands = longest_chain(plan, lambda r: 1.0 if r.type == COMMAND else 0.0)
    timed = longest_chain(plan, latency_for(plan))
    return {
        "servers": len(plan.by_type("hcloud:index/server:Server")),
        "resources": sum(1 for r in plan.resources if r.custom),
        "chain_resources": by_resources.length,
        "chain_commands": int(by_commands.seconds),
        "wall_seconds": timed.seconds,
        "chain": describe(plan, timed),
    }


def describe(plan: Plan, chain: Chain) -> list[dict]:
    first = first_server_commands(plan)
    elapsed = 0.0
    steps = []
    for resource in chain.resources:
        step = step_of(resource, first)
        elapsed += STEPS[step].seconds
        steps.append({"name": resource.name, "type": resource.type, "step": step,
                      "seconds": STEPS[step].seconds, "done_at": elapsed})
    return steps


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def render(results: dict[int, dict]) -> str:
    lines = ["| cluster | servers | resources | longest chain (resources) "
             "| longest chain (remote commands) | simulated wall time |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for workers, row in results.items():
        label = f"{CONTROL_PLANES} + {workers}"
        if "refused" in row:
            lines.append(f"| {label} | | refused: {row['refused']} | | | |")
            continue
        lines.append(f"| {label} | {row['servers']} | {row['resources']} | "
                     f"{row['chain_resources']} | {row['chain_commands']} | "
                     f"{minutes(row['wall_seconds'])} |")
    smallest = results[WORKERS[0]]
    lines += ["", f"The slowest chain ({CONTROL_PLANES} + {WORKERS[0]}; the same steps at every "
              "size):", "", "| # | resource | step | s | done at |",
              "| ---: | --- | --- | ---: | ---: |"]
    for index, step in enumerate(smallest["chain"], start=1):
        lines.append(f"| {index} | `{step['name']}` | {step['step']} | {step['seconds']:g} | "
                     f"{minutes(step['done_at'])} |")
    lines += ["", "Latency model (`bench/latency_model.py`; assumptions, not measurements):", "",
              "| step | s | basis |", "| --- | ---: | --- |"]
    lines += [f"| {name} | {step.seconds:g} | {step.basis} |" for name, step in STEPS.items()]
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
    measured = [row for row in results.values() if "refused" not in row]
    chains = {(row["chain_resources"], row["chain_commands"], row["wall_seconds"])
              for row in measured}
    if len(chains) != 1:
        print(f"the critical path grows with workers: {chains}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "critical_path.json").write_text(json.dumps(
        {"sizes": results, "hetzner_k3s_claim_seconds": HETZNER_K3S_CLAIM,
         "steps": {name: vars(step) for name, step in STEPS.items()}}, indent=2))
    text = render(results)
    (args.out / "critical_path.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
