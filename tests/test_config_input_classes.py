"""Input the config model used to accept though it would break or weaken a cluster, and error
messages that did not help. One test per class; each names the key as written and the fix."""

from __future__ import annotations

import re

import pytest

from stack_config import ConfigError, validate_cluster_spec
from tests.helpers import config_problems, example_config, minimal_config

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ1c3RlZA== me@laptop"


def one(raw: dict) -> str:
    [problem] = config_problems(raw)
    return problem


# -- messages --------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw", [
    minimal_config(controlPlane={"serverType": "CX 23"}),
    minimal_config(workerPools=[{"name": "a", "labels": {"bad key!": "x"}}]),
    minimal_config(workerPools=[{"name": "a", "labels": {"tier": "bad value!"}}]),
    minimal_config(addons={"csi": {"version": "v2"}}),
    minimal_config(addons={"systemUpgradeController": {"version": "0.19"}}),
    minimal_config(addons={"gateway": {"listeners": [{"name": "h", "port": 443, "protocol":
                                                      "HTTP", "hostname": "Bad_Host"}]}}),
    minimal_config(controlPlane={"image": "Ubuntu 24"}),
])
def test_no_message_prints_a_regular_expression(raw: dict) -> None:
    problem = one(raw)
    assert "pattern" not in problem and not re.search(r"\^|\$'|\[a-z", problem), problem
    assert "Fix:" in problem


def test_an_unknown_key_gets_the_key_probably_meant() -> None:
    assert one(minimal_config(k3s={"serverConfg": {}})).startswith(
        "k3s.serverConfg: unknown key. Fix: did you mean 'serverConfig'?")


def test_a_bad_ssh_key_is_named_by_its_index() -> None:
    assert one(minimal_config(access={"sshPublicKeys": [KEY, "ssh-ed25519 not-base64!"]})) == (
        "access.sshPublicKeys[1]: is not an OpenSSH public key. Fix: paste the whole line of "
        "e.g. ~/.ssh/id_ed25519.pub ('ssh-ed25519 AAAA…').")


def test_the_same_ssh_key_twice_is_refused() -> None:
    other_comment = KEY.replace("me@laptop", "me@desktop")
    assert one(minimal_config(access={"sshPublicKeys": [KEY, other_comment]})) == (
        "access.sshPublicKeys[1]: is the same key as sshPublicKeys[0]. Fix: list each public key "
        "once.")


def test_durations_are_parsed() -> None:
    assert "is not a duration" in one(minimal_config(
        k3s={"hardening": {"enabled": True, "streamingConnectionIdleTimeout": "forever"}}))
    validate_cluster_spec(minimal_config(
        k3s={"hardening": {"streamingConnectionIdleTimeout": "1h30m"}}))


@pytest.mark.parametrize("url", ["not a url", "https://127.0.0.1:6443/path", "https://:6443",
                                 "https://host:99999"])
def test_api_server_urls_are_parsed(url: str) -> None:
    assert one(minimal_config(access={"kubernetesApiServer": url})).startswith(
        "access.kubernetesApiServer: ")


# -- k3s -------------------------------------------------------------------------------------------
def test_an_empty_datastore_endpoint_is_refused_not_read_two_ways() -> None:
    assert one(minimal_config(k3s={"datastoreEndpoint": ""})).startswith(
        "k3s.datastoreEndpoint: is empty. Fix: remove k3s.datastoreEndpoint for embedded etcd")


def test_a_datastore_endpoint_that_k3s_would_read_as_sqlite_is_refused() -> None:
    problem = one(minimal_config(k3s={"datastoreEndpoint": "not a url"}))
    assert "as a local SQLite path" in problem and "not a url" not in problem


def test_a_datastore_password_in_plain_text_is_refused() -> None:
    problem = one(minimal_config(k3s={"datastoreEndpoint": "postgres://k3s:pw@db:5432/k3s"}))
    assert problem.startswith("k3s.datastoreEndpoint: holds a password in plain text")
    assert "pulumi config set --secret --path 'k3s.datastoreEndpoint'" in problem
    validate_cluster_spec(minimal_config(k3s={"datastoreEndpoint": "postgres://k3s:pw@db/k3s"}),
                          secret_keys=frozenset({"k3s"}))


@pytest.mark.parametrize(("written", "flag"), [("token", "token"), ("t", "token"),
                                               ("tls-san+", "tls-san"), ("i", "node-ip"),
                                               ("d", "data-dir"), ("cluster-cidr+", "cluster-cidr")])
def test_computed_keys_are_refused_also_through_append_syntax_and_aliases(written: str,
                                                                          flag: str) -> None:
    problem = one(minimal_config(k3s={"serverConfig": {written: "x"}}))
    assert problem.startswith(f"k3s.serverConfig.{written}: '{written}'")
    assert "is computed by the program" in problem
    assert written == flag or f"(k3s's `{flag}`)" in problem


def test_flags_k3s_removed_are_refused() -> None:
    assert one(minimal_config(k3s={"serverConfig": {"no-deploy": ["traefik"]}})).startswith(
        "k3s.serverConfig.no-deploy: 'no-deploy' was removed from k3s, which ignores unknown "
        "config keys")


def test_disable_etcd_with_an_external_datastore_is_refused() -> None:
    problem = one(minimal_config(k3s={"datastoreEndpoint": "https://etcd-1:2379",
                                      "serverConfig": {"disable-etcd": True}}))
    assert problem.startswith("k3s.serverConfig.disable-etcd: 'disable-etcd': with "
                              "k3s.datastoreEndpoint there is no embedded etcd to disable.")


def test_a_pod_range_with_fewer_blocks_than_nodes_is_refused() -> None:
    problem = one(minimal_config(k3s={"clusterCidr": "10.42.0.0/23"},
                                 workerPools=[{"name": "w", "count": 2}]))
    assert problem.startswith("k3s.clusterCidr: 10.42.0.0/23 holds 2 /24 pod block(s), one per "
                              "node, for 3 nodes")
    validate_cluster_spec(minimal_config(k3s={"clusterCidr": "10.42.0.0/22"},
                                         workerPools=[{"name": "w", "count": 2}]))


def test_the_wildcard_mirror_needs_a_release_that_has_it() -> None:
    old = {"version": "v1.29.2+k3s1", "embeddedRegistryMirror": {"enabled": True,
                                                                  "registries": ["*"]}}
    problem = one(minimal_config(k3s=old, cilium={"version": "1.18.12", "allowUntestedKubernetes": True}))
    assert problem.startswith("k3s.embeddedRegistryMirror.registries: k3s v1.29.2+k3s1's "
                              "embedded mirror has no \"*\"")
    validate_cluster_spec(minimal_config(k3s={**old, "version": "v1.29.3+k3s1"},
                                         cilium={"version": "1.18.12", "allowUntestedKubernetes": True}))


@pytest.mark.parametrize("label", ["node-role.kubernetes.io/worker", "kubernetes.io/role",
                                   "k8s.io/x"])
def test_pool_labels_the_kubelet_refuses_are_refused(label: str) -> None:
    assert one(minimal_config(workerPools=[{"name": "w", "labels": {label: "true"}}])).startswith(
        f"workerPools[0].labels.{label}: the kubelet may not set labels in this namespace")


def test_labels_the_kubelet_owns_are_accepted() -> None:
    validate_cluster_spec(minimal_config(workerPools=[{"name": "w", "labels": {
        "node.kubernetes.io/pool": "w", "topology.kubernetes.io/zone": "a"}}]))


def test_node_role_labels_in_agent_config_are_refused() -> None:
    assert "the kubelet refuses to set node-role.kubernetes.io/worker=true" in one(
        minimal_config(k3s={"agentConfig": {"node-label": ["node-role.kubernetes.io/worker=true"]}}))


def test_a_credential_in_plain_server_config_is_refused_with_the_fix() -> None:
    assert one(minimal_config(k3s={"serverConfig": {"etcd-s3-secret-key": "abc"}})) == (
        "k3s.serverConfig.etcd-s3-secret-key: 'etcd-s3-secret-key' is a credential given in "
        "plain text; it would be stored and shown unencrypted. Fix: remove it from "
        "Pulumi.<stack>.yaml and run: pulumi config set --secret --path "
        "'k3s.serverConfig.etcd-s3-secret-key' <value>")
    spec = validate_cluster_spec(minimal_config(k3s={"serverConfig": {"etcd-s3-secret-key": "abc"}}),
                                 secret_keys=frozenset({"k3s"}))
    assert spec.is_secret("k3s")


def test_a_secret_where_nothing_carries_it_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"access: holds a value set with --secret"):
        validate_cluster_spec(minimal_config(), secret_keys=frozenset({"access"}))


# -- Hetzner ---------------------------------------------------------------------------------------
def test_a_removed_server_type_is_refused_with_its_successor() -> None:
    assert one(minimal_config(controlPlane={"serverType": "cx22"})) == (
        "controlPlane.serverType: Hetzner no longer offers cx22 for new servers. Fix: use cx23, "
        "its successor.")


def test_arm_types_are_refused_where_hetzner_does_not_offer_them() -> None:
    problem = one(minimal_config(location="ash", controlPlane={"serverType": "cpx22"},
                                 workerPools=[{"name": "arm", "serverType": "cax21"}]))
    assert problem.startswith("workerPools[0].serverType: cax types are not offered in ash")


def test_derived_names_longer_than_63_are_refused() -> None:
    long_name = "c" * 40
    problem = one(minimal_config(clusterName=long_name,
                                 workerPools=[{"name": "p" * 20, "count": 12}]))
    assert problem.startswith("workerPools[0].name: the derived name '" + long_name)
    assert "Fix: shorten clusterName or this pool's name." in problem


def test_a_gateway_load_balancer_in_another_network_zone_is_refused() -> None:
    gateway = {"enabled": True, "loadBalancer": {"location": "ash"}}
    cilium = {"values": {"gatewayAPI": {"enabled": True}, "l7Proxy": True}}
    problems = config_problems(minimal_config(addons={"gateway": gateway}, cilium=cilium))
    assert any(p.startswith("addons.gateway.loadBalancer.location: ash is in us-east, the "
                            "network in eu-central") for p in problems), problems


def test_the_ccm_cannot_be_off_while_cilium_routes_natively() -> None:
    assert one(minimal_config(addons={"ccm": {"enabled": False}})).startswith(
        "addons.ccm.enabled: Cilium routes natively (routingMode: native), and only hcloud-ccm "
        "creates the Hetzner network routes")


def test_a_refusal_under_a_secret_key_never_repeats_the_value() -> None:
    with pytest.raises(ConfigError) as caught:
        validate_cluster_spec(minimal_config(k3s={"version": "hunter2-secret",
                                                  "serverConfig": {"etcd-s3": "x"}}),
                              secret_keys=frozenset({"k3s"}))
    text = str(caught.value)
    assert "k3s.version: (secret value) is not a k3s release tag" in text
    assert "hunter2" not in text


def test_derived_names_cover_the_longest_name_the_program_registers() -> None:
    from cluster_plan.resource_names import PoolNames, derived_names
    from tests.program_plans import example_plan

    plan = example_plan("private-ha")
    spec = validate_cluster_spec(
        {k.split(":", 1)[1]: v for k, v in example_config("private-ha").items()})
    names = [str(r.inputs["name"]) for r in plan.resources
             if r.type.startswith("hcloud:") and isinstance(r.inputs.get("name"), str)]
    pools = [PoolNames(f"workerPools[{i}].name", p.name, p.count)
             for i, p in enumerate(spec.worker_pools)]
    derived = [name for _, name in derived_names(spec.cluster_name, spec.control_plane.count,
                                                 spec.control_plane_locations,
                                                 spec.bastion.enabled, pools)]
    assert names and max(map(len, names)) <= max(map(len, derived)), (
        max(names, key=len), max(derived, key=len))
