"""The longest chain of resources in a recorded plan: what a deployment must do one after another.

Edges are the recorded dependencies (explicit ``depends_on`` and input dependencies; the SDK has
already expanded a dependency on a component into its children). Components are skipped: they
take no time. A latency model turns the chain into a simulated wall time.

Besides the edges, a resource may have to *wait for late work* it has no edge to: an atomic Helm
release with ``--wait`` polls its DaemonSets until enough of the pods scheduled on the nodes
registered meanwhile are ready (:class:`WaitFor`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from tools.lib.engine import Plan, RecordedResource

Latency = Callable[[RecordedResource], float]


@dataclass(frozen=True)
class WaitFor:
    """"r finishes once at most ``tolerate`` of ``work`` is still running".

    ``work`` is ``(urn, seconds)``: the piece starts when resource ``urn`` finished and runs
    ``seconds`` (e.g. a node registered, then its Cilium agent needs this long to be ready). A
    piece counts only once it has started before the moment considered: a node that registers
    after the release finished is not waited for.
    Ref: helm v3 pkg/kube/ready.go daemonSetReady: a DaemonSet is ready when every scheduled pod
    is updated and ``numberReady >= desiredNumberScheduled - maxUnavailable``.
    """

    work: Sequence[tuple[str, float]] = ()
    tolerate: int = 0


FinishAfter = Callable[[RecordedResource], WaitFor]
_NOTHING = WaitFor()


@dataclass(frozen=True)
class Chain:
    resources: list[RecordedResource]
    seconds: float

    @property
    def length(self) -> int:
        return len(self.resources)

    def count(self, resource_type: str) -> int:
        return sum(1 for r in self.resources if r.type == resource_type)


@dataclass(frozen=True)
class Schedule:
    """When each custom resource finishes under unbounded parallelism, and the path to it."""

    finish: dict[str, float]
    paths: dict[str, tuple[str, ...]] = field(repr=False)
    by_urn: dict[str, RecordedResource] = field(repr=False)

    def chain_to(self, urn: str) -> Chain:
        return Chain([self.by_urn[u] for u in self.paths[urn]], self.finish[urn])

    def longest(self) -> Chain:
        if not self.finish:
            return Chain([], 0.0)
        urn = max(self.finish, key=lambda u: (self.finish[u], len(self.paths[u])))
        return self.chain_to(urn)


def schedule(plan: Plan, latency: Latency = lambda _: 1.0,
             finish_after: FinishAfter = lambda _: _NOTHING) -> Schedule:
    """Finish time of every custom resource: its latest dependency plus its own latency, held
    further by its :class:`WaitFor` (ties: the longer path)."""
    by_urn = {r.urn: r for r in plan.resources if r.custom}

    @lru_cache(maxsize=None)
    def best(urn: str) -> tuple[float, int, tuple[str, ...]]:
        resource = by_urn[urn]
        upstream = [best(dep) for dep in set(resource.dependencies) if dep in by_urn]
        cost, length, path = max(upstream, default=(0.0, 0, ()))
        own = (cost + latency(resource), length + 1, path + (urn,))
        wait = finish_after(resource)
        pieces = [(best(other), seconds) for other, seconds in wait.work if other in by_urn]
        return _held(own, pieces, wait.tolerate, urn)

    done = {urn: best(urn) for urn in by_urn}
    return Schedule({u: d[0] for u, d in done.items()}, {u: d[2] for u, d in done.items()},
                    by_urn)


def _held(own: tuple[float, int, tuple[str, ...]],
          pieces: list[tuple[tuple[float, int, tuple[str, ...]], float]], tolerate: int,
          urn: str) -> tuple[float, int, tuple[str, ...]]:
    """The earliest moment from ``own`` on when at most ``tolerate`` started pieces still run."""
    def running(at: float) -> int:
        return sum(1 for (start, _, _), seconds in pieces if start <= at < start + seconds)

    ends = sorted((start + seconds, length, path) for (start, length, path), seconds in pieces
                  if start + seconds > own[0])
    if running(own[0]) <= tolerate:
        return own
    for end, length, path in ends:
        if running(end) <= tolerate:
            return (end, length + 1, path + (urn,))
    raise AssertionError("unreachable: every piece has ended after the last end")


def longest_chain(plan: Plan, latency: Latency = lambda _: 1.0,
                  finish_after: FinishAfter = lambda _: _NOTHING) -> Chain:
    """The dependency chain with the largest total latency (ties: the longer chain)."""
    return schedule(plan, latency, finish_after).longest()
