"""Longest dependency chain over a recorded plan."""

from __future__ import annotations

from pathlib import Path

from tools.lib.critical_path import longest_chain
from tools.lib.engine import run_program
from tools.lib.stack_files import StackConfig

PROGRAM = '''
import pulumi, pulumi_random as random
first = random.RandomPet("first")
second = random.RandomPet("second", prefix=first.id)
for i in range(int(pulumi.Config().get("fanout") or "3")):
    random.RandomPet(f"leaf-{i}", prefix=second.id)
side = random.RandomPet("side")
'''


def chain_for(tmp_path: Path, fanout: int):
    (tmp_path / "__main__.py").write_text(PROGRAM)
    plan = run_program(tmp_path, StackConfig("s", "p", {"p:fanout": str(fanout)}))
    return plan, longest_chain(plan)


def test_chain_follows_dependencies(tmp_path: Path) -> None:
    _, chain = chain_for(tmp_path, 3)
    assert [r.name for r in chain.resources][:2] == ["first", "second"]
    assert chain.length == 3 and chain.seconds == 3.0


def test_parallel_fan_out_does_not_lengthen_the_chain(tmp_path: Path) -> None:
    assert chain_for(tmp_path, 2)[1].length == chain_for(tmp_path, 20)[1].length == 3


def test_latency_model_weights_the_chain(tmp_path: Path) -> None:
    plan, _ = chain_for(tmp_path, 2)
    chain = longest_chain(plan, lambda r: 100.0 if r.name == "side" else 1.0)
    assert [r.name for r in chain.resources] == ["side"] and chain.seconds == 100.0
