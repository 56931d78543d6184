"""The user data that joins the autoscaler's nodes: same k3s setup as Pulumi's agents, agent token
only, CA pinned, sshd hardened, valid for cloud-init, and the node-ip script it runs."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.bootstrap import bundle, k3s_config, node_files, paths
from components.bootstrap.join_user_data import (
    APPLY_SCRIPT,
    FILE_BUNDLE,
    LOCK_ROOT_PASSWORD,
    NODE_IP_DROPIN,
    NODE_IP_SCRIPT,
    STAGED_SECRETS,
    join_user_data,
)
from components.bootstrap.remote_script import SCRIPTS_DIR
from components.infrastructure import cloud_init
from components.infrastructure.cloud_init import PrivateEgress
from stack_config import ClusterSpec, validate_cluster_spec
from tests.sentinels import AGENT_TOKEN, CLUSTER_TOKEN
from tests.test_cloud_init import executable

JOIN = "https://10.0.1.11:6443"
CA_HASH = "ab" * 32
TOKEN = f"K10{CA_HASH}::node:{AGENT_TOKEN}"
EGRESS = PrivateEgress("10.0.0.1", ("185.12.64.1", "185.12.64.2"))
POOL = {"name": "batch", "serverType": "cax21", "labels": {"node.kubernetes.io/pool": "batch"},
        "taints": [{"key": "workload", "value": "batch", "effect": "NoSchedule"}],
        "autoscaling": {"min": 0, "max": 4}}


def spec(**overrides: Any) -> ClusterSpec:
    return validate_cluster_spec({"clusterName": "dev", "workerPools": [POOL], **overrides})


HARDENED = spec(k3s={"hardening": {"enabled": True}, "embeddedRegistryMirror": {"enabled": True},
                     "registries": {"mirrors": {"docker.io": {
                         "endpoint": ["https://mirror.example"]}}}})
VARIANTS = {
    "public": join_user_data(spec(), spec().worker_pools[0], join_url=JOIN, agent_token=TOKEN,
                             egress=None),
    "private-hardened": join_user_data(HARDENED, HARDENED.worker_pools[0], join_url=JOIN,
                                       agent_token=TOKEN, egress=EGRESS),
}


def config(variant: str) -> dict[str, Any]:
    text = VARIANTS[variant]
    assert text.startswith("#cloud-config\n")
    return yaml.safe_load(text)


def written(variant: str) -> dict[str, dict[str, str]]:
    return {f["path"]: f for f in config(variant)["write_files"]}


def bundled(variant: str) -> dict[str, bundle.BundleEntry]:
    return bundle.decode_file_bundle(written(variant)[FILE_BUNDLE]["content"])


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_cloud_init_schema_accepts_the_join_data(variant: str, tmp_path: Path) -> None:
    path = tmp_path / f"{variant}.yaml"
    path.write_text(VARIANTS[variant])
    result = subprocess.run([executable("cloud-init"), "schema", "--config-file", str(path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Valid cloud-config" in result.stdout


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_node_gets_the_agent_token_pinned_to_the_cluster_ca_and_never_the_server_token(
        variant: str) -> None:
    files = written(variant)
    staged = files[f"{STAGED_SECRETS}/{node_files.AGENT_TOKEN.name}"]
    assert staged["content"] == TOKEN and staged["permissions"] == "0600"
    assert CLUSTER_TOKEN not in VARIANTS[variant]
    entries = bundled(variant)
    assert entries[paths.AGENT_TOKEN_FILE].staged_name == node_files.AGENT_TOKEN.name
    assert paths.CLUSTER_TOKEN_FILE not in entries
    k3s = yaml.safe_load(entries[paths.CONFIG_FILE].content)
    assert k3s["token-file"] == paths.AGENT_TOKEN_FILE and k3s["server"] == JOIN
    assert "agent-token-file" not in k3s and "cluster-init" not in k3s


def test_a_bare_token_without_the_ca_hash_is_refused() -> None:
    with pytest.raises(ValueError, match="K10<CA hash>::"):
        join_user_data(spec(), spec().worker_pools[0], join_url=JOIN, agent_token=AGENT_TOKEN,
                       egress=None)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_k3s_config_is_a_pulumi_agents_config_minus_name_and_address(variant: str) -> None:
    the_spec = spec() if variant == "public" else HARDENED
    pool = the_spec.worker_pools[0]
    pulumi_agent = k3s_config.render_config(the_spec, k3s_config.NodePlace(
        "dev-batch-1", "agent", "10.0.9.1", labels=pool.labels,
        taints=[t.k3s_text() for t in pool.taints]), join_url=JOIN)
    entries = bundled(variant)
    joined = yaml.safe_load(entries[paths.CONFIG_FILE].content)
    registration = yaml.safe_load(entries[paths.REGISTRATION_DROPIN].content)
    assert joined == {k: v for k, v in k3s_config.restart_config(pulumi_agent).items()
                      if k not in ("node-name", "node-ip")}
    assert registration == k3s_config.registration_config(pulumi_agent) == {
        "node-label": ["node.kubernetes.io/pool=batch"],
        "node-taint": ["workload=batch:NoSchedule"]}


def test_registries_and_hardening_files_are_the_ssh_bootstraps_files() -> None:
    entries = bundled("private-hardened")
    expected = node_files.plain_files(HARDENED, "agent")
    assert {f.path: f.content for f in expected} == {
        path: entries[path].content for path in (f.path for f in expected)}
    assert paths.SYSCTL_FILE in entries  # hardening on: kubelet's kernel settings
    registries = yaml.safe_load(entries[paths.REGISTRIES_FILE].content)
    assert registries["mirrors"]["docker.io"] == {"endpoint": ["https://mirror.example"]}
    assert "protect-kernel-defaults" in yaml.safe_load(entries[paths.CONFIG_FILE].content)


def test_k3s_is_installed_by_the_bootstraps_own_script_at_the_pinned_version() -> None:
    files = written("public")
    assert files[APPLY_SCRIPT]["content"] == (SCRIPTS_DIR / "apply-k3s.sh").read_text()
    apply = config("public")["runcmd"][-1]
    assert f"K3S_VERSION={spec().k3s.version}" in apply and "K3S_ROLE=agent" in apply
    assert "K3S_SERVICE=k3s-agent" in apply
    assert apply[-2:] == [APPLY_SCRIPT, FILE_BUNDLE]


def test_node_ip_is_written_before_k3s_starts_from_the_network_range() -> None:
    runcmd = config("public")["runcmd"]
    node_ip = next(i for i, cmd in enumerate(runcmd) if NODE_IP_SCRIPT in cmd)
    assert node_ip < len(runcmd) - 1  # before apply-k3s
    assert "NETWORK_CIDR=10.0.0.0/16" in runcmd[node_ip]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_sshd_is_hardened_and_root_has_no_usable_password(variant: str) -> None:
    data = config(variant)
    assert data["ssh_pwauth"] is False and data["ssh_deletekeys"] is True
    assert "ssh_keys" not in data  # every autoscaled server generates its own host keys
    sshd = written(variant)[cloud_init.SSHD_DROP_IN]["content"]
    assert "PasswordAuthentication no" in sshd and "PermitRootLogin prohibit-password" in sshd
    assert LOCK_ROOT_PASSWORD in data["runcmd"]


def test_private_mode_nodes_route_through_the_gateway_and_use_hetzners_resolvers() -> None:
    files = written("private-hardened")
    assert files[cloud_init.EGRESS_ENV]["content"].endswith("NETWORK_GATEWAY=10.0.0.1\n")
    assert "DNS=185.12.64.1 185.12.64.2" in files[cloud_init.RESOLVED_DROP_IN]["content"]
    runcmd = config("private-hardened")["runcmd"]
    route = runcmd.index(["systemctl", "enable", "--now", cloud_init.DEFAULT_ROUTE_SERVICE])
    assert route < len(runcmd) - 1  # the route exists before k3s is downloaded
    assert cloud_init.EGRESS_ENV not in written("public")


def test_ubuntu_nodes_get_the_networkd_drop_in_cilium_needs() -> None:
    assert cloud_init.NETWORKD_DROP_IN in written("public")


# -- write-node-ip.sh --------------------------------------------------------------------------

SCRIPT = SCRIPTS_DIR / "write-node-ip.sh"


def test_node_ip_script_is_shellcheck_clean() -> None:
    result = subprocess.run([executable("shellcheck"), "-S", "style", str(SCRIPT)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout


def run_node_ip(tmp_path: Path, addresses: list[str], attempts: int = 2) -> tuple[
        subprocess.CompletedProcess, Path]:
    fake = tmp_path / "bin"
    fake.mkdir()
    ip = fake / "ip"
    lines = "".join(f"echo '{i}: eth{i}    inet {a} brd x scope global eth{i}'\n"
                    for i, a in enumerate(addresses))
    ip.write_text(f"#!/usr/bin/env bash\n{lines}")
    ip.chmod(ip.stat().st_mode | stat.S_IEXEC)
    dropin = tmp_path / "etc" / "config.yaml.d" / Path(NODE_IP_DROPIN).name
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", "NETWORK_CIDR": "10.0.0.0/16",
           "NODE_IP_DROPIN": str(dropin), "ADDRESS_ATTEMPTS": str(attempts),
           "ADDRESS_RETRY_SECONDS": "0"}
    result = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True,
                            timeout=60)
    return result, dropin


def test_node_ip_script_picks_the_address_inside_the_network(tmp_path: Path) -> None:
    result, dropin = run_node_ip(tmp_path, ["198.51.100.7/32", "10.42.3.1/32", "10.0.0.5/32"])
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(dropin.read_text()) == {"node-ip": "10.0.0.5"}


def test_node_ip_script_fails_loudly_without_a_private_address(tmp_path: Path) -> None:
    result, dropin = run_node_ip(tmp_path, ["198.51.100.7/32", "10.1.0.5/32"])
    assert result.returncode == 1
    assert "no address in 10.0.0.0/16" in result.stderr and not dropin.exists()


def test_secret_k3s_settings_reach_autoscaled_nodes_staged_like_on_pulumis_agents() -> None:
    # With part of `k3s` set --secret, the SSH bootstrap keeps the user's agentConfig and
    # registries.yaml out of config.yaml and stages them; the join data does the same.
    secret = validate_cluster_spec(
        {"clusterName": "dev", "workerPools": [POOL],
         "k3s": {"agentConfig": {"kubelet-arg": ["max-pods=50"]},
                 "registries": {"mirrors": {"docker.io": {"endpoint": ["https://m.example"]}}}}},
        secret_keys=frozenset({"k3s"}))
    text = join_user_data(secret, secret.worker_pools[0], join_url=JOIN, agent_token=TOKEN,
                          egress=None)
    files = {f["path"]: f for f in yaml.safe_load(text)["write_files"]}
    entries = bundle.decode_file_bundle(files[FILE_BUNDLE]["content"])
    staged = node_files.user_secret_files(secret, "agent")
    assert set(staged) == {node_files.USER_DROPIN, node_files.REGISTRIES}
    for item, content in staged.items():
        assert entries[item.path].staged_name == item.name
        assert files[f"{STAGED_SECRETS}/{item.name}"]["content"] == content
    assert "max-pods=50" in staged[node_files.USER_DROPIN]
    assert "max-pods=50" not in entries[paths.CONFIG_FILE].content
