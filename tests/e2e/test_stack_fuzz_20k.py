"""The full fuzz run: 20,000 mutated stack files through the input path, none may crash."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings

from tests.stack_fuzz import example_configs, mutated_config, plan_input

BASES = example_configs()


@pytest.mark.e2e
@settings(max_examples=20_000, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(config=mutated_config(BASES))
def test_20000_mutated_stack_files_are_accepted_or_refused_never_a_crash(config: dict) -> None:
    with tempfile.TemporaryDirectory() as directory:
        outcome = plan_input(Path(directory), config)
    event(outcome)  # tallied by --hypothesis-show-statistics
    assert outcome in ("accepted", "refused")
