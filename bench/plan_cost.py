"""Offline plan cost against cluster size, and against the no-logic floor.

    python bench/plan_cost.py [--runs 5] [--out bench/results]

For 3, 10, 50, 100 nodes (private network, HA control plane, API LB) the real program is planned
five times, each run in a fresh interpreter (so peak RSS is per run), and the median is reported.
The floor registers the same number and types of resources with no logic under the same mocks.
300 nodes exceed one Hetzner network (~100 servers): the bench records the config refusal.
Writes results.json, results.md and plan_cost.png under --out.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.floor import write_floor_program  # noqa: E402
from bench.sizes import nodes_to_workers, private_cluster  # noqa: E402
from stack_config.errors import ConfigError  # noqa: E402
from tools.engine import run_program  # noqa: E402
from tools.stack_files import StackConfig, load_stack_config  # noqa: E402
from tests.helpers import write_stack_file  # noqa: E402

SIZES = (3, 10, 50, 100, 300)


def stack_config_for(nodes: int, directory: Path) -> StackConfig:
    stack_file = write_stack_file(directory, private_cluster(nodes_to_workers(nodes)), "bench")
    return load_stack_config(ROOT, stack_file, "bench")


def once(nodes: int, mode: str) -> dict:
    """One measurement in this (fresh) process: seconds for the plan, peak RSS, resource count."""
    with tempfile.TemporaryDirectory() as tmp:
        config = stack_config_for(nodes, Path(tmp))
        if mode == "floor":
            plan = run_program(ROOT, config)
            floor_dir = write_floor_program(plan, Path(tmp) / "floor")
            start = time.perf_counter()
            plan = run_program(floor_dir, StackConfig("bench", "k3s-hcloud"))
        else:
            start = time.perf_counter()
            try:
                plan = run_program(ROOT, config)
            except ConfigError as error:
                return {"refused": str(error)}
        seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": seconds, "peak_mib": peak_kib / 1024,
            "resources": sum(1 for r in plan.resources if r.custom)}


def measure(nodes: int, mode: str, runs: int) -> dict:
    samples = []
    for _ in range(runs):
        output = subprocess.run([sys.executable, __file__, "--once", str(nodes), mode],
                                capture_output=True, text=True, check=True, cwd=ROOT).stdout
        samples.append(json.loads(output))
        if "refused" in samples[-1]:
            return samples[-1]
    return {"seconds": statistics.median(s["seconds"] for s in samples),
            "peak_mib": statistics.median(s["peak_mib"] for s in samples),
            "resources": samples[0]["resources"], "runs": runs}


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [n for n in results if "seconds" in results[n]["program"]]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for mode, style in (("program", "o-"), ("floor", "s--")):
        left.plot(sizes, [results[n][mode]["seconds"] for n in sizes], style, label=mode)
        right.plot(sizes, [results[n][mode]["peak_mib"] for n in sizes], style, label=mode)
    left.set(xlabel="nodes", ylabel="median plan time (s)", title="Offline plan time")
    right.set(xlabel="nodes", ylabel="median peak RSS (MiB)", title="Peak memory")
    for axis in (left, right):
        axis.grid(True, alpha=0.3)
        axis.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--once", nargs=2, metavar=("NODES", "MODE"))
    args = parser.parse_args()
    if args.once:
        print(json.dumps(once(int(args.once[0]), args.once[1])))
        return 0

    results: dict[int, dict] = {}
    for nodes in SIZES:
        program = measure(nodes, "program", args.runs)
        floor = measure(nodes, "floor", args.runs) if "seconds" in program else {}
        results[nodes] = {"program": program, "floor": floor}
        print(nodes, json.dumps(results[nodes]), flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "plan_cost.json").write_text(json.dumps(results, indent=2))
    lines = ["| nodes | resources | plan time (median s) | floor (s) | ours / floor | peak RSS (MiB) | floor RSS (MiB) |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for nodes, row in results.items():
        program, floor = row["program"], row["floor"]
        if "refused" in program:
            lines.append(f"| {nodes} | refused: `{program['refused'].splitlines()[-1].strip()}` | | | | | |")
            continue
        lines.append(f"| {nodes} | {program['resources']} | {program['seconds']:.2f} | "
                     f"{floor['seconds']:.2f} | {program['seconds'] / floor['seconds']:.2f} | "
                     f"{program['peak_mib']:.0f} | {floor['peak_mib']:.0f} |")
    (args.out / "plan_cost.md").write_text("\n".join(lines) + "\n")
    plot(results, args.out / "plan_cost.png")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
