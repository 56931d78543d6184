"""Cilium Cluster Mesh: the config key, the prerequisites refused before anything is built (naming
the key on the stack being changed), and the mesh Helm values the chart checks accept."""

from __future__ import annotations

import dataclasses
import json
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

import pytest
import yaml

from cluster_plan.cluster_mesh import (
    MeshFacts, MeshFactsMissing, mesh_values, own_problems, peer_problems)
from stack_config import validate_cluster_spec
from stack_config.errors import ConfigError
from tests.helpers import PROJECT_DIR, config_problems, minimal_config
from tools.lib.engine import ORGANIZATION, Plan, run_program
from tools.lib.stack_files import load_stack_config
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
        native_routing_cidr=IPv4Network("10.100.0.0/14"),
        # The LoadBalancer's private address is planned (block 1, host 3), so peers get it
        # before hcloud-ccm has created the LB.
        apiserver_addresses=("10.1.1.3",), apiserver_port=2379)
    values = spec.cilium_helm_values
    assert values["cluster"] == {"name": "mesh-a", "id": 1}
    assert values["clustermesh"]["useAPIServer"] is True
    service = values["clustermesh"]["apiserver"]["service"]
    assert service["type"] == "LoadBalancer"
    assert service["annotations"] == {
        "load-balancer.hetzner.cloud/name": "mesh-a-clustermesh",
        "load-balancer.hetzner.cloud/location": "nbg1",
        "load-balancer.hetzner.cloud/use-private-ip": "true",
        "load-balancer.hetzner.cloud/private-ipv4": "10.1.1.3",
        "load-balancer.hetzner.cloud/disable-public-network": "true"}
    assert values["clustermesh"]["config"] == {"enabled": True, "clusters": []}


def test_node_port_apiserver_is_published_on_the_control_plane_servers() -> None:
    config = {**MESH_A, "controlPlane": {"count": 3},
              "cilium": {**MESH_A["cilium"], "clusterMesh": {"peers": ["mesh-b"],
                                                             "serviceType": "NodePort"}}}
    spec = validate_cluster_spec(config)
    assert spec.mesh_facts is not None
    # Control-plane servers are 1-based: .11, .12, .13 (address_plan.control_plane).
    assert spec.mesh_facts.apiserver_addresses == ("10.1.1.11", "10.1.1.12", "10.1.1.13")
    assert spec.mesh_facts.apiserver_port == 32379
    assert "annotations" not in spec.cilium_helm_values["clustermesh"]["apiserver"]["service"]


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


def test_peers_in_one_network_still_need_disjoint_node_ranges() -> None:
    own = dataclasses.replace(OWN, network_id="42")
    assert peer_problems(own, {"b": facts(network_id="42")}) == []
    assert keys(peer_problems(own, {"b": facts(nodes="10.1.0.0/16", network_id="42")})) == [
        "network.cidr"]


def test_peer_in_another_hetzner_network_is_refused_naming_network_existing() -> None:
    own = dataclasses.replace(OWN, network_id="42")
    [problem] = peer_problems(own, {"mesh-b": facts(network_id="43")})
    assert problem.key == "network.existing.stack"
    assert "network.existing.stack: mesh-b" in problem.message
    # Unknown on either side (a peer published by an older version): not guessed.
    assert peer_problems(OWN, {"mesh-b": facts(network_id="43")}) == []


def test_pods_and_nodes_of_peers_must_not_overlap_either_way() -> None:
    assert keys(peer_problems(OWN, {"b": facts(nodes="10.101.0.0/24")})) == ["k3s.clusterCidr"]
    assert keys(peer_problems(OWN, {"b": facts(pods="10.1.128.0/17", native=None,
                                               mode="native")})) == [
        "network.cidr", "cilium.values.ipv4NativeRoutingCIDR"]


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


# -- two stacks planned against each other (offline engine, fake StackReferences) --------------

MESH_DIR = PROJECT_DIR / "examples" / "mesh"
RELEASE = "kubernetes:helm.sh/v3:Release"


def plan_mesh(stack: str, peers: dict[str, Plan] | None = None,
              stack_file: Path | None = None) -> Plan:
    config = load_stack_config(PROJECT_DIR, stack_file or MESH_DIR / f"Pulumi.{stack}.yaml")
    references = {f"{ORGANIZATION}/{config.project}/{name}":
                  {key: output.value for key, output in plan.outputs.items()}
                  for name, plan in (peers or {}).items()}
    return run_program(PROJECT_DIR, config, stack_references=references)


def cilium_values(plan: Plan) -> tuple[dict[str, Any], bool]:
    [release] = [r for r in plan.by_type(RELEASE) if r.name.endswith("-cilium")]
    return release.plain_inputs()["values"], "values" in release.secret_input_paths()


def mesh_clusters(plan: Plan) -> list[str]:
    return [c["name"] for c in cilium_values(plan)[0]["clustermesh"]["config"]["clusters"]]


@pytest.fixture(scope="module")
def alone_a() -> Plan:
    return plan_mesh("mesh-a")


def test_first_stack_alone_plans_waits_for_its_peer_and_owns_the_ca(alone_a: Plan) -> None:
    assert mesh_clusters(alone_a) == []
    assert any("mesh-b publishes no clusterMesh yet" in w for w in alone_a.warnings())
    assert alone_a.outputs["clusterMeshCa"].secret
    assert not alone_a.outputs["clusterMesh"].secret
    values, secret = cilium_values(alone_a)
    assert secret, "the release values carry the CA key: they must be secret as a whole"
    assert values["tls"]["ca"] == alone_a.outputs["clusterMeshCa"].value


def stack_files(tmp_path: Path, network_owner: str) -> dict[str, Path]:
    """The example pair, with ``network_owner`` creating the shared network and the other
    joining it (the examples: mesh-a owns it)."""
    files = {}
    for stack in ("mesh-a", "mesh-b"):
        config = yaml.safe_load((MESH_DIR / f"Pulumi.{stack}.yaml").read_text())
        network = config["config"]["k3s-hcloud:network"]
        network.pop("ipRange", None)
        network.pop("existing", None)
        if stack == network_owner:
            network["ipRange"] = "10.0.0.0/12"
        else:
            network["existing"] = {"stack": network_owner}
        files[stack] = tmp_path / f"Pulumi.{stack}.yaml"
        files[stack].write_text(yaml.safe_dump(config))
    return files


# The network's owner must go first (the other stack joins its network). The CA's owner is
# decided by name (mesh-a), so "mesh-b owns the network" is the order where the stack without
# the CA deploys first and picks the shared CA up on its second `pulumi up`.
@pytest.mark.parametrize("first", ["mesh-a", "mesh-b"])
def test_both_orders_converge_on_one_ca_and_each_other(tmp_path: Path, first: str) -> None:
    second = "mesh-b" if first == "mesh-a" else "mesh-a"
    files = stack_files(tmp_path, network_owner=first)
    plans = {first: plan_mesh(first, stack_file=files[first])}
    plans[second] = plan_mesh(second, {first: plans[first]}, files[second])
    plans[first] = plan_mesh(first, {second: plans[second]}, files[first])  # its second up
    assert mesh_clusters(plans["mesh-a"]) == ["mesh-b"]
    assert mesh_clusters(plans["mesh-b"]) == ["mesh-a"]
    ca_a, ca_b = (cilium_values(plans[s])[0]["tls"]["ca"] for s in ("mesh-a", "mesh-b"))
    assert ca_a == ca_b
    # mesh-a sorts first: it owns the CA and publishes it; mesh-b only reads it.
    assert "clusterMeshCa" in plans["mesh-a"].outputs
    assert "clusterMeshCa" not in plans["mesh-b"].outputs
    # Both clusters are in the first stack's network and say so to each other.
    network_ids = {plans[s].outputs["clusterMesh"].value["networkId"] for s in plans}
    assert network_ids == {plans[first].outputs["network"].value["id"]}
    # mesh-a publishes its private LB's planned address, mesh-b the node port on its server.
    assert cilium_values(plans["mesh-b"])[0]["clustermesh"]["config"]["clusters"] == [
        {"name": "mesh-a", "port": 2379, "ips": ["10.1.1.3"]}]
    assert cilium_values(plans["mesh-a"])[0]["clustermesh"]["config"]["clusters"] == [
        {"name": "mesh-b", "port": 32379, "ips": ["10.2.1.11"]}]


@pytest.fixture(scope="module")
def joined_b(alone_a: Plan) -> Plan:
    return plan_mesh("mesh-b", {"mesh-a": alone_a})


def test_joining_stack_adds_its_subnet_to_the_owners_network(alone_a: Plan,
                                                              joined_b: Plan) -> None:
    network = "hcloud:index/network:Network"
    subnet = "hcloud:index/networkSubnet:NetworkSubnet"
    [owned] = alone_a.by_type(network)
    assert owned.plain_inputs()["ipRange"] == "10.0.0.0/12"
    assert joined_b.by_type(network) == [], "mesh-b must not create a network of its own"
    [subnet_a], [subnet_b] = alone_a.by_type(subnet), joined_b.by_type(subnet)
    assert subnet_a.plain_inputs()["ipRange"] == "10.1.0.0/16"
    assert subnet_b.plain_inputs()["ipRange"] == "10.2.0.0/16"
    assert subnet_b.plain_inputs()["networkId"] == subnet_a.plain_inputs()["networkId"]
    assert joined_b.outputs["network"].value == {**alone_a.outputs["network"].value,
                                                 "nodeCidr": "10.2.0.0/16"}
    # Every server of mesh-b is attached to that network (the CCM routes pods there too).
    network_id = subnet_a.plain_inputs()["networkId"]
    servers = joined_b.by_type("hcloud:index/server:Server")
    assert servers and all(n["networkId"] == network_id
                           for s in servers for n in s.plain_inputs()["networks"])
    # mesh-b's hcloud-ccm routes its pods (and attaches its LBs) in that same network.
    [credentials] = [s for s in joined_b.by_type("kubernetes:core/v1:Secret")
                     if s.plain_inputs()["metadata"]["name"] == "hcloud"]
    assert credentials.plain_inputs()["stringData"]["network"] == str(int(network_id))


def test_a_ca_read_from_the_owner_stays_secret_in_the_reader(alone_a: Plan,
                                                              joined_b: Plan) -> None:
    # Offline the fake StackReference hands the CA over as a plain value (a real one marks it
    # secret): mesh-b must keep it secret by itself.
    key = alone_a.outputs["clusterMeshCa"].value["key"]
    values, secret = cilium_values(joined_b)
    assert values["tls"]["ca"]["key"] == key and secret
    for resource in joined_b.resources:
        assert key not in json.dumps(resource.masked_inputs(), default=str), resource.name
    plain = {name: out.value for name, out in joined_b.outputs.items() if not out.secret}
    assert key not in json.dumps(plain, default=str)


def test_joining_before_the_network_owner_exists_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        plan_mesh("mesh-b")
    [problem] = caught.value.problems
    assert problem.key == "network.existing.stack"
    assert "pulumi up` on mesh-a first" in problem.message


@pytest.mark.parametrize(("edit", "key"), [
    ({"cidr": "10.1.128.0/17"}, "network.cidr"),      # overlaps mesh-a's subnet
    ({"cidr": "10.130.0.0/16"}, "network.cidr"),      # outside mesh-a's 10.0.0.0/12
])
def test_subnet_that_cannot_join_is_refused_naming_the_key_here(
        tmp_path: Path, alone_a: Plan, edit: dict[str, str], key: str) -> None:
    config = yaml.safe_load((MESH_DIR / "Pulumi.mesh-b.yaml").read_text())
    config["config"]["k3s-hcloud:network"].update(edit)
    stack_file = tmp_path / "Pulumi.mesh-b.yaml"
    stack_file.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError) as caught:
        plan_mesh("mesh-b", {"mesh-a": alone_a}, stack_file)
    assert key in [p.key for p in caught.value.problems]


def test_peer_in_a_network_of_its_own_is_refused(tmp_path: Path, alone_a: Plan) -> None:
    config = yaml.safe_load((MESH_DIR / "Pulumi.mesh-b.yaml").read_text())
    del config["config"]["k3s-hcloud:network"]["existing"]
    stack_file = tmp_path / "Pulumi.mesh-b.yaml"
    stack_file.write_text(yaml.safe_dump(config))
    separate_b = plan_mesh("mesh-b", stack_file=stack_file)  # deployed before mesh-a existed
    with pytest.raises(ConfigError) as caught:
        plan_mesh("mesh-a", {"mesh-b": separate_b})
    assert [p.key for p in caught.value.problems] == ["network.existing.stack"]
    # And mesh-b's next `pulumi up`, now that mesh-a exists, refuses it the same way.
    with pytest.raises(ConfigError) as caught:
        plan_mesh("mesh-b", {"mesh-a": alone_a}, stack_file)
    assert [p.key for p in caught.value.problems] == ["network.existing.stack"]


def test_ca_key_never_leaves_secrets(alone_a: Plan) -> None:
    key = alone_a.outputs["clusterMeshCa"].value["key"]
    for resource in alone_a.resources:
        assert key not in json.dumps(resource.masked_inputs(), default=str), resource.name
    plain = {name: out.value for name, out in alone_a.outputs.items() if not out.secret}
    assert key not in json.dumps(plain, default=str)


def test_conflicting_peer_is_refused_naming_the_key_here(tmp_path: Path, alone_a: Plan) -> None:
    config = yaml.safe_load((MESH_DIR / "Pulumi.mesh-b.yaml").read_text())
    config["config"]["k3s-hcloud:cilium"]["values"]["cluster"]["id"] = 1
    stack_file = tmp_path / "Pulumi.mesh-b.yaml"
    stack_file.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError) as caught:
        plan_mesh("mesh-b", {"mesh-a": alone_a}, stack_file)
    assert [p.key for p in caught.value.problems] == ["cilium.values.cluster.id"]


# -- the pair planned from the command line --------------------------------------------------------

def test_plan_cli_plans_the_joining_stack_against_the_owners_outputs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tools import plan as plan_cli
    mesh_b = str(MESH_DIR / "Pulumi.mesh-b.yaml")
    assert plan_cli.main(["--stack-file", mesh_b]) == plan_cli.EXIT_CONFIG
    assert "network.existing.stack" in capsys.readouterr().err
    assert plan_cli.main(["--stack-file", str(MESH_DIR / "Pulumi.mesh-a.yaml"), "--json"]) == 0
    mesh_a_json = tmp_path / "mesh-a.json"
    mesh_a_json.write_text(capsys.readouterr().out)
    assert plan_cli.main(["--stack-file", mesh_b, "--json",
                          "--stack-reference", f"mesh-a={mesh_a_json}"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["outputs"]["network"]["id"] == json.loads(
        mesh_a_json.read_text())["outputs"]["network"]["id"]
    # The masked CA reads as not published yet: a warning, not a failure.
    assert any("publishes no clusterMeshCa yet" in w for w in plan["warnings"])
    assert plan_cli.main(["--stack-file", mesh_b, "--stack-reference", "mesh-a"]) == \
        plan_cli.EXIT_CONFIG
    assert "expected STACK=FILE" in capsys.readouterr().err
