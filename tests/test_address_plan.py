"""The address plan: every private address follows from a name or an index, never a position."""

from __future__ import annotations

from ipaddress import IPv4Network

import pytest

from cluster_plan.address_plan import (
    AddressPlanError,
    PoolBlockRequest,
    derived_block,
    plan_addresses,
)

NET = IPv4Network("10.0.0.0/16")


def pools(*names: str, count: int = 3) -> list[PoolBlockRequest]:
    return [PoolBlockRequest(name, count) for name in names]


def test_gateway_is_the_first_address_and_infrastructure_sits_in_block_1() -> None:
    plan = plan_addresses(NET, 3, [])
    assert plan.gateway == "10.0.0.1"
    assert plan.bastion == "10.0.1.1"
    assert plan.api_load_balancer == "10.0.1.2"
    assert [plan.control_plane(n) for n in (1, 2, 3)] == ["10.0.1.11", "10.0.1.12", "10.0.1.13"]


def test_block_0_is_left_to_hetzner_assigned_addresses() -> None:
    plan = plan_addresses(NET, 5, pools("a", "b", "c", "d"))
    planned = [plan.bastion, plan.api_load_balancer, *(plan.control_plane(n) for n in range(1, 6))]
    planned += [plan.worker(name, n) for name in "abcd" for n in (1, 2, 3)]
    assert not any(address.startswith("10.0.0.") for address in planned)
    assert len(set(planned)) == len(planned)


def test_a_pool_block_depends_on_its_name_only() -> None:
    alone = plan_addresses(NET, 1, pools("workers"))
    crowded = plan_addresses(NET, 3, pools("gpu", "arm", "workers"))
    assert alone.pool_blocks["workers"] == crowded.pool_blocks["workers"] == derived_block(NET, "workers")
    assert alone.worker("workers", 2) == crowded.worker("workers", 2)


def test_worker_addresses_are_index_offsets_in_the_pool_block() -> None:
    plan = plan_addresses(NET, 1, pools("workers", count=23))
    block = plan.pool_range("workers")
    assert block.prefixlen == 24 and block.subnet_of(NET)
    assert plan.worker("workers", 1) == str(block.network_address + 1)
    assert plan.worker("workers", 23) == str(block.network_address + 23)


def test_derivation_is_stable_across_runs() -> None:
    # A pinned value: if this changes, every existing cluster's worker addresses would move.
    assert derived_block(NET, "workers") == 116
    assert str(plan_addresses(NET, 1, pools("workers")).pool_range("workers")) == "10.0.116.0/24"


def test_large_networks_number_blocks_across_octets() -> None:
    plan = plan_addresses(IPv4Network("10.0.0.0/8"), 1, [PoolBlockRequest("p", 1, block=300)])
    assert str(plan.pool_range("p")) == "10.1.44.0/24"


def test_explicit_block_wins_over_the_name() -> None:
    plan = plan_addresses(NET, 1, [PoolBlockRequest("workers", 2, block=7)])
    assert plan.worker("workers", 1) == "10.0.7.1"


def colliding_names() -> tuple[str, str]:
    seen: dict[int, str] = {}
    for n in range(10_000):
        name = f"pool{n}"
        block = derived_block(NET, name)
        if block in seen:
            return seen[block], name
        seen[block] = name
    raise AssertionError("no collision found")


def test_two_pools_on_one_block_are_refused_with_a_free_block_to_use() -> None:
    first, second = colliding_names()
    block = derived_block(NET, first)
    with pytest.raises(AddressPlanError) as caught:
        plan_addresses(NET, 1, pools("other", first, second))
    error = caught.value
    assert error.key == "workerPools[2].addressBlock"
    assert error.message == (f"pools '{first}' and '{second}' both get address block {block} "
                             f"(10.0.{block}.0/24).")
    assert error.fix.startswith("set workerPools[2].addressBlock: 2 (a free block) on the pool "
                                "you are adding.")
    # The suggested fix really resolves it.
    fixed = [*pools("other", first), PoolBlockRequest(second, 3, block=2)]
    assert plan_addresses(NET, 1, fixed).worker(second, 1) == "10.0.2.1"


@pytest.mark.parametrize("block", [0, 1, 256])
def test_explicit_block_outside_the_pool_range_is_refused(block: int) -> None:
    with pytest.raises(AddressPlanError) as caught:
        plan_addresses(NET, 1, [PoolBlockRequest("p", 1, block=block)])
    assert caught.value.key == "workerPools[0].addressBlock"
    assert caught.value.message.startswith(f"{block} is outside the worker-pool blocks 2–255 of "
                                           "10.0.0.0/16;")


def test_network_smaller_than_a_20_is_refused() -> None:
    with pytest.raises(AddressPlanError, match=r"network.cidr: 10.0.0.0/21 is too small"):
        plan_addresses(IPv4Network("10.0.0.0/21"), 1, [])


def test_a_pool_larger_than_its_block_is_refused() -> None:
    with pytest.raises(AddressPlanError) as caught:
        plan_addresses(NET, 1, pools("big", count=255))
    assert caught.value.key == "workerPools[0].count"
