"""The `tools/plan.py` contract other checks depend on: output shapes and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import EXAMPLE_STACKS, PROJECT_DIR, example_config, write_stack_file
from tools import plan as plan_cli


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(PROJECT_DIR / "tools" / "plan.py"), *args],
                          capture_output=True, text=True, cwd=PROJECT_DIR, timeout=300)


def test_there_are_a_dev_stack_and_at_least_two_more_examples() -> None:
    assert "dev" in EXAMPLE_STACKS and len(EXAMPLE_STACKS) >= 3


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_every_example_stack_plans_with_exit_0(stack: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert plan_cli.main(["--stack", stack]) == plan_cli.EXIT_OK
    assert f"Stack k3s-hcloud/{stack}:" in capsys.readouterr().out


def test_json_output_has_the_documented_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert plan_cli.main(["--stack", "dev", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert {"stack", "resources", "outputs", "violations"} <= set(document)
    assert document["stack"] == "dev"
    for resource in document["resources"]:
        assert {"urn", "type", "name", "parent", "custom", "inputs", "secretInputs",
                "dependencies", "options"} <= set(resource)


def test_secret_values_are_masked_in_json(capsys: pytest.CaptureFixture[str]) -> None:
    plan_cli.main(["--stack", "dev", "--json"])
    text = capsys.readouterr().out
    document = json.loads(text)
    provider = next(r for r in document["resources"] if r["type"] == "pulumi:providers:hcloud")
    assert provider["inputs"]["token"] == "[secret]" and provider["secretInputs"] == ["token"]
    assert "offline-placeholder-secret" not in text


def test_bad_stack_file_exits_1_naming_the_key_without_traceback(tmp_path: Path) -> None:
    config = example_config("dev")
    config["k3s-hcloud:controlPlane"]["count"] = 2
    result = run_cli("--stack-file", str(write_stack_file(tmp_path, config, "bad")))
    assert result.returncode == 1
    assert "controlPlane.count: 2 servers with embedded etcd cannot keep a quorum." in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_unparsable_stack_file_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "Pulumi.broken.yaml"
    bad.write_text("config: [unclosed\n")
    result = run_cli("--stack-file", str(bad))
    assert result.returncode == 1 and "not valid YAML" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_token_in_a_real_run_fails_early(tmp_path: Path) -> None:
    # Without the offline placeholder the program must stop before registering anything.
    from stack_config.errors import ConfigError
    from tools.lib.engine import run_program
    from tools.lib.stack_files import load_stack_config

    config = load_stack_config(PROJECT_DIR, PROJECT_DIR / "Pulumi.dev.yaml", token_placeholder=False)
    with pytest.raises(ConfigError, match="hcloud:token: no Hetzner Cloud API token"):
        run_program(PROJECT_DIR, config)
