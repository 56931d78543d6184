"""workerPools[].autoscaling in the config model: the size range, and the limits that count max."""

from __future__ import annotations

from typing import Any

import pytest

from stack_config import validate_cluster_spec
from stack_config.autoscaling import MAX_AUTOSCALED_SERVERS, MAX_NODE_GROUP_NAME
from tests.helpers import config_problems
from upstream import hetzner


def stack(*pools: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {"clusterName": "dev", "workerPools": list(pools), **overrides}


def scaled(name: str = "workers", **autoscaling: Any) -> dict[str, Any]:
    return {"name": name, "autoscaling": {"min": 1, "max": 5, **autoscaling}}


def test_an_autoscaled_pool_without_count_starts_at_its_minimum() -> None:
    spec = validate_cluster_spec(stack(scaled(min=3, max=7)))
    assert spec.worker_pools[0].count == 3
    assert spec.worker_pools[0].max_size == 7


def test_a_fixed_pool_keeps_the_fixed_default_and_its_count_is_its_maximum() -> None:
    spec = validate_cluster_spec(stack({"name": "fixed"}, scaled()))
    fixed, autoscaled = spec.worker_pools
    assert (fixed.count, fixed.max_size, fixed.autoscaling) == (1, 1, None)
    assert autoscaled.autoscaling is not None


def test_count_outside_min_max_is_refused_with_the_key_and_the_fix() -> None:
    for count in (0, 6):
        assert config_problems(stack({**scaled(), "count": count})) == [
            f"workerPools[0].count: {count} is outside autoscaling.min..max (1..5). Fix: set "
            "count within that range, or remove count (it then defaults to autoscaling.min)."]


def test_max_below_min_is_refused() -> None:
    assert config_problems(stack(scaled(min=4, max=2))) == [
        "workerPools[0].autoscaling.max: max (2) is smaller than min (4). Fix: set max to min "
        "or more."]


def test_autoscaling_needs_the_ccm_that_sets_provider_ids() -> None:
    [problem] = config_problems(stack(scaled(), addons={"ccm": {"enabled": False}}))
    assert problem.startswith("workerPools[0].autoscaling: the cluster-autoscaler's Hetzner "
                              "provider needs hcloud-ccm")


def test_the_node_group_name_leaves_room_for_the_servers_random_suffix() -> None:
    pool = "p" * 40
    name = "c" * (MAX_NODE_GROUP_NAME - len(pool))  # '-' makes it one too long
    [problem] = config_problems(stack(scaled(pool), clusterName=name))
    assert problem.startswith(f"workerPools[0].name: the node group '{name}-{pool}' is longer")
    validate_cluster_spec(stack(scaled(pool), clusterName=name[:-1]))


def test_max_counts_toward_the_servers_one_network_can_attach() -> None:
    # 1 control plane + 2 Pulumi nodes, but up to 100 workers once the autoscaler has grown.
    [problem] = config_problems(stack({**scaled(max=100), "count": 2}))
    assert problem.startswith("workerPools: 101 servers (autoscaled pools counted at "
                              "autoscaling.max) exceed")
    validate_cluster_spec(stack({**scaled(max=99), "count": 2}))


def test_autoscaled_servers_must_fit_the_addresses_hetzner_assigns(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Autoscaled servers take addresses from block 0; count them at max − count, summed. Today
    # the ~100-servers-per-network limit refuses such a stack first; lift it to reach this rule.
    monkeypatch.setattr(hetzner, "MAX_SERVERS_PER_NETWORK", 1000)
    pools = [{**scaled(f"p{i}", min=0, max=50), "count": 0, "addressBlock": 10 + i}
             for i in range(5)]
    problems = config_problems(stack(*pools))
    assert any(p.startswith("workerPools: autoscaled pools may create 250 servers") and
               f"keep the sum at {MAX_AUTOSCALED_SERVERS} or less" in p for p in problems)


def test_each_autoscaled_group_with_spread_counts_toward_the_placement_group_limit() -> None:
    # 1 control-plane group; 24 pools of 1 fixed node + a share of 1: 24 + 24 = 49 → 49 + 1 = 50.
    pools = [{**scaled(f"p{i}", min=1, max=2), "count": 1, "addressBlock": 10 + i}
             for i in range(24)]
    validate_cluster_spec(stack(*pools))
    pools.append({**scaled("p24", min=1, max=2), "count": 1, "addressBlock": 40})
    [problem] = config_problems(stack(*pools))
    assert problem.startswith("workerPools: the servers need 51 spread placement groups")
    assert "one per autoscaled node group" in problem


def test_a_share_too_large_for_one_spread_group_adds_no_group(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The provider puts a node group into one placement group of at most 10 servers.
    monkeypatch.setattr(hetzner, "MAX_SERVERS_PER_NETWORK", 1000)
    pools = [{**scaled(f"p{i}", min=1, max=12), "count": 1, "addressBlock": 10 + i}
             for i in range(6)]
    pools += [{"name": f"f{i}", "count": 1, "addressBlock": 20 + i} for i in range(43)]
    validate_cluster_spec(stack(*pools))  # 1 + 6 + 43 = 50 groups: the shares of 11 add none


def test_a_k3s_minor_without_an_autoscaler_release_is_refused() -> None:
    raw = stack(scaled(), k3s={"version": "v1.31.4+k3s1"},
                cilium={"version": "1.18.12"})
    problems = config_problems(raw)
    assert any(p.startswith("k3s.version: the cluster-autoscaler has no release for "
                            "Kubernetes 1.31") for p in problems), problems


def test_a_share_too_large_for_spread_is_reported_as_an_advisory() -> None:
    large = validate_cluster_spec(stack({**scaled(min=1, max=12), "count": 1}))
    assert [n for n in large.advisories() if n.startswith("workerPools[0].autoscaling:")] == [
        "workerPools[0].autoscaling: the autoscaler may create 11 servers in node group "
        "'dev-workers', more than one spread placement group holds (10); they run without "
        "spread. Raise count or lower max to keep them spread."]
    fits = validate_cluster_spec(stack({**scaled(min=1, max=11), "count": 1}))
    assert not [n for n in fits.advisories() if n.startswith("workerPools[0].autoscaling:")]


def test_the_auto_assigned_range_is_block_0_of_the_address_plan_less_the_gateway() -> None:
    from cluster_plan.address_plan import AUTO_ASSIGN_BLOCK, HOSTS_PER_BLOCK, plan_addresses
    from upstream.cluster_autoscaler import AUTO_ASSIGNED_HOSTS
    from upstream.hetzner import NETWORK_GATEWAY_OFFSET

    assert AUTO_ASSIGNED_HOSTS == HOSTS_PER_BLOCK - NETWORK_GATEWAY_OFFSET
    plan = plan_addresses(validate_cluster_spec(stack()).network.cidr, 1, [])
    assert plan.block(AUTO_ASSIGN_BLOCK).network_address == plan.network.network_address
    assert MAX_AUTOSCALED_SERVERS < AUTO_ASSIGNED_HOSTS
