"""The benchmarks' own correctness (not their timings): the floor is a fair comparison, the
critical-path bench reports what the graph says."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bench.floor import write_floor_program
from bench.plan_cost import linear_fit
from tests.helpers import plan_example
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
