"""The longest chain of resources in a recorded plan: what a deployment must do one after another.

Edges are the recorded dependencies (explicit ``depends_on`` and input dependencies; the SDK has
already expanded a dependency on a component into its children). Components are skipped: they
take no time. A latency model turns the chain into a simulated wall time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from tools.lib.engine import Plan, RecordedResource

Latency = Callable[[RecordedResource], float]
# Constraints that are not dependency edges: "r finishes no earlier than `seconds` after the
# resource `urn` finished" (an atomic Helm release waiting for every node registered meanwhile).
FinishAfter = Callable[[RecordedResource], list[tuple[str, float]]]


@dataclass(frozen=True)
class Chain:
    resources: list[RecordedResource]
    seconds: float

    @property
    def length(self) -> int:
        return len(self.resources)

    def count(self, resource_type: str) -> int:
        return sum(1 for r in self.resources if r.type == resource_type)


def longest_chain(plan: Plan, latency: Latency = lambda _: 1.0,
                  finish_after: FinishAfter = lambda _: []) -> Chain:
    """The dependency chain with the largest total latency (ties: the longer chain)."""
    by_urn = {r.urn: r for r in plan.resources if r.custom}

    @lru_cache(maxsize=None)
    def best(urn: str) -> tuple[float, int, tuple[str, ...]]:
        resource = by_urn[urn]
        upstream = [best(dep) for dep in set(resource.dependencies) if dep in by_urn]
        cost, length, path = max(upstream, default=(0.0, 0, ()))
        own = (cost + latency(resource), length + 1, path + (urn,))
        waits = [(done + seconds, length + 1, path + (urn,))
                 for other, seconds in finish_after(resource) if other in by_urn
                 for done, length, path in [best(other)]]
        return max([own, *waits])

    if not by_urn:
        return Chain([], 0.0)
    cost, _, path = max(best(urn) for urn in by_urn)
    return Chain([by_urn[u] for u in path], cost)
