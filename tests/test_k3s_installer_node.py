"""apply-k3s.sh's installer step on the fake node, for each ``k3s.install`` source.

The environment comes from the program's own renderer (``installer.installer_env``) for a
validated stack, so what is tested is what a node receives; only the digest is swapped for the
fake installer's, since the fake node serves the fake script, not upstream's.
"""

from __future__ import annotations

import hashlib
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.bootstrap import installer, paths
from components.bootstrap.bundle import NodeFile, StagedFile, encode_file_bundle
from components.bootstrap.join_user_data import APPLY_SCRIPT, FILE_BUNDLE, join_user_data
from stack_config import validate_cluster_spec
from tests.fake_node import FakeNode
from tests.helpers import minimal_config
from upstream import k3s_installer
from upstream.k3s import DEFAULT_VERSION

BASE_ENV = {"K3S_ROLE": "server", "K3S_VERSION": DEFAULT_VERSION, "K3S_SERVICE": "k3s",
            "STATE_DIR": paths.STATE_DIR, "HEALTH_ATTEMPTS": "3", "HEALTH_INTERVAL": "0",
            "DOWNLOAD_ATTEMPTS": "2"}
MIRROR_DIGEST = "a" * 64


@pytest.fixture
def node(tmp_path: Path) -> FakeNode:
    node = FakeNode.create(tmp_path)
    result = node.run_script("stage-secrets.sh", "cluster-token dG9rZW4tMQ==\n",
                             STATE_DIR=paths.STATE_DIR)
    assert result.returncode == 0, result.stderr
    return node


def rendered_env(install: dict[str, Any]) -> dict[str, str]:
    # Air-gapped nodes boot from a snapshot that stages the files (a public image is refused).
    image = {"controlPlane": {"image": "183273410"}} if install.get("source") == "airgap" else {}
    spec = validate_cluster_spec(minimal_config(k3s={"install": install}, **image))
    return installer.installer_env(spec.k3s)


def bundle() -> str:
    return encode_file_bundle([NodeFile(paths.CONFIG_FILE, "node-name: cp-1\n")],
                              [StagedFile(paths.CLUSTER_TOKEN_FILE, "cluster-token")])


def apply(node: FakeNode, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return node.run_script("apply-k3s.sh", bundle(), **(BASE_ENV | env))


def tree(root: Path) -> dict[str, bytes]:
    """Every file under the node's root and its bytes (the program's own state dir aside)."""
    state = paths.STATE_DIR.lstrip("/")
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not str(p.relative_to(root)).startswith(state)}


def installer_calls(node: FakeNode) -> list[str]:
    return [c for c in node.calls() if c.startswith(("installer", "curl "))]


# -- upstream ------------------------------------------------------------------------------------

def test_upstream_fetches_the_pinned_ref_and_runs_it_after_the_digest_matched(node: FakeNode) -> None:
    env = rendered_env({})
    pin = k3s_installer.pin_for(DEFAULT_VERSION)
    assert pin is not None
    assert env == {"INSTALL_SOURCE": "upstream", "INSTALL_SCRIPT_SHA256": pin.sha256,
                   "INSTALL_SCRIPT_URL": pin.script_url}
    assert pin.script_url == ("https://raw.githubusercontent.com/k3s-io/k3s/"
                              f"{pin.ref}/install.sh")
    result = apply(node, env | {"INSTALL_SCRIPT_SHA256": node.installer_sha256()})
    assert result.returncode == 0, result.stderr
    calls = installer_calls(node)
    assert calls[0].startswith("curl ") and calls[0].endswith(pin.script_url)
    assert "--proto =https --proto-redir =https " in calls[0], "https only, redirects too"
    assert "installer-source INSTALL_K3S_SKIP_DOWNLOAD=false GITHUB_URL= INSTALL_K3S_MIRROR= " \
           "INSTALL_K3S_MIRROR_URL=" in calls
    assert node.file(paths.CONFIG_FILE).read_text() == "node-name: cp-1\n"


def test_the_pinned_digest_itself_refuses_the_fake_script(node: FakeNode) -> None:
    # The real pin is upstream's digest, so the node's fake script must fail it: the digest the
    # program renders is the one the script checks.
    env = rendered_env({})
    result = apply(node, env)
    assert result.returncode == 1
    assert f"expected {env['INSTALL_SCRIPT_SHA256']}, got {node.installer_sha256()}" \
        in result.stderr


# -- a wrong digest --------------------------------------------------------------------------------

def test_a_wrong_digest_stops_before_anything_on_the_node_changes(node: FakeNode) -> None:
    node.file("/etc/rancher/k3s").mkdir(parents=True)
    node.file(paths.CONFIG_FILE).write_text("node-name: old\n")
    before = tree(node.root)
    served = "#!/bin/sh\necho tampered >>\"$STUB_STATE/calls.log\"\n"
    node.flag("served.sh", served)
    result = apply(node, rendered_env({}) | {"INSTALL_SCRIPT_SHA256": node.installer_sha256()})
    assert result.returncode == 1
    actual = hashlib.sha256(served.encode()).hexdigest()
    assert f"expected {node.installer_sha256()}, got {actual}" in result.stderr
    assert "nothing on this node was changed" in result.stderr
    assert tree(node.root) == before
    calls = node.calls()
    assert not [c for c in calls if c.startswith(("installer", "tampered", "systemctl"))]
    assert not (node.bin / "k3s").exists()


# -- mirror --------------------------------------------------------------------------------------

def test_a_mirror_passes_its_variables_to_the_mirrors_own_script(node: FakeNode) -> None:
    env = rendered_env({"source": "mirror",
                        "scriptUrl": "https://mirror.example.cn/k3s/k3s-install.sh",
                        "mirror": "cn", "mirrorUrl": "https://mirror.example.cn",
                        "scriptSha256": MIRROR_DIGEST})
    assert env == {"INSTALL_SOURCE": "mirror", "INSTALL_SCRIPT_SHA256": MIRROR_DIGEST,
                   "INSTALL_SCRIPT_URL": "https://mirror.example.cn/k3s/k3s-install.sh",
                   "INSTALL_K3S_MIRROR": "cn", "INSTALL_K3S_MIRROR_URL": "https://mirror.example.cn"}
    result = apply(node, env | {"INSTALL_SCRIPT_SHA256": node.installer_sha256()})
    assert result.returncode == 0, result.stderr
    calls = installer_calls(node)
    assert calls[0].endswith("https://mirror.example.cn/k3s/k3s-install.sh")
    assert ("installer-source INSTALL_K3S_SKIP_DOWNLOAD=false GITHUB_URL= INSTALL_K3S_MIRROR=cn "
            "INSTALL_K3S_MIRROR_URL=https://mirror.example.cn") in calls


def test_a_mirror_of_upstreams_script_is_held_to_the_pin(node: FakeNode) -> None:
    env = rendered_env({"source": "mirror", "scriptUrl": "https://artifacts.internal/install.sh"})
    pin = k3s_installer.pin_for(DEFAULT_VERSION)
    assert pin is not None and env["INSTALL_SCRIPT_SHA256"] == pin.sha256
    result = apply(node, env)  # the fake script is not upstream's bytes: refused
    assert result.returncode == 1
    assert "from https://artifacts.internal/install.sh does not have the pinned SHA-256" \
        in result.stderr
    assert not node.file(paths.CONFIG_FILE).exists()


def test_an_acknowledged_http_mirror_may_use_http(node: FakeNode) -> None:
    env = rendered_env({"source": "mirror", "scriptUrl": "http://mirror.internal/install.sh",
                        "allowInsecureHttp": True})
    result = apply(node, env | {"INSTALL_SCRIPT_SHA256": node.installer_sha256()})
    assert result.returncode == 0, result.stderr
    assert "--proto =http,https --proto-redir =http,https " in installer_calls(node)[0]


def test_a_binary_base_url_reaches_a_script_that_reads_it(node: FakeNode) -> None:
    env = rendered_env({"source": "mirror", "scriptUrl": "https://m.example/install.sh",
                        "binaryBaseUrl": "https://m.example/k3s/releases",
                        "scriptSha256": MIRROR_DIGEST})
    result = apply(node, env | {"INSTALL_SCRIPT_SHA256": node.installer_sha256()})
    assert result.returncode == 0, result.stderr
    assert any("GITHUB_URL=https://m.example/k3s/releases " in c for c in node.calls())


# -- airgap --------------------------------------------------------------------------------------

AIRGAP = {"source": "airgap", "scriptPath": "/opt/k3s/install.sh",
          "binaryPath": "/opt/k3s/k3s", "imagesPath": "/opt/k3s/k3s-airgap-images-amd64.tar.zst"}


def stage_airgap_files(node: FakeNode, script: str | None = None) -> None:
    node.file("/opt/k3s").mkdir(parents=True)
    node.file(AIRGAP["scriptPath"]).write_text(script or (node.state / "installer.sh").read_text())
    node.file(AIRGAP["binaryPath"]).write_text(node.k3s_binary(DEFAULT_VERSION))
    node.file(AIRGAP["binaryPath"]).chmod(0o644)
    node.file(AIRGAP["imagesPath"]).write_bytes(b"images tarball")


def test_airgap_places_the_staged_binary_and_images_and_downloads_nothing(node: FakeNode) -> None:
    stage_airgap_files(node)
    env = rendered_env(AIRGAP)
    assert env["INSTALL_SCRIPT_PATH"] == AIRGAP["scriptPath"]
    assert "INSTALL_SCRIPT_URL" not in env
    result = apply(node, env | {"INSTALL_SCRIPT_SHA256": node.installer_sha256()})
    assert result.returncode == 0, result.stderr
    calls = node.calls()
    assert not [c for c in calls if c.startswith("curl ")]
    assert any(c.startswith("installer-source INSTALL_K3S_SKIP_DOWNLOAD=true ") for c in calls)
    binary = node.file(k3s_installer.BINARY_PATH)
    assert binary.read_text() == node.k3s_binary(DEFAULT_VERSION)
    assert oct(binary.stat().st_mode & 0o777) == "0o755"
    images = node.file(f"{k3s_installer.AIRGAP_IMAGES_DIR}/k3s-airgap-images-amd64.tar.zst")
    assert images.read_bytes() == b"images tarball"
    assert result.stdout.startswith(f"applied: k3s {DEFAULT_VERSION}")


def test_airgap_with_a_missing_staged_file_changes_nothing(node: FakeNode) -> None:
    stage_airgap_files(node)
    node.file(AIRGAP["imagesPath"]).unlink()
    before = tree(node.root)
    result = apply(node, rendered_env(AIRGAP) | {"INSTALL_SCRIPT_SHA256": node.installer_sha256()})
    assert result.returncode == 1
    assert f"{AIRGAP['imagesPath']} is not on this node" in result.stderr
    assert tree(node.root) == before


def test_airgap_checks_the_staged_scripts_digest_too(node: FakeNode) -> None:
    stage_airgap_files(node, script="#!/bin/sh\nexit 0\n")
    before = tree(node.root)
    result = apply(node, rendered_env(AIRGAP) | {"INSTALL_SCRIPT_SHA256": node.installer_sha256()})
    assert result.returncode == 1
    actual = hashlib.sha256(b"#!/bin/sh\nexit 0\n").hexdigest()
    assert f"from {AIRGAP['scriptPath']} does not have the pinned SHA-256: expected " \
           f"{node.installer_sha256()}, got {actual}" in result.stderr
    assert tree(node.root) == before
    assert not node.file(k3s_installer.BINARY_PATH).exists()


def test_an_installed_node_of_the_same_version_fetches_nothing(node: FakeNode) -> None:
    node.install_k3s(DEFAULT_VERSION)
    env = rendered_env({}) | {"INSTALL_SCRIPT_SHA256": node.installer_sha256()}
    assert apply(node, env).returncode == 0
    node.reset_calls()
    node.flag("served.sh", "changed upstream\n")  # would fail the digest if it were fetched
    result = apply(node, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("unchanged:")
    assert not installer_calls(node)


# -- the autoscaler's first-boot user data drives the same installer step ------------------------

def test_autoscaled_node_user_data_installs_from_the_air_gapped_files(node: FakeNode) -> None:
    spec = validate_cluster_spec(minimal_config(
        k3s={"install": AIRGAP | {"scriptSha256": node.installer_sha256()}},
        controlPlane={"image": "183273410"},
        workerPools=[{"name": "batch", "image": "183273410",
                      "autoscaling": {"min": 0, "max": 2}}]))
    data = yaml.safe_load(join_user_data(spec, spec.worker_pools[0],
                                         join_url="https://10.0.1.1:6443",
                                         agent_token="K10" + "ab" * 32 + "::node:pw", egress=None))
    # Lay down what cloud-init would write: the script, the bundle and the staged agent token.
    for entry in data["write_files"]:
        if entry["path"] == APPLY_SCRIPT or entry["path"].startswith(paths.STATE_DIR):
            target = node.file(entry["path"])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(entry["content"])
    stage_airgap_files(node)
    apply_command = data["runcmd"][-1]
    assert apply_command[-2:] == [APPLY_SCRIPT, FILE_BUNDLE]
    env = apply_command[1:apply_command.index("sh")]
    line = " ".join(["env", *map(shlex.quote, env), "HEALTH_INTERVAL=0", "bash",
                     shlex.quote(str(node.file(APPLY_SCRIPT))), "<",
                     shlex.quote(str(node.file(FILE_BUNDLE)))])
    result = node.run_command_line(line)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"applied: k3s {DEFAULT_VERSION}")
    calls = node.calls()
    assert not [c for c in calls if c.startswith("curl ")]
    assert any(c.startswith("installer INSTALL_K3S_VERSION=") and "INSTALL_K3S_EXEC=agent" in c
               for c in calls)
    assert node.file(k3s_installer.BINARY_PATH).read_text() == node.k3s_binary(DEFAULT_VERSION)
