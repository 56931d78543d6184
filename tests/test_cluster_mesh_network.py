"""One Hetzner network shared by meshed stacks: ``network.ipRange`` on the stack that creates it,
``network.existing`` on the stack that joins it, and what joining must respect."""

from __future__ import annotations

from ipaddress import IPv4Network

import pytest

from cluster_plan.shared_network import NetworkFacts, join_problems
from stack_config import validate_cluster_spec
from tests.helpers import config_problems, minimal_config

OWNER = NetworkFacts("4711", IPv4Network("10.0.0.0/12"), IPv4Network("10.1.0.0/16"),
                     "eu-central")


def one_problem(**network: object) -> str:
    [problem] = config_problems(minimal_config(network=network))
    return problem


def test_owner_may_make_the_network_wider_than_its_subnet() -> None:
    spec = validate_cluster_spec(minimal_config(network={"cidr": "10.1.0.0/16",
                                                         "ipRange": "10.0.0.0/12"}))
    assert spec.network.network_range == IPv4Network("10.0.0.0/12")
    # Addresses come from the subnet; Hetzner's gateway is the network's first address.
    assert spec.address_plan.control_plane(1) == "10.1.1.11"
    assert spec.address_plan.gateway == "10.0.0.1"
    assert validate_cluster_spec(minimal_config()).address_plan.gateway == "10.0.0.1"
    unshared = validate_cluster_spec(minimal_config(network={"cidr": "10.1.0.0/16"}))
    assert unshared.network.network_range == IPv4Network("10.1.0.0/16")
    assert unshared.address_plan.gateway == "10.1.0.1"


@pytest.mark.parametrize(("network", "start"), [
    ({"cidr": "10.1.0.0/16", "ipRange": "10.2.0.0/16"}, "network.ipRange: 10.2.0.0/16 does not"),
    ({"cidr": "10.1.0.0/16", "ipRange": "8.0.0.0/8"}, "network.ipRange: 8.0.0.0/8 is not a priv"),
    ({"cidr": "10.1.0.0/16", "ipRange": "10.0.0.0/12", "existing": {"stack": "a"}},
     "network.ipRange: the network belongs to"),
    ({"cidr": "10.1.0.0/16", "existing": {"stack": "not a name"}}, "network.existing.stack:"),
])
def test_bad_network_keys_are_refused_with_the_key(network: dict, start: str) -> None:
    problem = one_problem(**network)
    assert problem.startswith(start), problem
    assert "Fix:" in problem


def test_joining_stack_cannot_be_private_only() -> None:
    [problem] = config_problems(minimal_config(
        network={"cidr": "10.2.0.0/16", "existing": {"stack": "a"}, "privateOnly": True},
        bastion={"enabled": True}))
    assert problem.startswith("network.privateOnly:")
    assert "0.0.0.0/0" in problem


@pytest.mark.parametrize(("k3s", "key"), [({}, "k3s.clusterCidr"),  # 10.42.0.0/16 is inside
                                          ({"clusterCidr": "172.20.0.0/16"}, "k3s.serviceCidr")])
def test_pods_and_services_inside_the_shared_range_are_refused(k3s: dict, key: str) -> None:
    [problem] = config_problems(minimal_config(network={"cidr": "10.1.0.0/16",
                                                        "ipRange": "10.0.0.0/8"}, k3s=k3s))
    assert problem.startswith(f"{key}: ") and "overlaps network.ipRange (10.0.0.0/8)" in problem


def test_network_facts_round_trip_and_garbage_reads_as_missing() -> None:
    assert NetworkFacts.from_output(OWNER.to_output()) == OWNER
    assert NetworkFacts.from_output(None) is None
    assert NetworkFacts.from_output({**OWNER.to_output(), "ipRange": "nonsense"}) is None
    without_zone = OWNER.to_output()
    del without_zone["zone"]
    assert NetworkFacts.from_output(without_zone) is None


def test_a_disjoint_subnet_inside_the_range_joins() -> None:
    assert join_problems("mesh-a", OWNER, IPv4Network("10.2.0.0/16"),
                         IPv4Network("10.102.0.0/16"), IPv4Network("10.202.0.0/16"),
                         "eu-central") == []


@pytest.mark.parametrize(("owner", "nodes", "pods", "services", "zone", "keys"), [
    (None, "10.2.0.0/16", "10.102.0.0/16", "10.202.0.0/16", "eu-central",
     ["network.existing.stack"]),
    (OWNER, "10.16.0.0/16", "10.102.0.0/16", "10.202.0.0/16", "eu-central", ["network.cidr"]),
    (OWNER, "10.1.0.0/24", "10.102.0.0/16", "10.202.0.0/16", "eu-central", ["network.cidr"]),
    (OWNER, "10.2.0.0/16", "10.12.0.0/16", "10.202.0.0/16", "eu-central", ["k3s.clusterCidr"]),
    (OWNER, "10.2.0.0/16", "10.102.0.0/16", "10.3.0.0/16", "eu-central", ["k3s.serviceCidr"]),
    (OWNER, "10.2.0.0/16", "10.102.0.0/16", "10.202.0.0/16", "us-east", ["location"]),
])
def test_what_cannot_join_names_the_key_on_the_joining_stack(
        owner: NetworkFacts | None, nodes: str, pods: str, services: str, zone: str,
        keys: list[str]) -> None:
    problems = join_problems("mesh-a", owner, IPv4Network(nodes), IPv4Network(pods),
                             IPv4Network(services), zone)
    assert [p.key for p in problems] == keys
    assert all("mesh-a" in p.message + p.fix for p in problems)


# -- day 2: moving a running cluster between networks is a destructive edit --------------------

def _spec(network: dict) -> object:
    return validate_cluster_spec(minimal_config(network=network))


@pytest.mark.parametrize(("before", "after", "key"), [
    ({"cidr": "10.1.0.0/16"}, {"cidr": "10.1.0.0/16", "ipRange": "10.0.0.0/12"},
     "network.ipRange"),
    ({"cidr": "10.1.0.0/16", "ipRange": "10.0.0.0/12"},
     {"cidr": "10.1.0.0/16", "ipRange": "10.0.0.0/11"}, "network.ipRange"),
    ({"cidr": "10.1.0.0/16"}, {"cidr": "10.1.0.0/16", "existing": {"stack": "mesh-a"}},
     "network.existing.stack"),
    ({"cidr": "10.1.0.0/16", "existing": {"stack": "mesh-a"}},
     {"cidr": "10.1.0.0/16", "existing": {"stack": "mesh-c"}}, "network.existing.stack"),
])
def test_changing_which_network_a_running_cluster_is_in_needs_an_acknowledgement(
        before: dict, after: dict, key: str) -> None:
    from stack_config import ConfigError
    from stack_config.identity import check_identity, cluster_identity
    previous = cluster_identity(_spec(before))
    with pytest.raises(ConfigError) as caught:
        check_identity(previous, _spec(after), [])
    [problem] = caught.value.problems
    assert problem.key == key
    assert "add 'replace-network' to acknowledge" in problem.message
    assert check_identity(previous, _spec(after), ["replace-network"]) == \
        cluster_identity(_spec(after))


def test_an_unchanged_or_equal_range_is_not_an_edit() -> None:
    from stack_config.identity import check_identity, cluster_identity
    plain = {"cidr": "10.1.0.0/16"}
    # ipRange equal to cidr is the same network as no ipRange at all.
    assert check_identity(cluster_identity(_spec(plain)),
                          _spec({**plain, "ipRange": "10.1.0.0/16"}), [])
    # An identity written before these keys existed raises no alarm.
    old = {k: v for k, v in cluster_identity(_spec(plain)).items()
           if k not in ("network.ipRange", "network.existing.stack")}
    assert check_identity(old, _spec({**plain, "ipRange": "10.0.0.0/12"}), [])


# -- autoscaled servers: Hetzner picks their address, in any subnet of the network --------------

def test_a_joining_stack_cannot_autoscale() -> None:
    pools = [{"name": "fixed", "count": 1},
             {"name": "elastic", "autoscaling": {"min": 0, "max": 3}}]
    [problem] = config_problems(minimal_config(
        network={"cidr": "10.2.0.0/16", "existing": {"stack": "mesh-a"}}, workerPools=pools))
    assert problem.startswith("workerPools[1].autoscaling: a cluster in another stack's network")
    assert validate_cluster_spec(minimal_config(network={"cidr": "10.2.0.0/16"},
                                                workerPools=pools))


def test_autoscaled_nodes_look_for_their_address_in_the_whole_network() -> None:
    from components.bootstrap.join_user_data import NODE_IP_SCRIPT, join_cloud_config
    for network, searched in (({"cidr": "10.1.0.0/16", "ipRange": "10.0.0.0/12"}, "10.0.0.0/12"),
                              ({"cidr": "10.1.0.0/16"}, "10.1.0.0/16")):
        spec = validate_cluster_spec(minimal_config(
            network=network,
            workerPools=[{"name": "elastic", "autoscaling": {"min": 0, "max": 3}}]))
        config = join_cloud_config(spec, spec.worker_pools[0], join_url="https://10.1.1.11:6443",
                                   agent_token="K10x::node:y", egress=None)
        [command] = [c for c in config["runcmd"] if NODE_IP_SCRIPT in c]
        assert f"NETWORK_CIDR={searched}" in command
