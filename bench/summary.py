"""The benchmark's headline figures, from the committed results.

    python bench/summary.py [--results bench/results]

Prints, per size, the plan's fair-floor ratio and true peak memory (``VmHWM`` of the measured
process: ``bench/plan_cost.py``), and the modelled create at 3 + 2, 3 + 20 and 3 + 96 with the
bastion's SSH admission in the model (``bench/critical_path.py``): when ``pulumi up`` returns,
when every node is Ready, the target and by how much it is missed. Nothing is measured here:
re-run those two scripts to refresh the results.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CREATE_SIZES = ("2", "20", "96")


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def plan_lines(plan_cost: dict) -> list[str]:
    lines = ["Plan cost (median of fresh interpreters; fair floor = bench/floor.py):",
             f"{'nodes':>6} {'servers':>8} {'program s':>10} {'floor s':>8} "
             f"{'fair_floor_ratio':>17} {'peak MiB (VmHWM)':>17} {'floor MiB':>10}"]
    for nodes, row in plan_cost["sizes"].items():
        program, floor = row["program"], row.get("floor") or {}
        if "refused" in program:
            lines.append(f"{nodes:>6} refused by the config check")
            continue
        lines.append(f"{nodes:>6} {program['servers']:>8} {program['seconds']:>10.2f} "
                     f"{floor['seconds']:>8.2f} {row['fair_floor_ratio']:>17.2f} "
                     f"{program['peak_mib']:>17.0f} {floor['peak_mib']:>10.0f}")
    machine = plan_cost.get("machine")
    if machine:
        before = " / ".join(f"{v:.2f}" for v in machine["load_average_before"])
        lines.append(f"measured with load average {before} on {machine['cpus']} CPUs")
    return lines


def create_lines(critical: dict) -> list[str]:
    targets = {str(k): v for k, v in critical.get("target_seconds", {}).items()}
    lines = ["Modelled create, private HA (bench/latency_model.py; assumptions, not measurements):",
             f"{'cluster':>8} {'pulumi up':>10} {'nodes Ready':>12} {'target':>7} "
             f"{'missed by':>10}  SSH admission (burst, per minute)"]
    for workers in CREATE_SIZES:
        row = critical["sizes"][workers]
        ready = row["cluster_ready_seconds"]
        target = targets.get(workers)
        missed = "" if target is None else ("met" if ready <= target else minutes(ready - target))
        admission = row["growth"]["admission"]
        lines.append(f"{'3 + ' + workers:>8} {minutes(row['wall_seconds']):>10} "
                     f"{minutes(row['nodes_ready_seconds']):>12} "
                     f"{minutes(target) if target else '':>7} {missed:>10}  "
                     f"{admission['burst']}, {admission['per_minute']}")
        mirror = row.get("variants", {}).get("registry_mirror")
        if mirror is not None and target is not None:
            ready = mirror["cluster_ready_seconds"]
            missed = "met" if ready <= target else minutes(ready - target)
            lines.append(f"{'':>8} {'':>10} {minutes(ready):>12} {minutes(target):>7} "
                         f"{missed:>10}  with k3s.embeddedRegistryMirror.enabled")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    plan_cost = json.loads((args.results / "plan_cost.json").read_text())
    critical = json.loads((args.results / "critical_path.json").read_text())
    print("\n".join(plan_lines(plan_cost) + [""] + create_lines(critical)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
