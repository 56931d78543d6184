"""deploy/runner/install-*.sh, run for real against stand-in system commands.

The script runs under bash with a PATH of small shims for the commands that would change this
machine (apt-get, useradd, chown, curl, setpriv, systemctl...): each shim logs its arguments.
Everything it writes goes under RUNNER_ROOT. What is checked: the token is read from stdin and
reaches config.sh only through its environment (never an argument, never a file); the release is
installed only when its SHA-256 matches; a second run keeps the installed release and the
registration; the units are written with the hardening and the loopback-only API forward.
"""

from __future__ import annotations

import hashlib
import io
import os
import platform
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.helpers import PROJECT_DIR
from tests.sentinels import AGENT_POOL_TOKEN, RUNNER_REGISTRATION_TOKEN

SCRIPT = PROJECT_DIR / "deploy" / "runner" / "install-github-runner.sh"
AGENT_SCRIPT = PROJECT_DIR / "deploy" / "runner" / "install-pulumi-agent.sh"
VERSION = "2.329.0"
AGENT_VERSION = "1.4.1"

SHIMS = {
    "apt-get": "",
    "useradd": "",
    "id": "exit 1",  # the runner user does not exist yet
    "chown": "",
    "systemctl": "",
    # install -d [-o U -g G -m MODE] DIR...: make the directories, ignore owner and mode.
    "install": 'while [ $# -gt 0 ]; do case "$1" in -d) ;; -o|-g|-m) shift ;; '
               '*) mkdir -p "$1" ;; esac; shift; done',
    "usermod": "",
    # curl ... -o FILE URL: the release tarball (or its checksums.txt) the test built.
    "curl": 'out=""; url=""; while [ $# -gt 0 ]; do [ "$1" = -o ] && out="$2"; url="$1"; shift; '
            'done; case "$url" in *checksums.txt) cp "$FAKE_CHECKSUMS" "$out" ;; '
            '*) cp "$FAKE_TARBALL" "$out" ;; esac',
    # setpriv ... -- ./config.sh ...: record whether the token came by environment, then
    # register as config.sh would (it writes .runner).
    "setpriv": 'if [ -n "${ACTIONS_RUNNER_INPUT_TOKEN:-}" ]; then '
               'printf "token-env %s\\n" "$(printf %s "$ACTIONS_RUNNER_INPUT_TOKEN" '
               '| sha256sum | cut -c1-16)" >> "$SHIM_LOG"; fi; touch .runner',
}


def _release_tarball(directory: Path, name: str = f"actions-runner-linux-x64-{VERSION}.tar.gz",
                     files: tuple[tuple[str, str], ...] = (
                         ("bin/installdependencies.sh", "#!/bin/sh\nexit 0\n"),
                         ("config.sh", "#!/bin/sh\nexit 0\n"), ("run.sh", "#!/bin/sh\n"))
                     ) -> Path:
    path = directory / name
    with tarfile.open(path, "w:gz") as archive:
        for name, text in files:
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            archive.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def sandbox(tmp_path: Path) -> dict[str, object]:
    if platform.machine() not in ("x86_64", "aarch64"):
        pytest.skip("the script installs x64 or arm64 runners only")
    bash = shutil.which("bash")
    assert bash is not None
    shims = tmp_path / "shims"
    shims.mkdir()
    log = tmp_path / "shim.log"
    for name, body in SHIMS.items():
        shim = shims / name
        shim.write_text(f'#!/bin/sh\necho "{name} $*" >> "$SHIM_LOG"\n{body}\n')
        shim.chmod(0o755)
    tarball = _release_tarball(tmp_path)
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    root = tmp_path / "root"
    env = {
        "PATH": f"{shims}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "SHIM_LOG": str(log), "FAKE_TARBALL": str(tarball), "RUNNER_ROOT": str(root),
        "REPOSITORY": "example-org/k3s-hcloud", "RUNNER_NAME": "k3s-hcloud-private-ha-bastion",
        "RUNNER_LABELS": "k3s-hcloud-private-ha", "RUNNER_VERSION": VERSION,
        "RUNNER_SHA256_X64": digest, "RUNNER_SHA256_ARM64": digest,
        "API_FORWARD": "10.4.1.2:6443",
    }
    return {"bash": bash, "env": env, "root": root, "log": log}


def run(sandbox, stdin: str, script: Path = SCRIPT, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sandbox["bash"], str(script)], input=stdin, capture_output=True,
                          text=True, env={**sandbox["env"], **env}, timeout=60)


def _all_text(root: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in root.rglob("*") if p.is_file())


def test_installs_registers_and_writes_hardened_units(sandbox) -> None:
    result = run(sandbox, RUNNER_REGISTRATION_TOKEN + "\n")
    assert result.returncode == 0, result.stderr
    root, log = sandbox["root"], sandbox["log"].read_text()
    units = root / "etc" / "systemd" / "system"
    runner_unit = (units / "k3s-hcloud-runner.service").read_text()
    assert "User=k3s-deploy" in runner_unit and "NoNewPrivileges=yes" in runner_unit
    assert "ExecStart=/var/lib/k3s-deploy/actions-runner/run.sh" in runner_unit
    assert "ListenStream=127.0.0.1:6443" in (units / "k3s-hcloud-api-forward.socket").read_text()
    assert "systemd-socket-proxyd 10.4.1.2:6443" in (
        units / "k3s-hcloud-api-forward.service").read_text()
    assert (root / "var/lib/k3s-deploy/actions-runner/.runner").exists()
    # The token went to config.sh by environment, and nowhere else.
    expected = hashlib.sha256(RUNNER_REGISTRATION_TOKEN.encode()).hexdigest()[:16]
    assert f"token-env {expected}" in log
    assert RUNNER_REGISTRATION_TOKEN not in log + result.stdout + result.stderr
    assert RUNNER_REGISTRATION_TOKEN not in _all_text(root)
    assert "--token" not in log
    assert "systemctl enable --now k3s-hcloud-api-forward.socket" in log


def test_a_second_run_keeps_the_release_and_the_registration(sandbox) -> None:
    assert run(sandbox, RUNNER_REGISTRATION_TOKEN + "\n").returncode == 0
    sandbox["log"].write_text("")
    result = run(sandbox, "another-token-that-must-not-be-used\n")
    assert result.returncode == 0, result.stderr
    commands = [line.split(" ", 1)[0] for line in sandbox["log"].read_text().splitlines()]
    assert not {"curl", "token-env", "setpriv"} & set(commands)
    assert "systemctl restart k3s-hcloud-runner.service" in sandbox["log"].read_text()


def test_a_tarball_with_the_wrong_digest_is_not_installed(sandbox) -> None:
    result = run(sandbox, RUNNER_REGISTRATION_TOKEN + "\n", RUNNER_SHA256_X64="0" * 64,
                 RUNNER_SHA256_ARM64="0" * 64)
    assert result.returncode != 0
    runner_dir = sandbox["root"] / "var/lib/k3s-deploy/actions-runner"
    assert not (runner_dir / "config.sh").exists() and not (runner_dir / ".runner").exists()
    assert "setpriv" not in sandbox["log"].read_text()


def test_no_token_on_stdin_installs_nothing(sandbox) -> None:
    result = run(sandbox, "")
    assert result.returncode == 1 and "no registration token on stdin" in result.stderr
    assert not sandbox["log"].exists() or "curl " not in sandbox["log"].read_text()


def _unit_problems(unit: Path) -> list[str]:
    # `systemd-analyze verify` also complains about this machine (no systemd running, binaries
    # absent); only what it says about the file's own keys and values counts here.
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    result = subprocess.run([analyze, "verify", "--man=no", str(unit)], capture_output=True,
                            text=True, timeout=60)
    return [line for line in (result.stdout + result.stderr).splitlines()
            if line.startswith(str(unit)) or "Failed to parse" in line]


def test_the_written_units_pass_systemd_analyze(sandbox, tmp_path: Path) -> None:
    assert run(sandbox, RUNNER_REGISTRATION_TOKEN + "\n").returncode == 0
    units = sorted((sandbox["root"] / "etc" / "systemd" / "system").iterdir())
    assert [u.name for u in units] == ["k3s-hcloud-api-forward.service",
                                       "k3s-hcloud-api-forward.socket",
                                       "k3s-hcloud-runner.service"]
    for unit in units:
        assert _unit_problems(unit) == [], unit.name
    # The check can fail: a misspelt hardening directive is reported.
    broken = tmp_path / "broken.service"
    broken.write_text(units[2].read_text().replace("NoNewPrivileges=", "NoNewPrivilege="))
    assert any("Unknown key" in line for line in _unit_problems(broken))


# ---- the Pulumi deployment agent ------------------------------------------------------------

@pytest.fixture
def agent_sandbox(sandbox, tmp_path: Path) -> dict[str, object]:
    arch = "x64" if platform.machine() == "x86_64" else "arm64"
    name = f"customer-managed-deployment-agent-v{AGENT_VERSION}-linux-{arch}.tar.gz"
    wrapper = "customer-managed-deployment-agent"
    tarball = _release_tarball(tmp_path, name, (
        (f"{wrapper}/customer-managed-deployment-agent", "#!/bin/sh\n"),
        (f"{wrapper}/workflow-runner-embeddable", "#!/bin/sh\n"),
        (f"{wrapper}/pulumi-deployment-agent.yaml.sample", "token: REPLACE_WITH_TOKEN\n")))
    checksums = tmp_path / "checksums.txt"
    checksums.write_text(f"{'1' * 64}  other.tar.gz\n"
                         f"{hashlib.sha256(tarball.read_bytes()).hexdigest()}  {name}\n")
    root = tmp_path / "agent-root"
    env = {**sandbox["env"], "FAKE_TARBALL": str(tarball), "FAKE_CHECKSUMS": str(checksums),
           "AGENT_ROOT": str(root), "AGENT_VERSION": AGENT_VERSION}
    return {**sandbox, "env": env, "root": root}


def test_agent_token_lands_only_in_its_0600_config_file(agent_sandbox) -> None:
    result = run(agent_sandbox, AGENT_POOL_TOKEN + "\n", AGENT_SCRIPT)
    assert result.returncode == 0, result.stderr
    root = agent_sandbox["root"]
    config = root / "var/lib/k3s-deploy-agent/customer-managed-deployment-agent" \
        / "pulumi-deployment-agent.yaml"
    assert config.read_text().splitlines()[0] == f'token: "{AGENT_POOL_TOKEN}"'
    assert config.stat().st_mode & 0o777 == 0o600
    log = agent_sandbox["log"].read_text()
    assert AGENT_POOL_TOKEN not in log + result.stdout + result.stderr
    unit = (root / "etc/systemd/system/k3s-hcloud-deployment-agent.service").read_text()
    assert "User=k3s-deploy-agent" in unit and AGENT_POOL_TOKEN not in unit
    assert ("ExecStart=/var/lib/k3s-deploy-agent/customer-managed-deployment-agent/"
            "customer-managed-deployment-agent run") in unit
    assert "usermod -aG docker k3s-deploy-agent" in log
    assert _unit_problems(root / "etc/systemd/system/k3s-hcloud-deployment-agent.service") == []


def test_agent_release_is_checked_against_its_checksums_file(agent_sandbox, tmp_path) -> None:
    assert run(agent_sandbox, AGENT_POOL_TOKEN + "\n", AGENT_SCRIPT).returncode == 0
    wrong = tmp_path / "wrong-checksums.txt"
    wrong.write_text(Path(agent_sandbox["env"]["FAKE_CHECKSUMS"]).read_text().replace(
        hashlib.sha256(Path(agent_sandbox["env"]["FAKE_TARBALL"]).read_bytes()).hexdigest(),
        "0" * 64))
    fresh = tmp_path / "fresh-root"
    result = run(agent_sandbox, AGENT_POOL_TOKEN + "\n", AGENT_SCRIPT,
                 FAKE_CHECKSUMS=str(wrong), AGENT_ROOT=str(fresh))
    assert result.returncode != 0
    assert not (fresh / "var/lib/k3s-deploy-agent/customer-managed-deployment-agent").exists()


def test_agent_refuses_a_token_that_could_break_out_of_its_yaml(agent_sandbox) -> None:
    result = run(agent_sandbox, 'abc"\nservice_url: https://evil.example\n', AGENT_SCRIPT)
    assert result.returncode == 1 and "unexpected characters" in result.stderr
