"""Offline plan cost against cluster size, and against the no-logic floor.

    python bench/plan_cost.py [--runs 5] [--out bench/results]

For 3, 10, 50, 100 nodes (private network: bastion, 3 control planes, API LB, one worker pool;
"nodes" counts servers, bastion included, with at least one worker, so the 3-node point is the
smallest such cluster: 5 servers) the real program is planned five times, each run in a fresh
interpreter (so peak RSS is per run), and the median is reported. The floor registers the same
resources as the program — typed SDK classes, dependency edges, secret inputs, resource options
(``bench/floor.py``) — with no logic, under the same mocks, in its own fresh interpreters; the
ratio of the medians is ``fair_floor_ratio``. Peak memory is ``VmHWM`` read in the measured
process itself.
300 nodes exceed one Hetzner network (~100 servers): the bench records the config refusal.
Writes plan_cost.json, plan_cost.md and plan_cost.png under --out, with a least-squares fit of
time against servers (linear growth: R² close to 1).
"""

from __future__ import annotations

import argparse
import json
import os
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
from tools.lib.engine import run_program  # noqa: E402
from tools.lib.stack_files import StackConfig, load_stack_config  # noqa: E402
from tests.helpers import write_stack_file  # noqa: E402

SIZES = (3, 10, 50, 100, 300)
SERVER = "hcloud:index/server:Server"


def stack_config_for(nodes: int, directory: Path) -> StackConfig:
    stack_file = write_stack_file(directory, private_cluster(nodes_to_workers(nodes)), "bench")
    return load_stack_config(ROOT, stack_file, "bench")


def once(nodes: int) -> dict:
    """One plan of the real program in this (fresh) process: seconds, peak RSS, resources."""
    with tempfile.TemporaryDirectory() as tmp:
        config = stack_config_for(nodes, Path(tmp))
        start = time.perf_counter()
        try:
            plan = run_program(ROOT, config)
        except ConfigError as error:
            return {"refused": str(error)}
        seconds = time.perf_counter() - start
    return _sample(seconds, plan)


def once_floor(floor_dir: Path) -> dict:
    """One plan of the floor program in this (fresh) process, which runs nothing else."""
    start = time.perf_counter()
    plan = run_program(floor_dir, StackConfig("bench", "k3s-hcloud"))
    return _sample(time.perf_counter() - start, plan)


def peak_rss_mib() -> float:
    """This process's own peak resident set (``VmHWM``), read in the process that planned.

    ``ru_maxrss`` of a child seen from the parent (RUSAGE_CHILDREN) is the largest of all the
    children and can carry the parent's own resident set from before the exec; ``VmHWM`` in
    ``/proc/self/status`` is the high-water mark of this address space alone.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux


def _sample(seconds: float, plan) -> dict:
    return {"seconds": seconds, "peak_mib": peak_rss_mib(),
            "resources": sum(1 for r in plan.resources if r.custom),
            "servers": len(plan.by_type(SERVER))}


def write_floor(nodes: int, directory: Path) -> Path:
    """The floor program for this size, from a plan of the real program (made here, not in the
    measured process, so the floor's peak memory is its own)."""
    directory.mkdir(parents=True, exist_ok=True)
    config = stack_config_for(nodes, directory)
    return write_floor_program(run_program(ROOT, config), directory / "floor")


def measure(arguments: list[str], runs: int) -> dict:
    samples = []
    for _ in range(runs):
        output = subprocess.run([sys.executable, __file__, *arguments],
                                capture_output=True, text=True, check=True, cwd=ROOT).stdout
        samples.append(json.loads(output))
        if "refused" in samples[-1]:
            return samples[-1]
    return {"seconds": statistics.median(s["seconds"] for s in samples),
            "peak_mib": statistics.median(s["peak_mib"] for s in samples),
            "resources": samples[0]["resources"], "servers": samples[0]["servers"], "runs": runs,
            "samples": [round(s["seconds"], 4) for s in samples]}


def linear_fit(xs: list[float], ys: list[float]) -> dict:
    """Least squares y = a + b·x and R² (is the growth linear?)."""
    n = len(xs)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / sxx
    intercept = mean_y - slope * mean_x
    total = sum((y - mean_y) ** 2 for y in ys)
    residual = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys))
    return {"intercept": intercept, "slope": slope, "r2": 1 - residual / total if total else 1.0}


def plot(results: dict, fits: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [n for n in results if "seconds" in results[n]["program"]]
    servers = [results[n]["program"]["servers"] for n in sizes]
    labels = {"program": "k3s-hcloud", "floor": "fair floor (same registrations, no logic)"}
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for mode, style, color in (("program", "o", "C0"), ("floor", "s", "C1")):
        left.plot(servers, [results[n][mode]["seconds"] for n in sizes], style, color=color,
                  label=labels[mode])
        fit = fits[mode]
        end = max(servers)
        left.plot([0, end], [fit["intercept"], fit["intercept"] + fit["slope"] * end],
                  "-" if mode == "program" else "--", color=color, alpha=0.5,
                  label=f"fit: {fit['slope'] * 1000:.0f} ms/server, R²={fit['r2']:.3f}")
        right.plot(servers, [results[n][mode]["peak_mib"] for n in sizes], style + "-",
                   color=color, label=labels[mode])
    left.set(xlabel="servers (bastion + 3 control planes + workers)",
             ylabel="median plan time (s)", title="Offline plan time (5 runs each)")
    right.set(xlabel="servers", ylabel="median peak RSS (MiB)", title="Peak memory per run")
    for axis in (left, right):
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _load(averages) -> str:
    return " / ".join(f"{value:.2f}" for value in averages)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--once", type=int, metavar="NODES", help=argparse.SUPPRESS)
    parser.add_argument("--once-floor", type=Path, metavar="DIR", help=argparse.SUPPRESS)
    parser.add_argument("--replot", action="store_true",
                        help="redraw plan_cost.png from plan_cost.json without measuring")
    args = parser.parse_args()
    if args.replot:
        saved = json.loads((args.out / "plan_cost.json").read_text())
        sizes = {int(n): row for n, row in saved["sizes"].items()}
        plot(sizes, saved["fit_seconds_per_server"], args.out / "plan_cost.png")
        return 0
    if args.once is not None:
        print(json.dumps(once(args.once)))
        return 0
    if args.once_floor is not None:
        print(json.dumps(once_floor(args.once_floor)))
        return 0

    results: dict[int, dict] = {}
    # Seconds on a shared machine mean little without its load: recorded with the results.
    machine = {"cpus": os.cpu_count(), "load_average_before": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        for nodes in SIZES:
            program = measure(["--once", str(nodes)], args.runs)
            floor = {}
            if "seconds" in program:
                floor_dir = write_floor(nodes, Path(tmp) / str(nodes))
                floor = measure(["--once-floor", str(floor_dir)], args.runs)
            results[nodes] = {"program": program, "floor": floor}
            if floor:
                results[nodes]["fair_floor_ratio"] = round(program["seconds"] / floor["seconds"], 3)
            print(nodes, json.dumps(results[nodes]), flush=True)

    measured = [n for n in results if "seconds" in results[n]["program"]]
    servers = [float(results[n]["program"]["servers"]) for n in measured]
    fits = {mode: linear_fit(servers, [results[n][mode]["seconds"] for n in measured])
            for mode in ("program", "floor")}
    args.out.mkdir(parents=True, exist_ok=True)
    machine["load_average_after"] = os.getloadavg()
    (args.out / "plan_cost.json").write_text(json.dumps(
        {"sizes": results, "fit_seconds_per_server": fits, "machine": machine}, indent=2))
    lines = ["| nodes | servers | resources | plan time (median s) | fair floor (s) | ours / floor "
             "| peak RSS (MiB) | floor RSS (MiB) |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for nodes, row in results.items():
        program, floor = row["program"], row["floor"]
        if "refused" in program:
            reason = program["refused"].splitlines()[-1].strip().removeprefix("- ")
            lines.append(f"| {nodes} | | refused: {reason} | | | | | |")
            continue
        lines.append(f"| {nodes} | {program['servers']} | {program['resources']} | "
                     f"{program['seconds']:.2f} | "
                     f"{floor['seconds']:.2f} | {program['seconds'] / floor['seconds']:.1f} | "
                     f"{program['peak_mib']:.0f} | {floor['peak_mib']:.0f} |")
    lines.append("")
    for mode, fit in fits.items():
        lines.append(f"Linear fit, {mode}: {fit['intercept']:.2f} s + "
                     f"{fit['slope'] * 1000:.1f} ms per server, R² = {fit['r2']:.4f}")
    lines.append(f"Load average (1/5/15 min) before: {_load(machine['load_average_before'])}, "
                 f"after: {_load(machine['load_average_after'])} on {machine['cpus']} CPUs")
    (args.out / "plan_cost.md").write_text("\n".join(lines) + "\n")
    plot(results, fits, args.out / "plan_cost.png")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
