"""Garbage-collector settings for the program's process (``pulumi preview``/``up`` and the offline plan).

A plan allocates many small, long-lived objects (Outputs, futures, resource state) and frees
few: CPython's default generation-0 threshold (700 allocations) then runs over a thousand
collections in a 100-server plan, each walking a heap that only grows — about a fifth of the CPU
time of that plan, measured with ``gc.get_stats()`` and ``time.process_time()`` (see
``bench/plan_cost.py``). Freezing the import-time heap removes the SDKs' module objects from every
later collection, and a larger generation-0 threshold lets the short-lived garbage of one
registration be collected in batches. Reference cycles are still collected, only less often.

Ref: https://docs.python.org/3/library/gc.html#gc.freeze (meant for exactly this: objects that
live for the whole process, before the work starts)
"""

from __future__ import annotations

import gc

# Allocations between generation-0 collections, and the older generations' multipliers.
GENERATION_THRESHOLDS = (50_000, 20, 100)


def relax_garbage_collector() -> None:
    """Move everything alive now (imported modules, SDK classes) out of the collector's sight and
    collect the young generation less often. Call once, after the imports, before planning."""
    gc.freeze()
    gc.set_threshold(*GENERATION_THRESHOLDS)
