"""Fuzzed stack files never crash the input path: a small seeded run (the full run: tests/e2e)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, seed, settings

from tests.stack_fuzz import example_configs, mutated_config, plan_input

BASES = example_configs()


@seed(12)
@settings(max_examples=80, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(config=mutated_config(BASES))
def test_a_mutated_stack_file_is_accepted_or_refused_never_a_crash(config: dict) -> None:
    with tempfile.TemporaryDirectory() as directory:
        outcome = plan_input(Path(directory), config)
    event(outcome)  # tallied by --hypothesis-show-statistics
    assert outcome in ("accepted", "refused")
