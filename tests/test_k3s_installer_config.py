"""``k3s.install``: errors that name the key, the pin per k3s release, and one installer
environment for both paths that install k3s (the SSH bootstrap and the autoscaler's user data)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from components.bootstrap import installer
from components.bootstrap.join_user_data import join_user_data
from stack_config import validate_cluster_spec
from tests.helpers import (
    EXAMPLE_STACKS,
    config_problems,
    example_config,
    minimal_config,
    plan_config,
)
from upstream import k3s_installer
from upstream.k3s import DEFAULT_VERSION

DIGEST = "0123456789abcdef" * 4
UNPINNED = "v1.35.2+k3s1"


def problems(install: dict[str, Any], **k3s: Any) -> list[str]:
    return config_problems(minimal_config(k3s={"install": install, **k3s}))


@pytest.mark.parametrize(("install", "expected"), [
    ({"source": "mirror"}, "k3s.install.scriptUrl: is required with source: mirror"),
    ({"source": "mirror", "scriptUrl": "http://mirror.example/install.sh"},
     "k3s.install.scriptUrl: 'http://mirror.example/install.sh' is plain http"),
    ({"source": "mirror", "scriptUrl": "https://u:p@mirror.example/install.sh"},
     "k3s.install.scriptUrl: carries credentials"),
    ({"source": "mirror", "scriptUrl": "mirror.example/install.sh"},
     "k3s.install.scriptUrl: 'mirror.example/install.sh' is not an http(s) URL"),
    ({"source": "mirror", "scriptUrl": "https://m.example/i.sh", "mirror": "cn"},
     "k3s.install.scriptSha256: is required with mirror: only a mirror's own install script"),
    ({"source": "mirror", "scriptUrl": "https://m.example/i.sh", "mirror": "CN!",
      "scriptSha256": DIGEST}, "k3s.install.mirror: is not a mirror name"),
    ({"source": "mirror", "scriptUrl": "https://m.example/i.sh",
      "binaryBaseUrl": "https://m.example/releases"},
     f"k3s.install.binaryBaseUrl: the install script pinned for k3s {DEFAULT_VERSION}"),
    ({"source": "airgap", "scriptPath": "opt/install.sh", "binaryPath": "/opt/k3s",
      "imagesPath": "/opt/images.tar"}, "k3s.install.scriptPath: 'opt/install.sh' is not an "
                                        "absolute path on the node"),
    ({"source": "airgap", "scriptPath": "/opt/install.sh", "binaryPath": "/opt/../etc/k3s",
      "imagesPath": "/opt/images.tar"}, "k3s.install.binaryPath: '/opt/../etc/k3s' is not an "
                                        "absolute path"),
    ({"source": "airgap", "scriptPath": "/opt/install.sh", "binaryPath": "/opt/k3s"},
     "k3s.install.imagesPath: is required with source: airgap"),
    ({"scriptUrl": "https://m.example/i.sh"},
     "k3s.install.scriptUrl: is only read with source: mirror (this stack's source is upstream)"),
    ({"source": "mirror", "scriptUrl": "https://m.example/i.sh", "scriptPath": "/opt/i.sh"},
     "k3s.install.scriptPath: is only read with source: airgap"),
    ({"scriptSha256": "ABC"}, "k3s.install.scriptSha256: is not a SHA-256 digest"),
    ({"source": "ftp"}, "k3s.install.source:"),
])
def test_bad_install_settings_name_the_key(install: dict[str, Any], expected: str) -> None:
    found = problems(install)
    assert any(p.startswith(expected) for p in found), found
    assert all("Fix:" in p for p in found if p.startswith("k3s.install.") and
               not p.startswith("k3s.install.source:")), found


def test_http_is_accepted_once_acknowledged() -> None:
    spec = validate_cluster_spec(minimal_config(k3s={"install": {
        "source": "mirror", "scriptUrl": "http://mirror.internal/install.sh",
        "allowInsecureHttp": True}}))
    assert installer.installer_env(spec.k3s)["INSTALL_SCRIPT_URL"] == \
        "http://mirror.internal/install.sh"


def test_every_release_the_example_stacks_use_has_a_pin() -> None:
    versions = {DEFAULT_VERSION} | {
        example_config(stack).get("k3s", {}).get("version", DEFAULT_VERSION)
        for stack in EXAMPLE_STACKS}
    for version in versions:
        pin = k3s_installer.pin_for(version)
        assert pin is not None, version
        assert len(pin.sha256) == 64 and int(pin.sha256, 16) >= 0
        assert len(pin.ref) == 40 or pin.ref == version.replace("+", "%2B")


def test_a_release_without_a_pin_is_refused_unless_a_digest_is_given() -> None:
    assert k3s_installer.pin_for(UNPINNED) is None
    found = problems({}, version=UNPINNED)
    assert found == [f"k3s.install.scriptSha256: k3s {UNPINNED} has no pinned install script "
                     f"(pinned: {', '.join(k3s_installer.pinned_versions())}), so nothing would "
                     "check the script a node runs. Fix: pick a pinned k3s.version, refresh the "
                     "pins (tools/k3s_installer_pins.py, docs/installer.md), or set "
                     "k3s.install.scriptSha256 to the sha256sum of the script you checked."]
    spec = validate_cluster_spec(minimal_config(k3s={"version": UNPINNED,
                                                     "install": {"scriptSha256": DIGEST}}))
    env = installer.installer_env(spec.k3s)
    # That release's own script, its tag's "+" escaped in the URL.
    assert env == {"INSTALL_SOURCE": "upstream", "INSTALL_SCRIPT_SHA256": DIGEST,
                   "INSTALL_SCRIPT_URL": "https://raw.githubusercontent.com/k3s-io/k3s/"
                                         "v1.35.2%2Bk3s1/install.sh"}


def test_a_plan_refuses_an_unpinned_release_with_exit_code_1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tools.plan import main as plan_main

    config = {"k3s-hcloud:clusterName": "dev", "k3s-hcloud:k3s": {"version": UNPINNED}}
    stack_file = tmp_path / "Pulumi.unpinned.yaml"
    stack_file.write_text(yaml.safe_dump({"config": config}))
    assert plan_main(["--stack-file", str(stack_file)]) == 1
    assert f"k3s.install.scriptSha256: k3s {UNPINNED} has no pinned install script" \
        in capsys.readouterr().err


# -- the SSH bootstrap and the autoscaler's user data install the same way ------------------------

MIRROR = {"source": "mirror", "scriptUrl": "https://mirror.example.cn/k3s/k3s-install.sh",
          "mirror": "cn", "mirrorUrl": "https://mirror.example.cn", "scriptSha256": DIGEST}
AIRGAP = {"source": "airgap", "scriptPath": "/opt/k3s/install.sh", "binaryPath": "/opt/k3s/k3s",
          "imagesPath": "/opt/k3s/images.tar.zst", "scriptSha256": DIGEST}
SNAPSHOT = "183273410"  # the ID of a snapshot that stages the air-gapped files
POOL = {"name": "batch", "serverType": "cax21", "autoscaling": {"min": 0, "max": 2}}


def test_air_gapped_nodes_may_not_boot_from_a_public_image() -> None:
    found = config_problems(minimal_config(
        k3s={"install": AIRGAP}, workerPools=[{"name": "a", "image": SNAPSHOT},
                                              {"name": "b", "image": "debian-12"}]))
    assert [p.split(":", 1)[0] for p in found] == ["controlPlane.image", "workerPools[1].image"]
    assert found[0].startswith("controlPlane.image: ubuntu-24.04 is one of Hetzner's public "
                               "images: it has none of the files k3s.install.source: airgap")
    assert all("Fix: build a snapshot" in p for p in found)
    validate_cluster_spec(minimal_config(k3s={"install": AIRGAP},
                                         controlPlane={"image": SNAPSHOT},
                                         workerPools=[{"name": "a", "image": SNAPSHOT}]))


@pytest.mark.parametrize("install", [{}, MIRROR, AIRGAP], ids=["upstream", "mirror", "airgap"])
def test_nodes_and_autoscaled_nodes_get_the_same_installer(tmp_path: Path,
                                                           install: dict[str, Any]) -> None:
    images = {"image": SNAPSHOT} if install is AIRGAP else {}
    raw = {"clusterName": "dev", "workerPools": [POOL | images], "k3s": {"install": install},
           "controlPlane": images}
    spec = validate_cluster_spec(raw)
    expected = installer.installer_env(spec.k3s)
    assert expected["INSTALL_SOURCE"] == install.get("source", "upstream")

    plan = plan_config(tmp_path, {f"k3s-hcloud:{key}": value for key, value in raw.items()})
    commands = [r for r in plan.resources if r.name.endswith("-k3s")
                and r.type == "command:remote:Command"]
    assert commands
    for command in commands:
        create = command.plain_inputs()["create"]
        for name, value in expected.items():
            assert f" {name}={value} " in create, (command.name, name)
    nodes = plan.by_type("k3s-hcloud:bootstrap:K3sNode")
    assert {n.inputs["installerSha256"] for n in nodes} == {expected["INSTALL_SCRIPT_SHA256"]}
    location = expected.get("INSTALL_SCRIPT_URL", expected.get("INSTALL_SCRIPT_PATH"))
    assert {n.inputs["installerUrl"] for n in nodes} == {location}

    token = "K10" + "ab" * 32 + "::node:pw"
    data = yaml.safe_load(join_user_data(spec, spec.worker_pools[0], join_url="https://10.0.1.1:6443",
                                         agent_token=token, egress=None))
    apply = data["runcmd"][-1]
    assert apply[0] == "env"
    join_env = dict(word.split("=", 1) for word in apply[1:] if "=" in word
                    and word.split("=", 1)[0].isupper())
    assert {k: join_env[k] for k in expected} == expected
    assert not set(join_env) & {"INSTALL_SCRIPT_URL", "INSTALL_SCRIPT_PATH", "GITHUB_URL",
                                "INSTALL_K3S_MIRROR", "INSTALL_K3S_MIRROR_URL",
                                "K3S_BINARY_PATH", "K3S_IMAGES_PATH"} - set(expected)
