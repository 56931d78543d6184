"""First-boot user data, checked as data and by the real validators (cloud-init, nft, shellcheck)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from cluster_plan.bastion_admission import ssh_admission
from components.infrastructure import cloud_init
from components.infrastructure.cloud_init import (
    HostKey,
    PrivateEgress,
    bastion_user_data,
    node_user_data,
)

KEY = HostKey("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
              "-----END OPENSSH PRIVATE KEY-----\n", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAtest\n")
EGRESS = PrivateEgress("10.0.0.1", ("185.12.64.1", "185.12.64.2"))


def parsed(text: str) -> dict[str, Any]:
    assert text.startswith("#cloud-config\n")
    return yaml.safe_load(text)


def files(text: str) -> dict[str, str]:
    return {f["path"]: f["content"] for f in parsed(text)["write_files"]}


def directives(content: str) -> dict[str, str]:
    lines = [line for line in content.splitlines() if line and not line.startswith("#")]
    return dict(line.split(" ", 1) for line in lines)


ADMISSION = ssh_admission(99)

VARIANTS = {
    "node-public-ubuntu": node_user_data(KEY, ubuntu=True, egress=None),
    "node-private-ubuntu": node_user_data(KEY, ubuntu=True, egress=EGRESS),
    "node-public-other-image": node_user_data(KEY, ubuntu=False, egress=None),
    "bastion-nat": bastion_user_data(KEY, ubuntu=True, private_network="10.0.0.0/16", nat=True,
                                     admission=ADMISSION),
    "bastion-jump-only": bastion_user_data(KEY, ubuntu=True, private_network="10.0.0.0/16",
                                           nat=False, admission=ADMISSION),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_variant_installs_the_program_host_key_and_no_password_login(variant: str) -> None:
    config = parsed(VARIANTS[variant])
    assert config["ssh_keys"] == {"ed25519_private": KEY.private_openssh,
                                  "ed25519_public": KEY.public_openssh.strip()}
    assert config["ssh_deletekeys"] is True and config["ssh_pwauth"] is False
    sshd = directives(files(VARIANTS[variant])[cloud_init.SSHD_DROP_IN])
    assert sshd["PasswordAuthentication"] == "no"
    assert sshd["KbdInteractiveAuthentication"] == "no"
    assert sshd["PermitRootLogin"] == "prohibit-password"
    assert sshd["HostKey"] == "/etc/ssh/ssh_host_ed25519_key"


def test_sshd_drop_in_sorts_before_cloud_inits_own_drop_in() -> None:
    # sshd keeps the first value it reads; Ubuntu's cloud-init writes 50-cloud-init.conf.
    assert Path(cloud_init.SSHD_DROP_IN).name < "50-cloud-init.conf"


def test_nodes_never_forward_tcp_and_the_bastion_forwards_local_channels_only() -> None:
    node = directives(files(VARIANTS["node-public-ubuntu"])[cloud_init.SSHD_DROP_IN])
    bastion = directives(files(VARIANTS["bastion-nat"])[cloud_init.SSHD_DROP_IN])
    assert node["AllowTcpForwarding"] == "no"
    assert bastion["AllowTcpForwarding"] == "local"
    assert bastion["GatewayPorts"] == "no" and bastion["PermitTunnel"] == "no"


def test_ubuntu_nodes_stop_networkd_from_deleting_cilium_routes() -> None:
    content = files(VARIANTS["node-public-ubuntu"])[cloud_init.NETWORKD_DROP_IN]
    assert "[Network]\nManageForeignRoutes=no\nManageForeignRoutingPolicyRules=no\n" in content
    assert ["systemctl", "try-restart", "systemd-networkd.service"] in \
        parsed(VARIANTS["node-public-ubuntu"])["runcmd"]
    assert cloud_init.NETWORKD_DROP_IN not in files(VARIANTS["node-public-other-image"])


def test_private_nodes_persist_a_default_route_via_the_network_gateway() -> None:
    written = files(VARIANTS["node-private-ubuntu"])
    assert written[cloud_init.EGRESS_ENV].endswith("NETWORK_GATEWAY=10.0.0.1\n")
    assert written[cloud_init.DEFAULT_ROUTE_EXECUTABLE] == cloud_init.DEFAULT_ROUTE_SCRIPT.read_text()
    unit = written[f"/etc/systemd/system/{cloud_init.DEFAULT_ROUTE_SERVICE}"]
    assert "EnvironmentFile=/etc/k3s-hcloud/egress.env" in unit
    assert "WantedBy=multi-user.target" in unit  # enabled: runs at every boot
    assert ["systemctl", "enable", "--now", cloud_init.DEFAULT_ROUTE_SERVICE] in \
        parsed(VARIANTS["node-private-ubuntu"])["runcmd"]
    assert "DNS=185.12.64.1 185.12.64.2" in written[cloud_init.RESOLVED_DROP_IN]


def test_public_nodes_keep_their_own_default_route() -> None:
    assert cloud_init.EGRESS_ENV not in files(VARIANTS["node-public-ubuntu"])


def test_bastion_nat_is_persistent_forwarding_plus_masquerade() -> None:
    written = files(VARIANTS["bastion-nat"])
    assert "net.ipv4.ip_forward = 1" in written[cloud_init.NAT_SYSCTL]
    assert "PRIVATE_NETWORK=10.0.0.0/16" in written[cloud_init.BASTION_ENV]
    ruleset = written[cloud_init.BASTION_RULESET_PATH]
    assert "ip saddr $private_network ip daddr != $private_network masquerade" in ruleset
    # The SSH rate limit, sized for the bootstrap's fan-out (cluster_plan/bastion_admission.py).
    assert (f"limit rate over {ADMISSION.per_minute}/minute burst {ADMISSION.burst} packets"
            in ruleset)
    assert "@SSH_" not in ruleset
    # Deployment containers of a Pulumi Deployments agent on the bastion are forwarded too.
    forward = ruleset.split("chain forward {", 1)[1].split("}", 1)[0]
    assert 'iifname "docker0" accept' in forward
    runcmd = parsed(VARIANTS["bastion-nat"])["runcmd"]
    assert ["systemctl", "enable", "--now", cloud_init.BASTION_FIREWALL_SERVICE] in runcmd


def test_a_jump_only_bastion_does_not_forward() -> None:
    assert cloud_init.NAT_SYSCTL not in files(VARIANTS["bastion-jump-only"])


def test_user_data_over_hetzners_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="Hetzner accepts at most 32768"):
        cloud_init.render({"write_files": [{"path": "/x", "content": "x" * 40_000}]})


def test_config_values_cannot_inject_lines() -> None:
    with pytest.raises(ValueError, match="unexpected characters"):
        node_user_data(KEY, ubuntu=True, egress=PrivateEgress("10.0.0.1\nEVIL=1", ()))


# -- real validators ------------------------------------------------------------------------------

def executable(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip(f"`{name}` is not installed (CI installs it; see .ci/run)")
    return found


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_cloud_init_schema_accepts_the_user_data(variant: str, tmp_path: Path) -> None:
    path = tmp_path / f"{variant}.yaml"
    path.write_text(VARIANTS[variant])
    result = subprocess.run([executable("cloud-init"), "schema", "--config-file", str(path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Valid cloud-config" in result.stdout


def test_nft_accepts_the_bastion_ruleset(tmp_path: Path) -> None:
    ruleset = tmp_path / "bastion.nft"
    ruleset.write_text(files(VARIANTS["bastion-nat"])[cloud_init.BASTION_RULESET_PATH])
    result = subprocess.run([executable("nft"), "-c", "-D", "private_network=10.0.0.0/16",
                             "-f", str(ruleset)],
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0 and "Operation not permitted" in result.stderr:
        pytest.skip("nft needs CAP_NET_ADMIN even to check a ruleset here")
    assert result.returncode == 0, result.stderr


def test_default_route_script_is_shellcheck_clean() -> None:
    result = subprocess.run([executable("shellcheck"), "-S", "style",
                             str(cloud_init.DEFAULT_ROUTE_SCRIPT)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout


def fake_ip(directory: Path, failures: int) -> Path:
    """An `ip` that refuses the route `failures` times (gateway not yet reachable), then accepts."""
    script = directory / "ip"
    script.write_text(
        "#!/usr/bin/env bash\n"
        f'count=$(cat "{directory}/calls" 2>/dev/null || echo 0)\n'
        f'echo $((count + 1)) > "{directory}/calls"\n'
        f'echo "$*" >> "{directory}/args"\n'
        f'if (( count < {failures} )); then echo "Error: Nexthop has invalid gateway." >&2; exit 2; fi\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return directory


def run_route_script(tmp_path: Path, failures: int, attempts: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{fake_ip(tmp_path, failures)}:{os.environ['PATH']}",
           "NETWORK_GATEWAY": "10.0.0.1", "ROUTE_ATTEMPTS": str(attempts),
           "ROUTE_RETRY_SECONDS": "0"}
    return subprocess.run(["bash", str(cloud_init.DEFAULT_ROUTE_SCRIPT)], env=env,
                          capture_output=True, text=True, timeout=60)


def test_default_route_script_retries_until_the_gateway_is_reachable(tmp_path: Path) -> None:
    result = run_route_script(tmp_path, failures=2, attempts=5)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "args").read_text().splitlines()[-1] == "-4 route replace default via 10.0.0.1"
    assert (tmp_path / "calls").read_text().strip() == "3"


def test_default_route_script_fails_loudly_when_the_gateway_never_answers(tmp_path: Path) -> None:
    result = run_route_script(tmp_path, failures=99, attempts=3)
    assert result.returncode == 1
    assert "no route to the network gateway 10.0.0.1 after 3 attempts" in result.stderr
