"""k3s, server, load balancer and remote-command policies: each with a compliant baseline, its
violation messages, a missing property and an unknown value during preview."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi_policy.proxy import UnknownValueError

from policies.rules.api_load_balancer import public_api_load_balancer
from policies.rules.k3s import embedded_registry_needs_release, etcd_odd_server_count
from policies.rules.remote_commands import host_key_pinned, no_secret_in_text, secret_output_not_logged
from policies.rules.servers import (
    placement_group_capacity,
    private_node_public_ip,
    private_nodes_need_egress_route,
    public_server_firewall_required,
    server_ssh_keys_required,
)
from policies.rules.types import (
    HCLOUD_FIREWALL,
    HCLOUD_LOAD_BALANCER,
    HCLOUD_LOAD_BALANCER_NETWORK,
    HCLOUD_LOAD_BALANCER_SERVICE,
    HCLOUD_NETWORK_ROUTE,
    HCLOUD_PLACEMENT_GROUP,
    HCLOUD_SERVER,
    K3S_CLUSTER,
    K3S_NODE,
    REMOTE_COMMAND,
)
from stack_config import ConfigError, validate_cluster_spec
from tests.helpers import minimal_config
from tests.policy_fixtures import UNKNOWN, check_resource, check_stack, stack_resource
from tools.lib.engine import Plan, RecordedOutput
from tools.lib.policy_gate import output_violations

PUBLIC = [{"ipv4Enabled": True, "ipv6Enabled": True}]
PRIVATE = [{"ipv4Enabled": False, "ipv6Enabled": False}]


def node(name: str, role: str = "server", version: str = "v1.35.3+k3s1", **config: Any):
    return stack_resource(K3S_NODE, {"role": role, "k3sVersion": version,
                                     "k3sConfig": dict(config)}, name)


# -- k3s-embedded-registry-needs-supported-release -------------------------------------------------
def test_embedded_registry_on_a_release_that_has_it_passes() -> None:
    resources = [node("cp-1", version="v1.26.13+k3s1", **{"embedded-registry": True})]
    assert check_stack(embedded_registry_needs_release, resources) == []


def test_embedded_registry_on_the_seed_release_is_refused() -> None:
    resources = [node("cp-1", version="v1.26.4+k3s1", **{"embedded-registry": True,
                                                         "cluster-init": True})]
    assert check_stack(embedded_registry_needs_release, resources) == [
        "k3s node 'cp-1' enables embedded-registry on v1.26.4+k3s1, which has no embedded registry "
        "mirror (first in v1.26.13+k3s1, v1.27.10+k3s1, v1.28.6+k3s1, v1.29.1+k3s1); cluster init "
        "fails. Fix: raise k3s.version to one of those releases or newer, or set "
        "k3s.embeddedRegistryMirror.enabled: false."]


def test_a_hand_written_install_command_is_read_from_its_text() -> None:
    command = stack_resource(REMOTE_COMMAND, {
        "create": "curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION=v1.26.4+k3s1 "
                  "INSTALL_K3S_EXEC='server --cluster-init --embedded-registry' sh -",
        "connection": {"host": "198.51.100.7", "hostKey": "ssh-ed25519 AAAA"}}, "install")
    [message] = check_stack(embedded_registry_needs_release, [command])
    assert message.startswith("k3s node 'install' enables embedded-registry on v1.26.4+k3s1")


def test_missing_version_or_config_is_not_a_violation() -> None:
    bare = stack_resource(K3S_NODE, {"role": "server"}, "cp-1")
    assert check_stack(embedded_registry_needs_release, [bare]) == []


def test_unknown_node_config_during_preview_raises() -> None:
    unknown = stack_resource(K3S_NODE, {"role": "server", "k3sVersion": "v1.26.4+k3s1",
                                        "k3sConfig": UNKNOWN}, "cp-1")
    with pytest.raises(UnknownValueError):
        check_stack(embedded_registry_needs_release, [unknown])


# -- k3s-etcd-odd-server-count ---------------------------------------------------------------------
def test_three_etcd_servers_pass_and_two_are_refused() -> None:
    three = [node("cp-1", **{"cluster-init": True}), node("cp-2"), node("cp-3"),
             node("w-1", role="agent")]
    assert check_stack(etcd_odd_server_count, three) == []
    assert check_stack(etcd_odd_server_count, three[:2]) == [
        "2 k3s servers (cp-1, cp-2) run embedded etcd (cluster-init on 'cp-1'): an even member "
        "count tolerates no more failures than one server fewer and splits votes. Fix: set "
        "controlPlane.count to 1, 3 or 5, or use an external datastore (k3s.datastoreEndpoint)."]


def _config_accepts(count: int) -> bool:
    try:
        validate_cluster_spec(minimal_config(controlPlane={"count": count}))
    except ConfigError:
        return False
    return True


@pytest.mark.parametrize("count", range(1, 8))
def test_the_policy_refuses_exactly_the_counts_the_config_model_refuses(count: int) -> None:
    # One fact (upstream.k3s.EMBEDDED_ETCD_SERVER_COUNTS), two readers.
    servers = [node(f"cp-{i}", **({"cluster-init": True} if i == 1 else {}))
               for i in range(1, count + 1)]
    refused = check_stack(etcd_odd_server_count, servers)
    assert bool(refused) == (not _config_accepts(count))
    if count == 7:
        assert "every member takes part in every write" in refused[0]


def test_even_servers_on_an_external_datastore_pass() -> None:
    assert check_stack(etcd_odd_server_count, [node("cp-1"), node("cp-2")]) == []


# -- hcloud-server-ssh-keys-required ---------------------------------------------------------------
def test_servers_need_ssh_keys() -> None:
    assert check_resource(server_ssh_keys_required, HCLOUD_SERVER, {"sshKeys": ["1"]}) == []
    for props in ({"sshKeys": []}, {}):
        assert check_resource(server_ssh_keys_required, HCLOUD_SERVER, props, name="w-1") == [
            "Server 'w-1' has no SSH keys: Hetzner then sets a root password and e-mails it, and "
            "password login is the way in. Fix: give every server ssh_keys (k3s-hcloud does: "
            "access.sshPublicKeys or a generated key)."]
    with pytest.raises(UnknownValueError):
        check_resource(server_ssh_keys_required, HCLOUD_SERVER, {"sshKeys": UNKNOWN})


# -- hcloud-private-node-no-public-ip / hcloud-private-nodes-egress-route ---------------------------
def private_stack(worker_nets: list, route: bool = True) -> list:
    resources = [
        stack_resource(K3S_CLUSTER, {"privateOnly": True}, "prod"),
        stack_resource(HCLOUD_SERVER, {"publicNets": PUBLIC, "networks": [{"ip": "10.4.1.1"}],
                                       "labels": {"role": "bastion"}}, "bastion"),
        stack_resource(HCLOUD_SERVER, {"publicNets": worker_nets,
                                       "networks": [{"ip": "10.4.2.1"}]}, "w-1"),
    ]
    if route:
        resources.append(stack_resource(HCLOUD_NETWORK_ROUTE, {"destination": "0.0.0.0/0",
                                                               "gateway": "10.4.1.1"}, "egress"))
    return resources


def test_private_nodes_without_public_ips_and_with_a_route_pass() -> None:
    assert check_stack(private_node_public_ip, private_stack(PRIVATE)) == []
    assert check_stack(private_nodes_need_egress_route, private_stack(PRIVATE)) == []


def test_a_public_node_in_a_private_stack_is_refused() -> None:
    assert check_stack(private_node_public_ip, private_stack(PUBLIC)) == [
        "Server 'w-1' has a public interface in a private-only cluster. Fix: create it with "
        "public_nets ipv4_enabled and ipv6_enabled false (k3s-hcloud does with "
        "network.privateOnly: true)."]
    # publicNets left out is the API default: public.
    assert len(check_stack(private_node_public_ip, private_stack([]))) == 1


def test_private_nodes_without_the_egress_route_are_refused() -> None:
    assert check_stack(private_nodes_need_egress_route, private_stack(PRIVATE, route=False)) == [
        "Servers without a public interface (w-1) have no 0.0.0.0/0 network route: they cannot "
        "reach the internet (the Hetzner API for the CCM and CSI driver; the k3s installer and "
        "images unless staged). Fix: route 0.0.0.0/0 to the NAT host's "
        "private IP (k3s-hcloud's bastion does, with network.privateOnly and bastion.enabled)."]


# -- hcloud-public-server-firewall-required --------------------------------------------------------
def test_public_servers_need_a_firewall() -> None:
    with_firewall = stack_resource(HCLOUD_SERVER, {"publicNets": PUBLIC, "firewallIds": [7]}, "a")
    bare = stack_resource(HCLOUD_SERVER, {"publicNets": PUBLIC, "labels": {"pool": "x"}}, "b")
    private = stack_resource(HCLOUD_SERVER, {"publicNets": PRIVATE}, "c")
    assert check_stack(public_server_firewall_required, [with_firewall, private]) == []
    assert check_stack(public_server_firewall_required, [bare]) == [
        "Server 'b' has a public interface and no firewall: every port it listens on is open to "
        "the internet. Fix: attach a firewall at creation (firewall_ids) or through a "
        "FirewallAttachment."]
    by_label = stack_resource(HCLOUD_FIREWALL, {"applyTos": [{"labelSelector": "pool=x"}]}, "fw")
    assert check_stack(public_server_firewall_required, [bare, by_label]) == []


# -- hcloud-placement-group-capacity ----------------------------------------------------------------
def test_placement_groups_hold_at_most_ten_servers() -> None:
    group = stack_resource(HCLOUD_PLACEMENT_GROUP, {"type": "spread"}, "pg-1")

    def servers(count: int) -> list:
        resources = [stack_resource(HCLOUD_SERVER, {"placementGroupId": 5}, f"s-{i}")
                     for i in range(count)]
        for server in resources:
            server.property_dependencies = {"placementGroupId": [group]}
        return resources

    assert check_stack(placement_group_capacity, servers(10)) == []
    assert check_stack(placement_group_capacity, servers(11)) == [
        "Placement group 'pg-1' would hold 11 servers; a spread group holds at most 10 and "
        "creation fails with 'already contains 10 servers'. Fix: split the servers over more "
        "groups (k3s-hcloud does this per pool)."]


# -- hcloud-api-load-balancer-not-firewalled --------------------------------------------------------
def api_lb_stack(public: bool, sources: list[str]) -> list:
    lb = stack_resource(HCLOUD_LOAD_BALANCER, {"loadBalancerType": "lb11"}, "api")
    network = stack_resource(HCLOUD_LOAD_BALANCER_NETWORK, {"enablePublicInterface": public}, "n")
    service = stack_resource(HCLOUD_LOAD_BALANCER_SERVICE, {"listenPort": 6443.0}, "s")
    network.property_dependencies = service.property_dependencies = {"loadBalancerId": [lb]}
    firewall = stack_resource(HCLOUD_FIREWALL, {"rules": [
        {"direction": "in", "protocol": "tcp", "port": "6443", "sourceIps": sources}]}, "fw")
    return [lb, network, service, firewall]


def test_a_private_api_load_balancer_passes() -> None:
    assert check_stack(public_api_load_balancer, api_lb_stack(False, ["203.0.113.0/24"])) == []


def test_a_public_api_load_balancer_beside_a_restricted_firewall_is_refused() -> None:
    assert check_stack(public_api_load_balancer, api_lb_stack(True, ["203.0.113.0/24"])) == [
        "Load balancer 'api' serves the Kubernetes API (port 6443) on a public interface, while "
        "the firewall allows 6443 only from 203.0.113.0/24: Hetzner firewalls do not apply to "
        "load balancers, so the whole internet reaches this API. Fix: set "
        "controlPlane.loadBalancer.publicInterface: false (reach it through the bastion), or set "
        "acknowledgePublicApiLoadBalancer in the pack config to accept the exposure."]
    assert check_stack(public_api_load_balancer, api_lb_stack(True, ["203.0.113.0/24"]),
                       config={"acknowledgePublicApiLoadBalancer": True}) == []


def test_an_unknown_listen_port_during_preview_raises() -> None:
    resources = api_lb_stack(True, [])
    resources[2] = stack_resource(HCLOUD_LOAD_BALANCER_SERVICE, {"listenPort": UNKNOWN}, "s")
    resources[2].property_dependencies = {"loadBalancerId": [resources[0]]}
    with pytest.raises(UnknownValueError):
        check_stack(public_api_load_balancer, resources)


# -- remote commands ----------------------------------------------------------------------------------
PINNED = {"host": "10.0.1.11", "hostKey": "ssh-ed25519 AAAA",
          "proxy": {"host": "198.51.100.1", "hostKey": "ssh-ed25519 BBBB"}}


def test_pinned_connections_pass_and_unpinned_ones_are_named() -> None:
    assert check_resource(host_key_pinned, REMOTE_COMMAND, {"connection": PINNED}) == []
    unpinned = {"connection": {"host": "10.0.1.11", "proxy": {"host": "198.51.100.1"}}}
    assert check_resource(host_key_pinned, REMOTE_COMMAND, unpinned, name="cp-1-k3s") == [
        "Remote command 'cp-1-k3s' does not pin the server's host key (connection.host_key): it "
        "would trust any machine that answers on 10.0.1.11. Fix: set connection.host_key to the "
        "server's public host key (k3s-hcloud generates one per server).",
        "Remote command 'cp-1-k3s' does not pin the jump host's key (connection.proxy.host_key). "
        "Fix: pin the bastion's public host key."]
    assert len(check_resource(host_key_pinned, REMOTE_COMMAND, {})) == 1
    with pytest.raises(UnknownValueError):
        check_resource(host_key_pinned, REMOTE_COMMAND, {"connection": UNKNOWN})


@pytest.mark.parametrize("text", [
    "k3s agent --token K10" + "a" * 64 + "::node:secret",
    "K3S_TOKEN=hunter2hunter2 sh install.sh",
    "k3s server --token=abcdef123",
    "printf '%s' '-----BEGIN OPENSSH PRIVATE KEY-----' > key",
    "HCLOUD_TOKEN=abc123 hcloud server list",
])
def test_secrets_in_command_text_are_refused(text: str) -> None:
    [message] = check_resource(no_secret_in_text, REMOTE_COMMAND, {"create": text}, name="c")
    assert message.startswith("Remote command 'c' has ") and "in its create text" in message


@pytest.mark.parametrize("text", [
    'K3S_TOKEN="$(cat /run/token)" sh install.sh', "k3s server --token-file /etc/rancher/k3s/t",
    "env K3S_VERSION=v1.35.3+k3s1 bash -c 'apply'"])
def test_secret_references_are_not_secrets(text: str) -> None:
    assert check_resource(no_secret_in_text, REMOTE_COMMAND, {"create": text}) == []


def test_secret_in_environment_is_refused_too() -> None:
    [message] = check_resource(no_secret_in_text, REMOTE_COMMAND,
                               {"create": "true", "environment": {"HCLOUD_TOKEN": "abc"}}, name="c")
    assert "in its environment.HCLOUD_TOKEN text" in message


def test_reading_a_secret_file_requires_quiet_logging() -> None:
    props = {"create": "cat /etc/rancher/k3s/k3s.yaml", "logging": "stderr"}
    assert check_resource(secret_output_not_logged, REMOTE_COMMAND, props) == []
    loud = {"create": "cat /etc/rancher/k3s/k3s.yaml"}  # logging unset: stdoutAndStderr
    assert check_resource(secret_output_not_logged, REMOTE_COMMAND, loud, name="read") == [
        "Remote command 'read' handles a secret (a secret file or secret stdin) and logs "
        "stdoutAndStderr: its output would be shown in clear. Fix: set logging to 'stderr' or "
        "'none' and mark stdout secret."]
    with pytest.raises(UnknownValueError):
        check_resource(secret_output_not_logged, REMOTE_COMMAND,
                       {"create": "cat /etc/rancher/k3s/k3s.yaml", "logging": UNKNOWN})


# -- stack-outputs-keep-secrets (offline gate only) ----------------------------------------------------
def test_secret_looking_outputs_must_be_secret() -> None:
    plan = Plan("s", "p", outputs={"kubeconfig": RecordedOutput("apiVersion: v1", False),
                                   "sshPrivateKey": RecordedOutput("k", True),
                                   "apiEndpoint": RecordedOutput("https://x:6443", False)})
    [violation] = output_violations(plan)
    assert violation.policy == "stack-outputs-keep-secrets"
    assert violation.message == ("Stack output 'kubeconfig' looks like a secret but is exported in "
                                 "plain text. Fix: export it wrapped in pulumi.Output.secret(...).")
