"""`plan.py --out`: every server's cloud-init is written for real validators, secrets redacted."""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from pulumi.runtime import rpc

from tests.helpers import plan_example
from tools.lib.engine import Plan, is_secret
from tools.lib.machine_files import REDACTED, redact_cloud_config, write_machine_files

SERVER = "hcloud:index/server:Server"


@pytest.fixture(scope="module")
def private() -> Plan:
    return plan_example("private-ha")


def servers(plan: Plan) -> list:
    return plan.by_type(SERVER)



def test_plan_out_writes_every_servers_cloud_init_with_secrets_redacted(
        private: Plan, tmp_path: Path) -> None:
    written = write_machine_files(private, tmp_path)
    cloud_init_files = sorted(p.name for p in written if p.parent.name == "cloud-init")
    assert cloud_init_files == sorted(f"{s.name}.yaml" for s in servers(private))
    assert not (tmp_path / "SKIPPED-SECRETS.txt").exists()
    for path in written:
        text = path.read_text()
        assert "PRIVATE KEY" not in text
        assert "offline-placeholder-secret" not in text
    bastion = yaml.safe_load((tmp_path / "cloud-init" / "prod-bastion.yaml").read_text())
    assert bastion["ssh_keys"]["ed25519_private"] == "[redacted: secret]"
    assert bastion["ssh_keys"]["ed25519_public"].startswith("ssh-ed25519 ")


def test_redacted_cloud_init_still_passes_cloud_init_schema(private: Plan, tmp_path: Path) -> None:
    binary = shutil.which("cloud-init")
    if binary is None:
        pytest.skip("`cloud-init` is not installed (CI installs Debian's; see .ci/run)")
    write_machine_files(private, tmp_path)
    for name in ("prod-bastion", "prod-cp-1", "prod-arm-1"):
        result = subprocess.run([binary, "schema", "--config-file",
                                 str(tmp_path / "cloud-init" / f"{name}.yaml")],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr


def test_a_secret_that_survives_redaction_is_never_written(private: Plan, tmp_path: Path) -> None:
    plan = copy.deepcopy(private)
    server = plan.get(SERVER, "prod-cp-1")
    leaky = server.plain_inputs()["userData"] + "bootcmd:\n- echo hunter2-super-secret\n"
    server.inputs["userData"] = rpc.wrap_rpc_secret(leaky)
    plan.get("pulumi:providers:hcloud", "prod-hcloud").inputs["token"] = \
        rpc.wrap_rpc_secret("hunter2-super-secret")
    write_machine_files(plan, tmp_path)
    assert not (tmp_path / "cloud-init" / "prod-cp-1.yaml").exists()
    assert "prod-cp-1.yaml" in (tmp_path / "SKIPPED-SECRETS.txt").read_text()
    assert is_secret(server.inputs["userData"])


def test_redaction_replaces_private_keys_and_passwords_wherever_they_sit() -> None:
    text = ("#cloud-config\nssh_keys:\n  rsa_private: KEY\n  rsa_public: PUB\n"
            "users:\n- name: x\n  passwd: HASH\n")
    redacted = yaml.safe_load(redact_cloud_config(text))
    assert redacted["ssh_keys"] == {"rsa_private": REDACTED, "rsa_public": "PUB"}
    assert redacted["users"][0]["passwd"] == REDACTED


def test_user_data_that_is_not_cloud_config_is_not_redacted(private: Plan, tmp_path: Path) -> None:
    plan = copy.deepcopy(private)
    plan.get(SERVER, "prod-cp-2").inputs["userData"] = rpc.wrap_rpc_secret("#!/bin/sh\necho hi\n")
    write_machine_files(plan, tmp_path)
    assert not (tmp_path / "cloud-init" / "prod-cp-2.yaml").exists()
    assert "prod-cp-2.yaml" in (tmp_path / "SKIPPED-SECRETS.txt").read_text()
