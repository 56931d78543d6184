"""The contract the k3s bootstrap and the Kubernetes layer build on (``components.handles``).

A small program builds only the infrastructure component and exports what its handles hold, so
these tests read the real ``NodeHandle``/``SshAccess``/``ApiEndpoint`` values through the engine.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import PROJECT_DIR, example_config, write_stack_file
from tools.lib.engine import Plan, run_program
from tools.lib.stack_files import load_stack_config

PROGRAM = '''
import pulumi
from components.infrastructure.infrastructure import HetznerInfrastructure
from components.provider import hcloud_provider
from stack_config import load_cluster_spec

spec = load_cluster_spec()
provider = hcloud_provider("contract-hcloud", pulumi.Output.secret("t"))
infra = HetznerInfrastructure(spec.cluster_name, spec, provider)
pulumi.export("nodes", [{
    "key": n.key, "role": n.role, "pool": n.pool, "privateIp": n.private_ip,
    "publicIpv4": n.public_ipv4, "hostPublicKey": n.host_public_key, "server": n.server.urn,
    "labels": n.labels, "taints": n.taints} for n in infra.nodes])
pulumi.export("sshUser", infra.ssh.user)
pulumi.export("sshPrivateKey", infra.ssh.private_key)
jump = infra.ssh.jump_host
pulumi.export("jumpHost", None if jump is None else {
    "publicIpv4": jump.public_ipv4, "hostPublicKey": jump.host_public_key})
pulumi.export("api", {"joinAddress": infra.api.join_address,
                      "publicAddress": infra.api.load_balancer_public_ipv4,
                      "loadBalanced": infra.api.load_balanced,
                      "servesUsers": infra.api.serves_users,
                      "userAddress": infra.api.user_address,
                      "firstServerSans": infra.api.tls_sans_for(infra.api.servers[0])})
pulumi.export("network", infra.network_id)
pulumi.export("networkFacts", infra.network_facts)
pulumi.export("ready", [r.urn for r in infra.ready])
'''


def run_contract(tmp_path: Path, config: dict, stack: str) -> Plan:
    (tmp_path / "__main__.py").write_text(PROGRAM)
    stack_file = write_stack_file(tmp_path, config, stack)
    return run_program(tmp_path, load_stack_config(PROJECT_DIR, stack_file, stack))


@pytest.fixture(scope="module")
def private(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    return run_contract(tmp_path_factory.mktemp("private"), example_config("private-ha"), "p")


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    config = example_config("dev")
    config["k3s-hcloud:access"]["sshPublicKeys"] = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAuser me"]
    return run_contract(tmp_path_factory.mktemp("public"), config, "d")


def out(plan: Plan, name: str):
    return plan.outputs[name].value


def test_nodes_are_control_planes_first_then_pools_in_config_order(private: Plan) -> None:
    keys = [n["key"] for n in out(private, "nodes")]
    assert keys == ["prod-cp-1", "prod-cp-2", "prod-cp-3", "prod-general-1", "prod-general-2",
                    "prod-general-3", "prod-arm-1", "prod-arm-2"]
    roles = {n["key"]: (n["role"], n["pool"]) for n in out(private, "nodes")}
    assert roles["prod-cp-2"] == ("server", "control-plane")
    assert roles["prod-arm-1"] == ("agent", "arm")


def test_node_handles_carry_planned_ips_host_keys_servers_labels_and_taints(private: Plan) -> None:
    nodes = {n["key"]: n for n in out(private, "nodes")}
    arm = nodes["prod-arm-2"]
    assert arm["privateIp"].startswith("10.4.") and arm["privateIp"].endswith(".2")
    assert arm["publicIpv4"] is None
    assert arm["hostPublicKey"].startswith("ssh-ed25519 ") and "\n" not in arm["hostPublicKey"]
    assert arm["server"].endswith("::prod-arm-2")
    assert arm["labels"] == {"node.kubernetes.io/pool": "arm"}
    assert arm["taints"] == ["kubernetes.io/arch=arm64:NoSchedule"]
    assert nodes["prod-cp-1"]["privateIp"] == "10.4.1.11"


def test_private_mode_ssh_goes_through_the_pinned_bastion(private: Plan) -> None:
    assert out(private, "sshUser") == "root"
    jump = out(private, "jumpHost")
    assert jump["publicIpv4"].startswith("198.1")
    assert jump["hostPublicKey"].startswith("ssh-ed25519 ")
    assert private.outputs["sshPrivateKey"].secret
    assert "PRIVATE KEY" in out(private, "sshPrivateKey")


def test_private_lb_is_the_join_address_and_its_only_shared_tls_san(private: Plan) -> None:
    # Servers' own addresses are not shared: adding a server must not touch the others' certs.
    api = out(private, "api")
    first = out(private, "nodes")[0]
    assert api == {"joinAddress": "10.4.1.2", "publicAddress": None, "loadBalanced": True,
                   # Private mode: the LB is the only API address users can reach (by tunnel).
                   "servesUsers": True, "userAddress": "10.4.1.2",
                   "firstServerSans": ["10.4.1.2", first["privateIp"]]}


def test_ready_is_the_shared_prerequisites_not_every_server(private: Plan) -> None:
    ready = out(private, "ready")
    names = {urn.rsplit("::", 1)[1] for urn in ready}
    assert {"prod-network-subnet", "prod-bastion", "prod-bastion-egress",
            "prod-cp-api-network", "prod-cp-api-target-1"} <= names
    # The API service opens only once every server answers its readiness check (the
    # bootstrap's), so nothing may wait for it before the nodes boot.
    assert "prod-cp-api-6443" not in names
    # Each node's steps wait for their own server; listing all would couple every node.
    assert not {n["key"] for n in out(private, "nodes")} & names
    [network] = private.by_type("hcloud:index/network:Network")
    [subnet] = private.by_type("hcloud:index/networkSubnet:NetworkSubnet")
    assert network.name == "prod-network"
    network_id = int(subnet.plain_inputs()["networkId"])
    assert out(private, "network") == network_id
    assert out(private, "networkFacts") == {"id": str(network_id), "ipRange": "10.4.0.0/16",
                                            "nodeCidr": "10.4.0.0/16", "zone": "eu-central"}


def test_public_mode_without_lb(public: Plan) -> None:
    nodes = out(public, "nodes")
    assert all(n["publicIpv4"] for n in nodes)
    api = out(public, "api")
    assert api["loadBalanced"] is False and api["publicAddress"] is None
    assert api["joinAddress"] == "10.0.1.11"
    # Without an LB users reach the first server at its public address.
    assert api["servesUsers"] is False and api["userAddress"] == nodes[0]["publicIpv4"]
    assert api["firstServerSans"] == ["10.0.1.11", "10.0.1.11", nodes[0]["publicIpv4"]]
    assert out(public, "jumpHost") is None


def test_user_supplied_keys_leave_no_private_key(public: Plan) -> None:
    assert out(public, "sshPrivateKey") is None
