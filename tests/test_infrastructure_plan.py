"""The Hetzner layer under the offline engine: what each example stack registers, and day-2 safety.

Security invariants are stated in plain words; each test checks one behaviour of the plan that
`pulumi preview` would see.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pulumi.runtime.mocks import MockResourceArgs

from cluster_plan import api_readiness
from tests.helpers import example_config, plan_config
from tests.program_plans import example_plan
from tools.lib.engine import Plan, RecordedResource
from tools.lib.mock_provider import public_ipv4, stable_number

SERVER = "hcloud:index/server:Server"
FIREWALL = "hcloud:index/firewall:Firewall"
ROUTE = "hcloud:index/networkRoute:NetworkRoute"
PLACEMENT_GROUP = "hcloud:index/placementGroup:PlacementGroup"
LB = "hcloud:index/loadBalancer:LoadBalancer"
LB_NETWORK = "hcloud:index/loadBalancerNetwork:LoadBalancerNetwork"
LB_SERVICE = "hcloud:index/loadBalancerService:LoadBalancerService"
LB_TARGET = "hcloud:index/loadBalancerTarget:LoadBalancerTarget"
SSH_KEY = "hcloud:index/sshKey:SshKey"
TLS_KEY = "tls:index/privateKey:PrivateKey"


@pytest.fixture(scope="module")
def dev() -> Plan:
    return example_plan("dev")


@pytest.fixture(scope="module")
def private() -> Plan:
    return example_plan("private-ha")


@pytest.fixture(scope="module")
def gateway() -> Plan:
    return example_plan("gateway")


def servers(plan: Plan) -> list[RecordedResource]:
    return plan.by_type(SERVER)


def nodes(plan: Plan) -> list[RecordedResource]:
    return [s for s in servers(plan) if s.inputs["labels"]["role"] != "bastion"]


def user_data(server: RecordedResource) -> dict[str, Any]:
    return yaml.safe_load(server.plain_inputs()["userData"])


def written_files(server: RecordedResource) -> dict[str, str]:
    return {f["path"]: f["content"] for f in user_data(server)["write_files"]}


def resource_id(resource: RecordedResource) -> float:
    # The mock derives Hetzner ids from type and name (tools/lib/mock_provider.py).
    return float(10_000_000 + stable_number(resource.type, resource.name) % 90_000_000)


# -- private mode ---------------------------------------------------------------------------------

def test_private_mode_no_node_has_a_public_ip(private: Plan) -> None:
    assert len(nodes(private)) == 8
    for node in nodes(private):
        assert node.inputs["publicNets"] == [{"ipv4Enabled": False, "ipv6Enabled": False}], node.name
        assert "firewallIds" not in node.inputs
    assert all(out["public"] is None for out in private.outputs["nodeAddresses"].value.values())


def test_private_mode_bastion_is_the_only_public_server(private: Plan) -> None:
    bastion = private.get(SERVER, "prod-bastion")
    assert bastion.inputs["publicNets"] == [{"ipv4Enabled": True, "ipv6Enabled": True}]
    assert bastion.inputs["networks"][0]["ip"] == "10.4.1.1"


def test_private_mode_routes_internet_traffic_to_the_bastion(private: Plan) -> None:
    [route] = private.by_type(ROUTE)
    assert route.inputs["destination"] == "0.0.0.0/0"
    assert route.inputs["gateway"] == private.get(SERVER, "prod-bastion").inputs["networks"][0]["ip"]
    assert private.get(SERVER, "prod-bastion").urn in route.dependencies


def test_private_mode_bastion_does_nat(private: Plan) -> None:
    files = written_files(private.get(SERVER, "prod-bastion"))
    assert "net.ipv4.ip_forward = 1" in files["/etc/sysctl.d/90-k3s-hcloud-nat.conf"]
    assert "masquerade" in files["/etc/k3s-hcloud/bastion.nft"]
    assert "PRIVATE_NETWORK=10.4.0.0/16" in files["/etc/k3s-hcloud/bastion.env"]


def test_private_nodes_persist_a_default_route_via_the_network_gateway(private: Plan) -> None:
    for node in nodes(private):
        assert "NETWORK_GATEWAY=10.4.0.1" in written_files(node)["/etc/k3s-hcloud/egress.env"]


def test_private_mode_ssh_reaches_the_bastion_only(private: Plan) -> None:
    [firewall] = private.by_type(FIREWALL)
    assert firewall.name == "prod-firewall-bastion"
    ssh = [r for r in firewall.inputs["rules"] if r.get("port") == "22"]
    assert [r["sourceIps"] for r in ssh] == [["198.51.100.0/24"]]
    assert not any(r.get("port") == "6443" for r in firewall.inputs["rules"])
    assert private.get(SERVER, "prod-bastion").inputs["firewallIds"] == [resource_id(firewall)]


def test_private_mode_ssh_hints_jump_through_the_bastion(private: Plan) -> None:
    bastion_ip = private.outputs["bastionAddress"].value
    commands = private.outputs["sshCommands"].value
    assert commands["prod-cp-1"] == f"ssh -J root@{bastion_ip} root@10.4.1.11"
    assert commands["bastion"] == f"ssh root@{bastion_ip}"


# -- public mode ----------------------------------------------------------------------------------

def test_public_mode_firewall_sources_are_exactly_the_configured_cidrs(dev: Plan) -> None:
    [firewall] = dev.by_type(FIREWALL)
    rules = {(r["protocol"], r.get("port")): r for r in firewall.inputs["rules"]}
    assert rules[("tcp", "22")]["sourceIps"] == ["203.0.113.0/24"]
    assert rules[("tcp", "6443")]["sourceIps"] == ["203.0.113.0/24"]
    assert set(rules) == {("tcp", "22"), ("tcp", "6443"), ("icmp", None)}
    assert all(r["direction"] == "in" and r["description"] for r in firewall.inputs["rules"])


def test_public_mode_every_node_is_behind_the_firewall_from_creation(dev: Plan) -> None:
    [firewall] = dev.by_type(FIREWALL)
    for node in nodes(dev):
        assert node.inputs["firewallIds"] == [resource_id(firewall)], node.name
        assert node.inputs["publicNets"] == [{"ipv4Enabled": True, "ipv6Enabled": True}]


def test_empty_access_lists_open_nothing(tmp_path: Path) -> None:
    config = example_config("dev")
    config["k3s-hcloud:access"] = {"sshAllowedCidrs": [], "apiAllowedCidrs": [],
                                   "icmpAllowedCidrs": []}
    [firewall] = plan_config(tmp_path, config).by_type(FIREWALL)
    assert firewall.inputs.get("rules", []) == []


# -- every server ---------------------------------------------------------------------------------

@pytest.mark.parametrize("stack", ["dev", "private-ha", "gateway"])
def test_every_server_gets_ssh_keys_and_its_own_host_key(stack: str, request) -> None:
    plan = request.getfixturevalue({"private-ha": "private"}.get(stack, stack))
    key_ids = {str(int(resource_id(k))) for k in plan.by_type(SSH_KEY)}
    for server in servers(plan):
        assert server.inputs["sshKeys"] and set(server.inputs["sshKeys"]) <= key_ids, server.name
        host_key = plan.get(TLS_KEY, f"{server.name}-host-key")
        assert host_key.inputs["algorithm"] == "ED25519"
        assert host_key.urn in server.dependencies
        keys = user_data(server)["ssh_keys"]
        assert keys["ed25519_private"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
        assert keys["ed25519_public"].startswith("ssh-ed25519 ")


def test_user_data_is_secret_and_no_other_server_input_is(private: Plan) -> None:
    for server in servers(private):
        assert server.secret_input_paths() == ["userData"], server.name


def test_sshd_drop_in_on_every_server(private: Plan) -> None:
    for server in servers(private):
        drop_in = written_files(server)["/etc/ssh/sshd_config.d/00-k3s-hcloud.conf"]
        for line in ("PasswordAuthentication no", "KbdInteractiveAuthentication no",
                     "PermitRootLogin prohibit-password"):
            assert line in drop_in.splitlines(), (server.name, line)
        forwarding = "local" if server.name == "prod-bastion" else "no"
        assert f"AllowTcpForwarding {forwarding}" in drop_in.splitlines()


def test_edited_user_data_or_image_never_replaces_a_server(private: Plan) -> None:
    for server in servers(private):
        assert {"userData", "image", "sshKeys"} <= set(server.options["ignoreChanges"])


def test_every_server_is_labelled_with_cluster_role_and_pool(private: Plan) -> None:
    labels = {s.name: s.inputs["labels"] for s in servers(private)}
    assert labels["prod-cp-2"] == {"cluster": "prod", "role": "control-plane",
                                   "pool": "control-plane", "arch": "amd64"}
    assert labels["prod-arm-1"] == {"cluster": "prod", "role": "worker", "pool": "arm",
                                    "arch": "arm64"}
    assert labels["prod-bastion"]["role"] == "bastion"


def test_control_plane_protection_is_opt_in(private: Plan, dev: Plan) -> None:
    protected = private.get(SERVER, "prod-cp-1")
    assert protected.options["protect"] is True
    assert protected.inputs["deleteProtection"] is True and protected.inputs["rebuildProtection"]
    assert private.get(SERVER, "prod-general-1").options["protect"] is False
    assert dev.get(SERVER, "dev-cp-1").options["protect"] is False


def test_control_planes_spread_round_robin_over_locations(private: Plan) -> None:
    assert [private.get(SERVER, f"prod-cp-{n}").inputs["location"] for n in (1, 2, 3)] == [
        "fsn1", "nbg1", "hel1"]


def test_every_hetzner_resource_uses_the_explicit_provider(private: Plan) -> None:
    provider = private.get("pulumi:providers:hcloud", "prod-hcloud")
    hetzner = [r for r in private.resources if r.custom and r.type.startswith("hcloud:index")]
    assert len(hetzner) > 20
    assert all(r.provider and r.provider.startswith(provider.urn + "::") for r in hetzner)


# -- placement groups -----------------------------------------------------------------------------

def test_23_workers_in_one_pool_get_3_spread_groups(tmp_path: Path) -> None:
    config = example_config("dev")
    config["k3s-hcloud:workerPools"][0]["count"] = 23
    plan = plan_config(tmp_path, config)
    groups = [g for g in plan.by_type(PLACEMENT_GROUP) if g.name.startswith("dev-workers-")]
    assert sorted(g.name for g in groups) == ["dev-workers-pg-1", "dev-workers-pg-2",
                                              "dev-workers-pg-3"]
    assert all(g.inputs["type"] == "spread" for g in groups)
    members: dict[float, int] = {}
    for node in nodes(plan):
        members[node.inputs["placementGroupId"]] = members.get(node.inputs["placementGroupId"], 0) + 1
    assert sorted(members[resource_id(g)] for g in groups) == [3, 10, 10]


# -- API load balancer ----------------------------------------------------------------------------

def test_api_lb_targets_every_control_plane_server_by_private_ip(private: Plan) -> None:
    targets = private.by_type(LB_TARGET)
    cps = [private.get(SERVER, f"prod-cp-{n}") for n in (1, 2, 3)]
    assert sorted(t.inputs["serverId"] for t in targets) == sorted(resource_id(s) for s in cps)
    assert all(t.inputs["usePrivateIp"] and t.inputs["type"] == "server" for t in targets)
    attachment = private.get(LB_NETWORK, "prod-cp-api-network")
    assert all(attachment.urn in t.dependencies for t in targets)


def test_api_lb_serves_6443_over_tcp_with_a_readiness_check(private: Plan) -> None:
    [service] = private.by_type(LB_SERVICE)
    assert (service.inputs["protocol"], service.inputs["listenPort"],
            service.inputs["destinationPort"]) == ("tcp", 6443, 6443)
    # Not a TCP check of 6443 (k3s listens there before its apiserver answers): each server's
    # /readyz answer on its own port (tests/test_api_readiness.py).
    assert service.inputs["healthCheck"]["protocol"] == "http"
    assert service.inputs["healthCheck"]["port"] == api_readiness.PORT
    assert service.inputs["healthCheck"]["http"]["path"] == "/readyz"
    # The service only exists once the network attachment has decided the public interface.
    assert private.get(LB_NETWORK, "prod-cp-api-network").urn in service.dependencies


def test_private_api_lb_has_no_public_interface(private: Plan) -> None:
    attachment = private.get(LB_NETWORK, "prod-cp-api-network")
    assert attachment.inputs["enablePublicInterface"] is False
    assert attachment.inputs["ip"] == "10.4.1.2"
    assert private.outputs["apiEndpoint"].value == "https://10.4.1.2:6443"
    assert not any("does NOT protect it" in w for w in private.warnings())


@pytest.fixture(scope="module")
def public_lb(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    config = example_config("gateway")
    config["k3s-hcloud:controlPlane"]["loadBalancer"] = {"enabled": True, "publicInterface": True}
    return plan_config(tmp_path_factory.mktemp("public-lb"), config)


def test_public_api_lb_is_public_and_the_plan_warns_loudly(public_lb: Plan) -> None:
    assert public_lb.get(LB_NETWORK, "web-cp-api-network").inputs["enablePublicInterface"] is True
    assert any("access.apiAllowedCidrs does NOT protect it" in w for w in public_lb.warnings())
    lb = public_lb.get(LB, "web-cp-api")
    lb_ip = public_ipv4(MockResourceArgs(lb.type, lb.name, {}))
    assert public_lb.outputs["apiEndpoint"].value == f"https://{lb_ip}:6443"


def test_without_lb_the_api_endpoint_is_the_first_server(gateway: Plan) -> None:
    first = gateway.outputs["nodeAddresses"].value["web-cp-1"]["public"]
    assert gateway.outputs["apiEndpoint"].value == f"https://{first}:6443"
    assert gateway.by_type(LB) == []


# -- day-2 safety ---------------------------------------------------------------------------------

def comparable(plan: Plan) -> dict[str, tuple]:
    return {r.urn: (r.plain_inputs(), r.options, sorted(r.dependencies),
                    r.property_dependencies, r.parent) for r in plan.resources}


@pytest.fixture(scope="module")
def private_changed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Plan]:
    """The private-ha stack with one worker added, and with the arm pool removed.

    Planned under the example's own stack name, so URNs are comparable with ``private``.
    """
    grown = example_config("private-ha")
    grown["k3s-hcloud:workerPools"][0]["count"] += 1
    shrunk = example_config("private-ha")
    shrunk["k3s-hcloud:workerPools"] = [p for p in shrunk["k3s-hcloud:workerPools"]
                                        if p["name"] != "arm"]
    return {name: plan_config(tmp_path_factory.mktemp(name), config, stack="private-ha")
            for name, config in (("grown", grown), ("shrunk", shrunk))}


def test_adding_a_worker_changes_no_existing_resource(private: Plan,
                                                      private_changed: dict[str, Plan]) -> None:
    before, after = comparable(private), comparable(private_changed["grown"])
    changed = [urn for urn in before if before[urn] != after.get(urn)]
    assert changed == []
    added = sorted(urn.rsplit("::", 1)[1] for urn in set(after) - set(before))
    # The server, its host key, and the node's own bootstrap steps (K3sNode component + commands).
    assert added == sorted(["prod-general-4", "prod-general-4", "prod-general-4-host-key",
                            *(f"prod-general-4-{step}" for step in (
                                "boot", "pod-route", "secrets", "registration", "servers-at",
                                "drain", "k3s",
                                "uncordon", "membership", "node-metadata"))])


def test_removing_a_pool_leaves_every_other_resource_untouched(
        private: Plan, private_changed: dict[str, Plan]) -> None:
    before, after = comparable(private), comparable(private_changed["shrunk"])
    removed = sorted(urn.rsplit("::", 1)[1] for urn in set(before) - set(after))
    steps = ["", "-boot", "-pod-route", "-secrets", "-registration", "-servers-at", "-drain",
             "-k3s", "-uncordon",
             "-membership", "-node-metadata"]
    node_resources = [f"prod-arm-{n}{step}" for n in (1, 2) for step in steps]
    assert removed == sorted(["prod-arm", "prod-arm-1", "prod-arm-1-host-key", "prod-arm-2",
                              "prod-arm-2-host-key", "prod-arm-pg-1", *node_resources])
    assert [urn for urn in after if after[urn] != before[urn]] == []


def test_adding_a_pool_in_front_moves_no_node(tmp_path: Path, dev: Plan) -> None:
    config = example_config("dev")
    config["k3s-hcloud:workerPools"].insert(0, {"name": "gpu", "count": 1})
    after = comparable(plan_config(tmp_path, config, stack="dev"))
    before = comparable(dev)
    assert [urn for urn in before if after.get(urn) != before[urn]] == []


def test_public_mode_bastion_is_a_jump_host_without_nat(tmp_path: Path) -> None:
    config = example_config("dev")
    config["k3s-hcloud:bastion"] = {"enabled": True}
    plan = plan_config(tmp_path, config)
    firewalls = {f.name: f for f in plan.by_type(FIREWALL)}
    assert sorted(firewalls) == ["dev-firewall-bastion", "dev-firewall-nodes"]
    assert not any(r.get("port") == "6443" for r in firewalls["dev-firewall-bastion"].inputs["rules"])
    bastion = plan.get(SERVER, "dev-bastion")
    assert bastion.inputs["firewallIds"] == [resource_id(firewalls["dev-firewall-bastion"])]
    assert "/etc/sysctl.d/90-k3s-hcloud-nat.conf" not in written_files(bastion)
    assert plan.by_type(ROUTE) == []
