"""Mutated stack files through the whole offline plan (tools/plan.py): exit 0, 1 or 2, never 3
(a traceback). Slower than the input-path run, so fewer examples."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings

from tests.stack_fuzz import example_configs, mutated_config, stack_file_text
from tools import plan as plan_cli

BASES = example_configs()


@pytest.mark.e2e
@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(config=mutated_config(BASES))
def test_a_mutated_stack_never_makes_the_plan_exit_3(config: dict,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        stack_file = Path(directory) / "Pulumi.fuzz.yaml"
        stack_file.write_text(stack_file_text(config))
        code = plan_cli.main(["--stack-file", str(stack_file)])
    output = capsys.readouterr()
    event(f"exit {code}")
    assert code in (plan_cli.EXIT_OK, plan_cli.EXIT_CONFIG, plan_cli.EXIT_POLICY), output.err[-3000:]
