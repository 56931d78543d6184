"""The stack file is read as the Pulumi CLI reads it; what the CLI would refuse, or what would
crash the plan, is refused with the line and the fix. One test per class of input."""

from __future__ import annotations

from pathlib import Path

import pytest

from stack_config import ConfigError, validate_cluster_spec
from stack_config.loader import decode_project_config
from tests.helpers import PROJECT_DIR
from tools.lib.stack_files import StackFileError, load_stack_config


def spec_of(tmp_path: Path, body: str):
    """Load a stack file through the whole input path (reader, CLI encoding, decoding, model)."""
    path = tmp_path / "Pulumi.t.yaml"
    path.write_text("config:\n" + body)
    config = load_stack_config(PROJECT_DIR, path)
    values = {k.split(":", 1)[1]: v for k, v in config.values.items()
              if k.startswith("k3s-hcloud:")}
    return validate_cluster_spec(decode_project_config(values))


def test_an_unquoted_date_stays_text_as_with_the_cli(tmp_path: Path) -> None:
    # go-yaml v3 hands timestamps to the CLI as the text written: a refusal, never a crash.
    with pytest.raises(ConfigError, match=r"k3s.version: '2024-01-01' is not a k3s release tag"):
        spec_of(tmp_path, "  k3s-hcloud:clusterName: dev\n  k3s-hcloud:k3s:\n    version: 2024-01-01\n")


def test_binary_values_are_refused_with_the_line(tmp_path: Path) -> None:
    with pytest.raises(StackFileError, match=r"line 2: !!binary values are not supported"):
        spec_of(tmp_path, "  k3s-hcloud:clusterName: !!binary ZGV2\n")


def test_a_key_given_twice_is_refused_not_silently_dropped(tmp_path: Path) -> None:
    with pytest.raises(StackFileError, match=r"line 3: key 'k3s-hcloud:clusterName' is already "
                                             r"defined on line 2"):
        spec_of(tmp_path, "  k3s-hcloud:clusterName: a\n  k3s-hcloud:clusterName: b\n")


def test_a_key_given_twice_inside_a_value_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StackFileError, match="key 'count' is already defined"):
        spec_of(tmp_path, "  k3s-hcloud:clusterName: a\n  k3s-hcloud:controlPlane: "
                          "{count: 1, count: 3}\n")


def test_a_quoted_number_is_a_valid_cluster_name(tmp_path: Path) -> None:
    # The CLI passes strings as written; JSON-decoding "123" first made it the number 123.
    assert spec_of(tmp_path, '  k3s-hcloud:clusterName: "123"\n').cluster_name == "123"


def test_yaml_1_1_booleans_are_text_as_with_the_cli(tmp_path: Path) -> None:
    # `on`/`yes` are strings to go-yaml v3: a switch written so is refused, not read as true.
    with pytest.raises(ConfigError, match=r"network.privateOnly: 'yes' is not true or false"):
        spec_of(tmp_path, "  k3s-hcloud:clusterName: dev\n  k3s-hcloud:network: "
                          "{privateOnly: yes}\n")


def test_a_trailing_newline_never_reaches_a_name() -> None:
    with pytest.raises(ConfigError, match=r"clusterName: 'dev\\n' is not a DNS label"):
        validate_cluster_spec({"clusterName": "dev\n"})


def test_a_switch_is_not_a_count() -> None:
    with pytest.raises(ConfigError) as caught:
        validate_cluster_spec({"clusterName": "dev", "controlPlane": {"count": True}})
    assert [str(p) for p in caught.value.problems] == [
        "controlPlane.count: true is a switch, not a number. Fix: write a whole number, e.g. 3."]


def test_a_number_is_not_a_network() -> None:
    with pytest.raises(ConfigError, match=r"k3s.clusterCidr: 167772160 is not an address or "
                                          r"network written as text"):
        validate_cluster_spec({"clusterName": "dev", "k3s": {"clusterCidr": 167772160}})
