"""Stack config is loaded as the Pulumi CLI hands it to the program."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import PROJECT_DIR
from tools.lib.stack_files import SECRET_PLACEHOLDER, StackFileError, load_stack_config


def write(tmp_path: Path, text: str, name: str = "Pulumi.t.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_structured_values_reach_the_program_as_json(tmp_path: Path) -> None:
    stack = write(tmp_path, "config:\n  k3s-hcloud:controlPlane:\n    count: 3\n"
                            "  k3s-hcloud:clusterName: x\n")
    config = load_stack_config(PROJECT_DIR, stack)
    assert config.stack == "t"
    assert json.loads(config.values["k3s-hcloud:controlPlane"]) == {"count": 3}
    assert config.values["k3s-hcloud:clusterName"] == "x"


def test_secure_values_become_secret_placeholders(tmp_path: Path) -> None:
    stack = write(tmp_path, "config:\n  hcloud:token:\n    secure: AAABADxyz\n"
                            "  k3s-hcloud:k3s:\n    datastoreEndpoint:\n      secure: AAAB\n")
    config = load_stack_config(PROJECT_DIR, stack)
    assert config.values["hcloud:token"] == f"{SECRET_PLACEHOLDER}:hcloud:token"
    assert {"hcloud:token", "k3s-hcloud:k3s"} <= config.secret_keys
    assert "AAAB" not in json.dumps(config.values)


def test_missing_token_gets_a_secret_placeholder_and_a_note(tmp_path: Path) -> None:
    config = load_stack_config(PROJECT_DIR, write(tmp_path, "config: {}\n"))
    assert "hcloud:token" in config.secret_keys
    assert any("hcloud:token is not set" in note for note in config.notes)


def test_project_defaults_apply_before_stack_values(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text(
        "name: demo\nruntime: python\nconfig:\n  location:\n    type: string\n    default: hel1\n"
        "  clusterName:\n    type: string\n    default: a\n")
    stack = write(tmp_path, "config:\n  demo:clusterName: b\n")
    config = load_stack_config(tmp_path, stack)
    assert config.values["demo:location"] == "hel1"
    assert config.values["demo:clusterName"] == "b"


def test_esc_environments_are_reported_not_resolved(tmp_path: Path) -> None:
    config = load_stack_config(PROJECT_DIR, write(tmp_path, "environment: [k3s-hcloud/dev]\nconfig: {}\n"))
    assert any("ESC environment(s) ['k3s-hcloud/dev']" in note for note in config.notes)


def test_unreadable_yaml_is_a_stack_file_error(tmp_path: Path) -> None:
    with pytest.raises(StackFileError, match="not valid YAML"):
        load_stack_config(PROJECT_DIR, write(tmp_path, "config: [unclosed\n"))
