"""Config rules the Hetzner layer adds: limits checked before any resource exists, exact messages."""

from __future__ import annotations



from cluster_plan.address_plan import derived_block
from stack_config import validate_cluster_spec
from tests.helpers import config_problems, minimal_config


problems = config_problems
base = minimal_config


def test_network_must_leave_room_for_pool_blocks() -> None:
    assert problems(base(network={"cidr": "10.0.0.0/21"})) == [
        "network.cidr: 10.0.0.0/21 is too small for the address plan (one /24 block per worker "
        "pool). Fix: use a /20 or larger, e.g. 10.0.0.0/16."]


def test_a_20_network_is_accepted() -> None:
    spec = validate_cluster_spec(base(network={"cidr": "172.16.0.0/20"}))
    assert spec.address_plan.gateway == "172.16.0.1"


def test_pools_colliding_on_one_address_block_are_refused_naming_the_key() -> None:
    from ipaddress import IPv4Network
    net = IPv4Network("10.0.0.0/16")
    seen: dict[int, str] = {}
    for n in range(5000):
        name = f"p{n}"
        block = derived_block(net, name)
        if block in seen:
            first, second = seen[block], name
            break
        seen[block] = name
    [message] = problems(base(workerPools=[{"name": first}, {"name": second}]))
    assert message.startswith(
        f"workerPools[1].addressBlock: pools '{first}' and '{second}' both get address block "
        f"{block} (10.0.{block}.0/24). Fix: set workerPools[1].addressBlock: ")
    assert "on the pool you are adding" in message


def test_explicit_address_block_resolves_a_collision() -> None:
    spec = validate_cluster_spec(base(workerPools=[{"name": "a", "addressBlock": 9}]))
    assert spec.address_plan.worker("a", 1) == "10.0.9.1"


def test_explicit_address_block_in_the_infrastructure_range_is_refused() -> None:
    [message] = problems(base(workerPools=[{"name": "a", "addressBlock": 1}]))
    assert message.startswith("workerPools[0].addressBlock: 1 is outside the worker-pool blocks "
                              "2–255 of 10.0.0.0/16;")


def test_more_than_50_placement_groups_are_refused() -> None:
    # 1 control-plane group + 51 one-node pools; a /8 keeps the pools' address blocks apart.
    pools = [{"name": f"p{n}", "count": 1} for n in range(51)]
    assert problems(base(network={"cidr": "10.0.0.0/8"}, k3s={"clusterCidr": "172.20.0.0/16",
                                                              "serviceCidr": "172.21.0.0/16"},
                         workerPools=pools)) == [
        "workerPools: the servers need 52 spread placement groups (one per 10 servers of a pool, "
        "of the control plane per location, and one per autoscaled node group); a Hetzner "
        "project holds at most 50. Fix: use fewer, larger worker pools. Other stacks in the same "
        "project count too."]


def test_50_placement_groups_are_accepted() -> None:
    pools = [{"name": f"p{n}", "count": 1} for n in range(49)]
    validate_cluster_spec(base(network={"cidr": "10.0.0.0/8"},
                               k3s={"clusterCidr": "172.20.0.0/16", "serviceCidr": "172.21.0.0/16"},
                               workerPools=pools))


def test_api_load_balancer_type_must_take_every_control_plane_server() -> None:
    assert problems(base(k3s={"datastoreEndpoint": "postgres://db/k3s"},
                         controlPlane={"count": 27, "loadBalancer": {"enabled": True,
                                                                     "type": "lb11"}})) == [
        "controlPlane.loadBalancer.type: lb11 takes at most 25 targets; the API load balancer "
        "needs 27 (one per control-plane server). Fix: pick a larger type or run fewer "
        "control-plane servers."]


def test_icmp_is_open_by_default_and_closable() -> None:
    assert [str(c) for c in validate_cluster_spec(base()).access.icmp_allowed_cidrs] == [
        "0.0.0.0/0", "::/0"]
    assert validate_cluster_spec(base(access={"icmpAllowedCidrs": []})).access.icmp_allowed_cidrs == []


def test_existing_hetzner_keys_replace_the_generated_pair() -> None:
    assert validate_cluster_spec(base()).access.generates_ssh_key
    spec = validate_cluster_spec(base(access={"hcloudSshKeyNames": ["alice@laptop"]}))
    assert not spec.access.generates_ssh_key


def test_api_cidrs_in_private_mode_are_reported_as_ineffective() -> None:
    spec = validate_cluster_spec(base(network={"privateOnly": True}, bastion={"enabled": True},
                                      access={"apiAllowedCidrs": ["203.0.113.0/24"]}))
    assert any(note.startswith("access.apiAllowedCidrs has no effect with network.privateOnly")
               for note in spec.advisories())
