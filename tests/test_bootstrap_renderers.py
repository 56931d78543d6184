"""What the bootstrap renders, tested as plain functions: k3s config.yaml, registries.yaml, CIS
files, kubeconfig, join tokens, the stdin bundles and the command lines."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.bootstrap import hardening, k3s_config, paths
from components.bootstrap.bundle import (
    NodeFile,
    StagedFile,
    decode_file_bundle,
    encode_file_bundle,
)
from components.bootstrap.join_tokens import CaHashError, secure_token
from components.bootstrap.k3s_config import NodePlace, cluster_wide_config, render_config
from components.bootstrap.kubeconfig import (
    AdminCredentials,
    ApiServer,
    KubeconfigError,
    parse_admin_kubeconfig,
    render_kubeconfig,
)
from components.bootstrap.registries import render_registries
from components.bootstrap.remote_script import remote_script
from stack_config import ClusterSpec, validate_cluster_spec
from stack_config.k3s import MANAGED_K3S_KEYS
from tests.fake_node import FakeNode
from upstream.k3s import CRITICAL_SERVER_KEYS

JOIN = "https://10.0.1.1:6443"
FIRST = NodePlace("dev-cp-1", "server", "10.0.1.1", first_server=True)
SECOND = NodePlace("dev-cp-2", "server", "10.0.1.2")
WORKER = NodePlace("dev-workers-1", "agent", "10.0.2.1", labels={"pool": "workers"},
                   taints=["dedicated=gpu:NoSchedule"])


def spec(**overrides: Any) -> ClusterSpec:
    return validate_cluster_spec({"clusterName": "dev", **overrides})


def render(place: NodePlace, the_spec: ClusterSpec | None = None, **kwargs: Any) -> dict[str, Any]:
    return render_config(the_spec or spec(), place, join_url=JOIN, **kwargs)


# -- config.yaml ---------------------------------------------------------------------------------

def test_first_server_initialises_embedded_etcd_and_joiners_join_it() -> None:
    first, second = render(FIRST), render(SECOND)
    assert first["cluster-init"] is True and "server" not in first
    assert second["server"] == JOIN and "cluster-init" not in second
    for config in (first, second):
        assert config["token-file"] == paths.CLUSTER_TOKEN_FILE
        assert config["agent-token-file"] == paths.AGENT_TOKEN_FILE
        assert config["flannel-backend"] == "none" and config["disable-network-policy"] is True
        assert config["disable"] == ["traefik", "servicelb"]
        assert config["write-kubeconfig-mode"] == "0600"
    assert first["node-name"] == "dev-cp-1" and first["node-ip"] == "10.0.1.1"


def test_no_token_value_is_ever_in_config_yaml() -> None:
    for place in (FIRST, SECOND, WORKER):
        config = render(place)
        assert not {"token", "agent-token", "datastore-endpoint"} & set(config)


def test_agents_join_with_the_agent_token_and_carry_no_server_keys() -> None:
    agent = render(WORKER)
    assert agent["server"] == JOIN
    assert agent["token-file"] == paths.AGENT_TOKEN_FILE
    assert agent["node-label"] == ["pool=workers"]
    assert agent["node-taint"] == ["dedicated=gpu:NoSchedule"]
    assert not set(agent) & (CRITICAL_SERVER_KEYS | {"tls-san", "cluster-init",
                                                     "write-kubeconfig-mode"})


def test_with_an_external_datastore_no_server_inits_or_joins_a_supervisor() -> None:
    external = spec(controlPlane={"count": 2}, k3s={"datastoreEndpoint": "postgres://db/k3s"})
    for place in (FIRST, SECOND):
        config = render(place, external)
        assert "cluster-init" not in config and "server" not in config
    assert render(WORKER, external)["server"] == JOIN


@pytest.mark.parametrize(("value", "disabled"), [
    (None, True), (True, True), ("true", True), (False, False), ("false", False)])
def test_kube_proxy_is_disabled_exactly_when_cilium_replaces_it(value: Any, disabled: bool) -> None:
    values = {} if value is None else {"kubeProxyReplacement": value}
    config = render(FIRST, spec(cilium={"values": values}))
    assert config.get("disable-kube-proxy", False) is disabled


def test_the_ccm_switches_off_k3s_cloud_controller_and_sets_external_kubelets() -> None:
    for place in (FIRST, WORKER):
        assert "cloud-provider=external" in render(place)["kubelet-arg"]
    assert render(FIRST)["disable-cloud-controller"] is True
    # Without the CCM's routes, Cilium must tunnel (the config model refuses native routing).
    without = spec(addons={"ccm": {"enabled": False}},
                   cilium={"values": {"routingMode": "tunnel", "tunnelProtocol": "vxlan"}})
    assert "disable-cloud-controller" not in render(FIRST, without)
    assert "kubelet-arg" not in render(WORKER, without)


def test_cidrs_and_embedded_registry_come_from_the_k3s_keys() -> None:
    config = render(FIRST, spec(k3s={"clusterCidr": "10.60.0.0/16", "serviceCidr": "10.61.0.0/16",
                                     "embeddedRegistryMirror": {"enabled": True}}))
    assert config["cluster-cidr"] == "10.60.0.0/16" and config["service-cidr"] == "10.61.0.0/16"
    assert config["embedded-registry"] is True
    assert "embedded-registry" not in render(FIRST)


def test_critical_keys_come_from_one_place_and_agree_on_every_server() -> None:
    hardened = spec(controlPlane={"count": 3}, k3s={"hardening": {"enabled": True},
                                                    "embeddedRegistryMirror": {"enabled": True}})
    wide = cluster_wide_config(hardened).flags()
    per_node_fields = set(k3s_config.NodeConfig.model_fields) | set(
        k3s_config.ServerOnlyConfig.model_fields)
    assert not {k3s_config._flag_name(f) for f in per_node_fields} & CRITICAL_SERVER_KEYS
    assert set(wide) <= CRITICAL_SERVER_KEYS
    servers = [render(FIRST, hardened), render(SECOND, hardened),
               render(NodePlace("dev-cp-3", "server", "10.0.1.3"), hardened)]
    for config in servers:
        assert {k: v for k, v in config.items() if k in CRITICAL_SERVER_KEYS} == wide


def test_every_scalar_key_the_program_computes_is_refused_in_extra_config() -> None:
    hardened = spec(k3s={"hardening": {"enabled": True},
                         "embeddedRegistryMirror": {"enabled": True}})
    computed = {**render(FIRST, hardened, tls_sans=["10.0.0.5"]), **render(WORKER, hardened)}
    scalar_keys = {key for key, value in computed.items() if not isinstance(value, list)}
    assert scalar_keys <= MANAGED_K3S_KEYS


def test_extra_config_is_merged_and_repeatable_flags_are_appended() -> None:
    extra = spec(k3s={"serverConfig": {"etcd-snapshot-retention": 10, "kubelet-arg": "max-pods=200"},
                      "agentConfig": {"kubelet-arg": ["image-gc-high-threshold=80"]}})
    server, agent = render(FIRST, extra), render(WORKER, extra)
    assert server["etcd-snapshot-retention"] == 10
    assert server["kubelet-arg"] == ["cloud-provider=external", "max-pods=200"]
    assert agent["kubelet-arg"] == ["cloud-provider=external", "image-gc-high-threshold=80"]
    assert "etcd-snapshot-retention" not in agent


def test_tls_sans_are_deduplicated_and_only_on_servers() -> None:
    config = render(FIRST, tls_sans=["10.0.0.5", "10.0.1.1", "10.0.0.5", "198.18.0.7"])
    assert config["tls-san"] == ["10.0.0.5", "10.0.1.1", "198.18.0.7"]


def test_hardening_adds_the_cis_flags_from_the_k3s_guide() -> None:
    hardened = spec(k3s={"hardening": {"enabled": True, "streamingConnectionIdleTimeout": "4m"}})
    server, agent = render(FIRST, hardened), render(WORKER, hardened)
    assert server["secrets-encryption"] is True and server["protect-kernel-defaults"] is True
    assert agent["protect-kernel-defaults"] is True
    assert "streaming-connection-idle-timeout=4m" in agent["kubelet-arg"]
    assert server["kube-apiserver-arg"] == [
        f"admission-control-config-file={paths.PSA_CONFIG_FILE}",
        f"audit-log-path={paths.AUDIT_LOG_FILE}", f"audit-policy-file={paths.AUDIT_POLICY_FILE}",
        "audit-log-maxage=30", "audit-log-maxbackup=10", "audit-log-maxsize=100"]
    assert not {"secrets-encryption", "protect-kernel-defaults", "kube-apiserver-arg"} & set(
        render(FIRST))


def test_config_yaml_is_yaml_of_the_mapping_with_the_mode_quoted() -> None:
    config = render(FIRST, tls_sans=["10.0.0.5"])
    text = k3s_config.config_yaml(config)
    assert yaml.safe_load(text) == config
    assert "write-kubeconfig-mode: '0600'" in text


# -- registries.yaml and CIS files -------------------------------------------------------------

def test_registries_keep_user_mirrors_and_add_embedded_mirror_entries() -> None:
    k3s = spec(k3s={"embeddedRegistryMirror": {"enabled": True, "registries": ["docker.io", "quay.io"]},
                    "registries": {"mirrors": {"docker.io": {"endpoint": ["https://mirror.example"]}},
                                   "configs": {"mirror.example": {"tls": {"insecure_skip_verify": True}}}}}).k3s
    assert render_registries(k3s) == {
        "mirrors": {"docker.io": {"endpoint": ["https://mirror.example"]}, "quay.io": {}},
        "configs": {"mirror.example": {"tls": {"insecure_skip_verify": True}}}}


def test_registries_are_empty_without_mirrors() -> None:
    assert render_registries(spec().k3s) == {}


def test_pod_security_admission_exempts_kube_system_at_the_chosen_level() -> None:
    document = hardening.pod_security_admission("baseline")
    configuration = document["plugins"][0]["configuration"]
    assert configuration["defaults"]["enforce"] == "baseline"
    assert configuration["exemptions"]["namespaces"] == ["kube-system"]


def test_hardening_files_per_role() -> None:
    on = spec(k3s={"hardening": {"enabled": True}}).k3s.hardening
    no_audit = spec(k3s={"hardening": {"enabled": True, "auditLog": False}}).k3s.hardening
    assert [f.path for f in hardening.node_files(on, "server")] == [
        paths.SYSCTL_FILE, paths.PSA_CONFIG_FILE, paths.AUDIT_POLICY_FILE]
    assert [f.path for f in hardening.node_files(on, "agent")] == [paths.SYSCTL_FILE]
    assert paths.AUDIT_POLICY_FILE not in [f.path for f in hardening.node_files(no_audit, "server")]
    assert not any("audit" in arg for arg in hardening.apiserver_args(no_audit))
    assert hardening.node_files(spec().k3s.hardening, "server") == []
    assert hardening.sysctl_conf() == ("vm.panic_on_oom = 0\nvm.overcommit_memory = 1\n"
                                       "kernel.panic = 10\nkernel.panic_on_oops = 1\n")


# -- kubeconfig ----------------------------------------------------------------------------------

K3S_YAML = """apiVersion: v1
clusters:
- cluster: {certificate-authority-data: Q0E=, server: 'https://127.0.0.1:6443'}
  name: default
contexts:
- context: {cluster: default, user: default}
  name: default
current-context: default
kind: Config
users:
- name: default
  user: {client-certificate-data: Q0VSVA==, client-key-data: S0VZ}
"""


@pytest.mark.parametrize(("text", "message"), [
    ("", "is empty; refusing to save an empty kubeconfig"),
    ("  \n", "is empty; refusing to save an empty kubeconfig"),
    ("clusters: [", "is not YAML"),
    ("apiVersion: v1\nclusters: []\n", "has no cluster CA or user"),
    (K3S_YAML.replace("S0VZ", "''"), "has empty credentials"),
])
def test_unusable_admin_kubeconfigs_are_refused_loudly(text: str, message: str) -> None:
    with pytest.raises(KubeconfigError) as caught:
        parse_admin_kubeconfig(text, source="dev-cp-1")
    assert message in str(caught.value)
    assert "on dev-cp-1" in str(caught.value) and "Fix:" in str(caught.value)


def test_the_load_balancer_kubeconfig_has_one_context() -> None:
    credentials = parse_admin_kubeconfig(K3S_YAML, "dev-cp-1")
    document = yaml.safe_load(render_kubeconfig(credentials, "prod", [ApiServer("prod", "10.4.0.254")]))
    assert [c["cluster"]["server"] for c in document["clusters"]] == ["https://10.4.0.254:6443"]
    assert document["current-context"] == "prod"
    assert document["users"] == [{"name": "prod-admin", "user": {
        "client-certificate-data": "Q0VSVA==", "client-key-data": "S0VZ"}}]


def test_without_a_load_balancer_every_server_gets_a_context_and_the_first_is_current() -> None:
    credentials = AdminCredentials("Q0E=", {"token": "t"})
    servers = [ApiServer("web-cp-1", "198.18.0.1"), ApiServer("web-cp-2", "198.18.0.2"),
               ApiServer("web-cp-3", "198.18.0.3")]
    document = yaml.safe_load(render_kubeconfig(credentials, "web", servers))
    assert [c["name"] for c in document["contexts"]] == ["web-cp-1", "web-cp-2", "web-cp-3"]
    assert document["current-context"] == "web-cp-1"
    assert {c["cluster"]["certificate-authority-data"] for c in document["clusters"]} == {"Q0E="}
    assert document["clusters"][2]["cluster"]["server"] == "https://198.18.0.3:6443"


# -- tokens, bundles, command lines ---------------------------------------------------------------

def test_joiners_get_the_secure_token_format() -> None:
    ca = hashlib.sha256(b"ca").hexdigest()
    assert secure_token(ca + "\n", "server", "pw") == f"K10{ca}::server:pw"
    assert secure_token(ca, "agent", "pw") == f"K10{ca}::node:pw"
    with pytest.raises(CaHashError, match="not a SHA-256 hex digest"):
        secure_token("", "agent", "pw")


def test_file_bundles_round_trip_and_keep_secrets_out() -> None:
    text = encode_file_bundle([NodeFile(paths.CONFIG_FILE, "a: 1\n"),
                               NodeFile(paths.SYSCTL_FILE, "k = 1\n", mode="0644")],
                              [StagedFile(paths.CLUSTER_TOKEN_FILE, "cluster-token")])
    entries = decode_file_bundle(text)
    assert entries[paths.CONFIG_FILE].content == "a: 1\n"
    assert entries[paths.SYSCTL_FILE].mode == "0644"
    assert entries[paths.CLUSTER_TOKEN_FILE].content is None
    assert entries[paths.CLUSTER_TOKEN_FILE].staged_name == "cluster-token"


@pytest.mark.parametrize("files", [
    [NodeFile("/etc/passwd", "x")],
    [NodeFile("/etc/rancher/k3s/../../etc/passwd", "x")],
    [NodeFile(paths.CONFIG_FILE, "x", mode="600")],
    [NodeFile(paths.CONFIG_FILE, "x"), NodeFile(paths.CONFIG_FILE, "y")],
])
def test_file_bundles_refuse_what_the_node_script_would_refuse(files: list[NodeFile]) -> None:
    with pytest.raises(ValueError):
        encode_file_bundle(files)


def test_command_lines_only_take_plain_upper_case_inputs() -> None:
    with pytest.raises(TypeError):
        remote_script("await-node.sh", {"node_name": "x"})
    with pytest.raises(TypeError):
        remote_script("await-node.sh", {"NODE_NAME": object()})  # e.g. an Output


def test_command_lines_survive_the_login_shell(tmp_path: Path) -> None:
    node = FakeNode.create(tmp_path)
    awkward = "/etc/it's a \"ca\" $HOME.crt"
    ca = node.file(awkward)
    ca.parent.mkdir(parents=True)
    ca.write_text("pem")
    line = remote_script("read-ca-hash.sh", {"SERVER_CA_FILE": awkward})
    assert line.startswith("env SERVER_CA_FILE=") and line.endswith(" read-ca-hash.sh")
    result = node.run_command_line(line)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == hashlib.sha256(b"pem").hexdigest()
    assert remote_script("read-ca-hash.sh", {"SERVER_CA_FILE": "/x"}, sudo=True).startswith(
        "sudo -n env SERVER_CA_FILE=/x bash -c ")
