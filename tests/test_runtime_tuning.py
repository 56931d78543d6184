"""The program relaxes the garbage collector for its own process; the offline engine undoes it."""

from __future__ import annotations

import gc

from components import runtime_tuning
from tests.helpers import plan_example


def test_relaxing_freezes_the_heap_and_raises_the_thresholds():
    before = gc.get_threshold()
    try:
        runtime_tuning.relax_garbage_collector()
        assert gc.get_threshold() == runtime_tuning.GENERATION_THRESHOLDS
        assert gc.get_freeze_count() > 0
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def test_the_program_relaxes_the_collector_once_before_planning(monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(runtime_tuning, "relax_garbage_collector", lambda: calls.append("relaxed"))
    plan_example("dev")
    assert calls == ["relaxed"]


def test_the_offline_engine_gives_the_host_process_its_collector_back():
    before = gc.get_threshold()
    plan_example("dev")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
