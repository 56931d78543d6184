"""Cilium Cluster Mesh: the config key, the prerequisites refused before anything is built (naming
the key on the stack being changed), and the mesh Helm values the chart checks accept."""

from __future__ import annotations

import dataclasses
from ipaddress import IPv4Network
from typing import Any

import pytest

from cluster_plan.cluster_mesh import (
    MeshFacts, MeshFactsMissing, mesh_values, own_problems, peer_problems)
from stack_config import validate_cluster_spec
from tests.helpers import config_problems, minimal_config
from upstream.cilium import DEFAULT_VERSION
from upstream.cilium_chart import check_helm_values

MESH_A = {"clusterName": "mesh-a", "network": {"cidr": "10.1.0.0/16"},
          "k3s": {"clusterCidr": "10.101.0.0/16", "serviceCidr": "10.201.0.0/16"},
          "cilium": {"values": {"cluster": {"id": 1}, "ipv4NativeRoutingCIDR": "10.100.0.0/14"},
                     "clusterMesh": {"peers": ["mesh-b"]}}}


def facts(name: str = "b", cluster_id: int = 2, pods: str = "10.102.0.0/16",
          nodes: str = "10.2.0.0/16", mode: str = "native",
          native: str | None = "10.100.0.0/14", ips: tuple[str, ...] = ("10.2.0.9",),
          network_id: str | None = None) -> MeshFacts:
    return MeshFacts(name=name, cluster_id=cluster_id, pod_cidr=IPv4Network(pods),
                     node_cidr=IPv4Network(nodes), routing_mode=mode,
                     native_routing_cidr=IPv4Network(native) if native else None,
                     apiserver_addresses=ips, network_id=network_id)


OWN = facts(name="a", cluster_id=1, pods="10.101.0.0/16", nodes="10.1.0.0/16", ips=())


def keys(problems: list[Any]) -> list[str]:
    return [p.key for p in problems]


# -- config model ------------------------------------------------------------------------------

def test_mesh_stack_is_accepted_and_its_facts_come_from_the_stack() -> None:
    spec = validate_cluster_spec(MESH_A)
    assert spec.mesh_facts == OWN.__class__(
        name="mesh-a", cluster_id=1, pod_cidr=IPv4Network("10.101.0.0/16"),
        node_cidr=IPv4Network("10.1.0.0/16"), routing_mode="native",
        native_routing_cidr=IPv4Network("10.100.0.0/14"))
    values = spec.cilium_helm_values
    assert values["cluster"] == {"name": "mesh-a", "id": 1}
    assert values["clustermesh"]["useAPIServer"] is True
    assert values["clustermesh"]["apiserver"]["service"]["type"] == "LoadBalancer"
    assert values["clustermesh"]["config"] == {"enabled": True, "clusters": []}


def test_unmeshed_stack_gets_no_mesh_values() -> None:
    spec = validate_cluster_spec(minimal_config())
    assert spec.mesh_facts is None
    assert "clustermesh" not in spec.cilium_helm_values


def test_mesh_needs_a_cluster_id() -> None:
    config = minimal_config(cilium={"clusterMesh": {"peers": ["other"]}})
    [problem] = config_problems(config)
    assert problem.startswith("cilium.values.cluster.id:")
    assert "Fix:" in problem


@pytest.mark.parametrize("cluster_id", [0, 256])
def test_cluster_id_outside_1_to_255_is_refused(cluster_id: int) -> None:
    config = minimal_config(cilium={"values": {"cluster": {"id": cluster_id}},
                                    "clusterMesh": {"peers": ["other"]}})
    assert any(p.startswith("cilium.values.cluster.id:") for p in config_problems(config))


def test_duplicate_and_empty_peer_lists_are_refused() -> None:
    dup = config_problems(minimal_config(cilium={"values": {"cluster": {"id": 3}},
                                                 "clusterMesh": {"peers": ["x", "x"]}}))
    assert any(p.startswith("cilium.clusterMesh.peers") and "twice" in p for p in dup)
    empty = config_problems(minimal_config(cilium={"values": {"cluster": {"id": 3}},
                                                   "clusterMesh": {"peers": []}}))
    assert any(p.startswith("cilium.clusterMesh.peers") for p in empty)


def test_egress_gateway_with_mesh_is_refused() -> None:
    config = minimal_config(cilium={"values": {"cluster": {"id": 3},
                                               "egressGateway": {"enabled": True}},
                                    "clusterMesh": {"peers": ["other"]}})
    assert any(p.startswith("cilium.values.egressGateway.enabled:")
               for p in config_problems(config))


def test_native_routing_cidr_must_cover_own_pods() -> None:
    assert keys(own_problems(dataclasses.replace(OWN, native_routing_cidr=IPv4Network(
        "10.102.0.0/16")))) == ["cilium.values.ipv4NativeRoutingCIDR"]
    assert own_problems(OWN) == []


# -- prerequisites against peers -----------------------------------------------------------------

def test_compatible_peer_has_no_problems() -> None:
    assert peer_problems(OWN, {"mesh-b": facts()}) == []


@pytest.mark.parametrize(("peer", "key"), [
    (facts(cluster_id=1), "cilium.values.cluster.id"),
    (facts(name="a"), "cilium.values.cluster.name"),
    (facts(pods="10.101.128.0/17"), "k3s.clusterCidr"),
    (facts(nodes="10.1.0.0/24"), "network.cidr"),
    (facts(mode="tunnel", native=None), "cilium.values.routingMode"),
    (facts(pods="10.104.0.0/16"), "cilium.values.ipv4NativeRoutingCIDR"),
])
def test_each_prerequisite_names_the_key_on_this_stack(peer: MeshFacts, key: str) -> None:
    problems = peer_problems(OWN, {"mesh-b": peer})
    assert keys(problems) == [key]
    assert "mesh-b" in problems[0].message and "Fix:" in problems[0].message


def test_two_peers_sharing_an_id_are_reported() -> None:
    problems = peer_problems(OWN, {"b": facts(), "c": facts(name="c", pods="10.103.0.0/16",
                                                            nodes="10.3.0.0/16")})
    assert keys(problems) == ["cilium.values.cluster.id"]


def test_shared_network_node_ranges_may_overlap() -> None:
    own = dataclasses.replace(OWN, network_id="42")
    assert peer_problems(own, {"b": facts(nodes="10.1.0.0/16", network_id="42")}) == []


def test_facts_round_trip_through_outputs_and_missing_facts_name_the_peer() -> None:
    peer = facts()
    assert MeshFacts.from_output("mesh-b", peer.to_output()) == peer
    with pytest.raises(MeshFactsMissing, match="mesh-b.*cilium.clusterMesh.peers"):
        MeshFacts.from_output("mesh-b", None)
    with pytest.raises(MeshFactsMissing, match="unreadable"):
        MeshFacts.from_output("mesh-b", {"name": "b"})


# -- mesh values -------------------------------------------------------------------------------

def test_mesh_values_list_peers_by_name_and_carry_the_shared_ca() -> None:
    values = mesh_values(OWN, {"z": facts(name="zz", cluster_id=9, pods="10.109.0.0/16",
                                          nodes="10.9.0.0/16", ips=("10.9.0.5",)),
                               "b": facts()},
                         "LoadBalancer", {"load-balancer.hetzner.cloud/location": "nbg1"},
                         ca={"cert": "Y2VydA==", "key": "a2V5"})
    assert values["clustermesh"]["config"]["clusters"] == [
        {"name": "b", "port": 2379, "ips": ["10.2.0.9"]},
        {"name": "zz", "port": 2379, "ips": ["10.9.0.5"]}]
    assert values["tls"] == {"ca": {"cert": "Y2VydA==", "key": "a2V5"}}
    assert values["clustermesh"]["apiserver"]["service"]["annotations"] == {
        "load-balancer.hetzner.cloud/location": "nbg1"}


def test_peer_without_an_apiserver_address_is_not_listed_yet() -> None:
    values = mesh_values(OWN, {"b": facts(ips=())}, "LoadBalancer")
    assert values["clustermesh"]["config"]["clusters"] == []


def test_full_mesh_values_pass_the_chart_checks() -> None:
    from cluster_plan.cilium_values import deep_merge
    spec = validate_cluster_spec(MESH_A)
    values = deep_merge(spec.cilium_helm_values,
                        mesh_values(spec.mesh_facts, {"mesh-b": facts()}, "LoadBalancer",
                                    ca={"cert": "Y2VydA==", "key": "a2V5"}))
    assert check_helm_values(values, DEFAULT_VERSION, pod_cidr=spec.k3s.cluster_cidr) == []
    # The checks can fail: a mesh id the agent refuses is reported.
    values["cluster"]["id"] = 600
    assert any(f.path == "cluster.id" for f in check_helm_values(values, DEFAULT_VERSION))
