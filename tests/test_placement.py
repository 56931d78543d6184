"""Spread placement groups: at most 10 servers each, membership by stable index."""

from __future__ import annotations

from cluster_plan.placement import (
    groups_needed,
    split_control_plane,
    split_pool,
)


def test_23_workers_need_3_groups_of_at_most_10() -> None:
    groups = split_pool(23)
    assert [g.suffix for g in groups] == ["pg-1", "pg-2", "pg-3"]
    assert [len(g.members) for g in groups] == [10, 10, 3]
    assert groups[2].members == (21, 22, 23)


def test_growing_a_pool_keeps_every_existing_server_in_its_group() -> None:
    def membership(count: int) -> dict[int, str]:
        return {index: g.suffix for g in split_pool(count) for index in g.members}

    before, after = membership(10), membership(11)
    assert all(after[index] == group for index, group in before.items())
    assert after[11] == "pg-2"


def test_empty_pool_has_no_group() -> None:
    assert split_pool(0) == []


def test_control_plane_groups_are_per_location() -> None:
    groups = split_control_plane(5, ["fsn1", "nbg1", "hel1"])
    assert {g.suffix: g.members for g in groups} == {
        "pg-fsn1-1": (1, 4), "pg-nbg1-1": (2, 5), "pg-hel1-1": (3,)}


def test_control_plane_in_one_location_splits_by_10() -> None:
    groups = split_control_plane(12, ["nbg1"])
    assert [(g.suffix, len(g.members)) for g in groups] == [("pg-nbg1-1", 10), ("pg-nbg1-2", 2)]


def test_groups_needed_counts_control_plane_and_pools() -> None:
    assert groups_needed(3, ["fsn1", "nbg1", "hel1"], [23, 0, 1]) == 3 + 3 + 0 + 1
