"""The rollout and node-metadata scripts, run for real on a fake node (tests/fake_node.py).

drain-node.sh → (apply-k3s.sh) → uncordon-node.sh is what every node goes through when k3s
restarts; set-node-metadata.sh applies labels and taints without a restart.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fake_node import FakeNode
from tests.test_bootstrap_scripts import apply, installed, server_bundle

VERSION = "v1.35.3+k3s1"
NODE = "dev-workers-2"


@pytest.fixture()
def node(tmp_path: Path) -> FakeNode:
    fake = FakeNode.create(tmp_path)
    fake.install_k3s(VERSION)
    return fake


def register(node: FakeNode, *names: str) -> None:
    (node.state / "nodes").mkdir(exist_ok=True)
    for name in names:
        (node.state / "nodes" / name).touch()


def kubectl_calls(node: FakeNode) -> list[str]:
    return [c.removeprefix("k3s kubectl ") for c in node.calls()
            if c.startswith("k3s kubectl") and not c.startswith("k3s kubectl get")]


def test_a_registered_node_is_marked_cordoned_and_drained_before_its_restart(
        node: FakeNode) -> None:
    register(node, NODE)
    result = node.run_script("drain-node.sh", NODE_NAME=NODE, DRAIN_TIMEOUT="120s")
    assert result.returncode == 0, result.stderr
    assert kubectl_calls(node) == [
        f"annotate node {NODE} k3s-hcloud.io/drained-for-restart=true --overwrite",
        f"cordon {NODE}",
        f"drain {NODE} --ignore-daemonsets --delete-emptydir-data --timeout=120s"]


def test_a_node_not_yet_registered_is_not_drained(node: FakeNode) -> None:
    result = node.run_script("drain-node.sh", NODE_NAME=NODE)
    assert result.returncode == 0 and "nothing to drain" in result.stdout
    assert kubectl_calls(node) == []


def test_a_failed_drain_stops_the_rollout_and_says_how_to_go_on(node: FakeNode) -> None:
    register(node, NODE)
    node.flag("drain-fails")
    result = node.run_script("drain-node.sh", NODE_NAME=NODE)
    assert result.returncode == 1
    assert "stays cordoned and k3s is not restarted on it" in result.stderr


def test_the_drain_refuses_to_guess_when_the_api_is_down(node: FakeNode) -> None:
    node.flag("api-down")
    result = node.run_script("drain-node.sh", NODE_NAME=NODE)
    assert result.returncode == 1 and "was NOT drained" in result.stderr


def test_the_first_install_of_the_first_server_has_nothing_to_drain(tmp_path: Path) -> None:
    fresh = FakeNode.create(tmp_path)  # no k3s binary yet
    result = fresh.run_script("drain-node.sh", isolated_path=True, NODE_NAME="dev-cp-1")
    assert result.returncode == 0 and "not installed here yet" in result.stdout


def test_a_drained_node_is_uncordoned_once_ready_and_its_mark_removed(node: FakeNode) -> None:
    register(node, NODE)
    assert node.run_script("drain-node.sh", NODE_NAME=NODE).returncode == 0
    node.reset_calls()
    result = node.run_script("uncordon-node.sh", NODE_NAME=NODE, READY_TIMEOUT="60s")
    assert result.returncode == 0, result.stderr
    assert kubectl_calls(node) == [
        f"wait --for=condition=Ready node/{NODE} --timeout=60s",
        f"uncordon {NODE}",
        f"annotate node {NODE} k3s-hcloud.io/drained-for-restart-"]
    assert not (node.state / "annotations" / NODE).exists()


def test_a_node_an_operator_cordoned_is_left_cordoned(node: FakeNode) -> None:
    register(node, NODE)  # cordoned by hand: no rollout mark
    result = node.run_script("uncordon-node.sh", NODE_NAME=NODE)
    assert result.returncode == 0 and "left as it is" in result.stdout
    assert kubectl_calls(node) == []


def test_a_node_that_does_not_come_back_ready_stops_the_rollout_cordoned(node: FakeNode) -> None:
    register(node, NODE)
    assert node.run_script("drain-node.sh", NODE_NAME=NODE).returncode == 0
    node.flag("not-ready")
    node.reset_calls()
    result = node.run_script("uncordon-node.sh", NODE_NAME=NODE)
    assert result.returncode == 1 and "stays cordoned" in result.stderr
    assert not [c for c in kubectl_calls(node) if c.startswith("uncordon")]


def test_labels_and_taints_are_set_through_the_api_and_reported(node: FakeNode) -> None:
    register(node, NODE)
    result = node.run_script("set-node-metadata.sh", NODE_NAME=NODE,
                             NODE_LABELS="pool=workers tier=web",
                             NODE_TAINTS="dedicated=web:NoSchedule")
    assert result.returncode == 0, result.stderr
    assert kubectl_calls(node) == [
        f"label node {NODE} --overwrite pool=workers tier=web",
        f"taint node {NODE} --overwrite dedicated=web:NoSchedule"]
    assert result.stdout == ("managed-labels: pool tier\n"
                             "managed-taints: dedicated:NoSchedule\n")
    assert not [c for c in node.calls() if c.startswith("systemctl")], "no restart"


def test_labels_and_taints_removed_from_the_config_are_removed_from_the_node(
        node: FakeNode) -> None:
    register(node, NODE)
    previous = "managed-labels: pool tier\nmanaged-taints: dedicated:NoSchedule gpu:NoExecute\n"
    result = node.run_script("set-node-metadata.sh", NODE_NAME=NODE, NODE_LABELS="pool=workers",
                             NODE_TAINTS="gpu=true:NoExecute", PULUMI_COMMAND_STDOUT=previous)
    assert result.returncode == 0, result.stderr
    assert kubectl_calls(node) == [
        f"label node {NODE} --overwrite pool=workers tier-",
        f"taint node {NODE} dedicated:NoSchedule-",
        f"taint node {NODE} --overwrite gpu=true:NoExecute"]
    assert result.stdout == "managed-labels: pool\nmanaged-taints: gpu:NoExecute\n"


def test_metadata_waits_for_registration_and_gives_up_clearly(node: FakeNode) -> None:
    result = node.run_script("set-node-metadata.sh", NODE_NAME=NODE, NODE_LABELS="a=b",
                             AWAIT_ATTEMPTS="2", AWAIT_INTERVAL="0")
    assert result.returncode == 1 and "is not registered" in result.stderr


def test_an_installed_k3s_is_left_to_the_upgrade_controller(node: FakeNode) -> None:
    installed(node)
    result = apply(node, server_bundle("node-name: cp-1\n"), K3S_VERSION="v1.35.4+k3s1",
                   K3S_UPGRADES="controller")
    assert result.returncode == 0, result.stderr
    assert "belong to system-upgrade-controller" in result.stderr
    assert not [c for c in node.calls() if c.startswith(("installer", "curl"))]
