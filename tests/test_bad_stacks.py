"""Stack files the config model accepts but the policy pack refuses (or advises against).

``tests/bad_stacks/<policy>[--variant].yaml``: ``tools/plan.py`` exits 2 naming the policy.
``tests/advisory_stacks/<policy>.yaml``: it exits 0 and reports the policy as advisory.
Most bad Cilium values never get this far: the config model refuses them first (exit 1), which
``test_policy_handwritten.py`` shows next to the policy catching the same values written by hand.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import PROJECT_DIR
from tools import plan as plan_cli

TESTS = Path(__file__).resolve().parent
BAD_STACKS = sorted((TESTS / "bad_stacks").glob("*.yaml"))
ADVISORY_STACKS = sorted((TESTS / "advisory_stacks").glob("*.yaml"))


def expected_policy(stack_file: Path) -> str:
    return stack_file.stem.split("--")[0]


def plan(stack_file: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = plan_cli.main(["--program", str(PROJECT_DIR), "--stack-file", str(stack_file)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize("stack_file", BAD_STACKS, ids=lambda p: p.stem)
def test_a_bad_stack_fails_the_plan_with_exit_2_naming_the_policy(
        stack_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, output = plan(stack_file, capsys)
    assert code == plan_cli.EXIT_POLICY, output
    assert f"mandatory: [{expected_policy(stack_file)}]" in output


@pytest.mark.parametrize("stack_file", ADVISORY_STACKS, ids=lambda p: p.stem)
def test_an_advisory_stack_plans_with_exit_0_and_the_advisory(
        stack_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, output = plan(stack_file, capsys)
    assert code == plan_cli.EXIT_OK, output
    assert f"advisory: [{expected_policy(stack_file)}]" in output
    assert "mandatory:" not in output


def test_every_stack_file_names_a_policy_of_the_pack() -> None:
    from policies.pack import all_policies

    names = {p.name for p in all_policies()}
    assert BAD_STACKS and ADVISORY_STACKS
    for stack_file in BAD_STACKS + ADVISORY_STACKS:
        assert expected_policy(stack_file) in names, stack_file.name


def test_the_real_cli_exits_2_on_a_bad_stack() -> None:
    stack_file = BAD_STACKS[0]
    result = subprocess.run(
        [sys.executable, str(PROJECT_DIR / "tools" / "plan.py"),
         "--program", str(PROJECT_DIR), "--stack-file", str(stack_file)],
        capture_output=True, text=True, timeout=120, cwd=PROJECT_DIR)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"[{expected_policy(stack_file)}]" in result.stdout
