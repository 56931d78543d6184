"""Spread placement groups: which group each server joins.

Hetzner spread groups hold at most 10 servers, and a project at most 50 groups
(``upstream.hetzner``). Servers are split by their stable index, never by list position: server n
of a pool joins group ceil(n / 10), so growing a pool from 10 to 11 adds a second group and leaves
the first ten servers where they are. Control-plane servers are spread round-robin over
``controlPlane.locations`` and grouped per location: Hetzner's docs do not say a spread group may
span locations, and one group per location is safe either way (inferred, not tested live).

Pure: no Pulumi, no ``stack_config`` imports (the config validator counts groups with it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from upstream.hetzner import MAX_SERVERS_PER_PLACEMENT_GROUP


@dataclass(frozen=True)
class PlacementGroupPlan:
    suffix: str
    """Appended to the owning component's name: ``pg-1``, or ``pg-fsn1-1`` for control planes."""
    members: tuple[int, ...]
    """1-based indexes of the servers in the group."""


def control_plane_location(index: int, locations: Sequence[str]) -> str:
    """Location of control-plane server ``index`` (1-based): round-robin over ``locations``."""
    return locations[(index - 1) % len(locations)]


def split_pool(count: int) -> list[PlacementGroupPlan]:
    """Groups for servers 1…count of one worker pool (one location)."""
    return _split([(index, "") for index in range(1, count + 1)])


def split_control_plane(count: int, locations: Sequence[str]) -> list[PlacementGroupPlan]:
    """Groups for control-plane servers 1…count, one series per location."""
    located = [(index, f"{control_plane_location(index, locations)}-")
               for index in range(1, count + 1)]
    return _split(located)


def groups_needed(control_plane_count: int, control_plane_locations: Sequence[str],
                  pool_counts: Sequence[int]) -> int:
    groups = len(split_control_plane(control_plane_count, control_plane_locations))
    return groups + sum(len(split_pool(count)) for count in pool_counts)


def _split(servers: list[tuple[int, str]]) -> list[PlacementGroupPlan]:
    # A server's group depends only on how many servers of its series come before it.
    members: dict[str, list[int]] = {}
    seen: dict[str, int] = {}
    for index, series in servers:
        rank = seen.get(series, 0)
        seen[series] = rank + 1
        suffix = f"pg-{series}{rank // MAX_SERVERS_PER_PLACEMENT_GROUP + 1}"
        members.setdefault(suffix, []).append(index)
    return [PlacementGroupPlan(suffix, tuple(indexes)) for suffix, indexes in members.items()]
