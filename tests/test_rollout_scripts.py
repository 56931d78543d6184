"""The rollout and node-metadata scripts, run for real on a fake node (tests/fake_node.py).

drain-node.sh → (apply-k3s.sh) → uncordon-node.sh is what every node goes through when k3s
restarts; an agent holds one of its pool's rollout slots (rollout-slot.sh) from before the drain
to after the uncordon. set-node-metadata.sh applies labels and taints without a restart.
"""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from components.bootstrap import resize, rollout
from tests.fake_node import FakeNode
from tests.test_bootstrap_scripts import apply, installed, server_bundle

VERSION = "v1.35.3+k3s1"
NODE = "dev-workers-2"
SLOTS = rollout.RolloutSlots("workers", 1)


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


# -- the pool's rollout slots (rollout-slot.sh, composed by components/bootstrap/rollout.py) ----

POOL = "workers"
SLOT0, SLOT1 = f"k3s-hcloud-rollout-{POOL}-0", f"k3s-hcloud-rollout-{POOL}-1"


def slot_step(node: FakeNode, step: str, name: str = NODE, slots: int = 1,
              **env: str) -> subprocess.CompletedProcess[str]:
    return node.run_script("rollout-slot.sh", STEP=step, NODE_NAME=name, LOCK_POOL=POOL,
                           LOCK_SLOTS=str(slots), LOCK_INTERVAL="0", **env)


def lease(node: FakeNode, name: str) -> dict[str, str] | None:
    """The stub API's Lease: resourceVersion, holder, renewTime, duration."""
    path = node.state / "leases" / name
    if not path.exists():
        return None
    version, holder, renewed, duration = path.read_text().split("|")
    return {"version": version, "holder": holder, "renewed": renewed, "duration": duration}


def plant_lease(node: FakeNode, name: str, holder: str, *, age_seconds: int,
                duration: int = 3300) -> None:
    renewed = (datetime.now(timezone.utc) - timedelta(seconds=age_seconds)).strftime(
        "%Y-%m-%dT%H:%M:%S.000000Z")
    (node.state / "leases").mkdir(exist_ok=True)
    (node.state / "leases" / name).write_text(f"7|{holder}|{renewed}|{duration}")


def mark_drained(node: FakeNode, name: str) -> None:
    (node.state / "annotations").mkdir(exist_ok=True)
    (node.state / "annotations" / name).write_text("true")


def test_a_first_install_takes_no_slot(node: FakeNode) -> None:
    result = slot_step(node, "acquire")
    assert result.returncode == 0, result.stderr
    assert "first install" in result.stdout
    assert lease(node, SLOT0) is None


def test_a_running_node_takes_a_slot_and_gives_it_back(node: FakeNode) -> None:
    register(node, NODE)
    taken = slot_step(node, "acquire", LOCK_LEASE_SECONDS="3300")
    assert taken.returncode == 0, taken.stderr
    held = lease(node, SLOT0)
    assert held is not None and held["holder"] == NODE and held["duration"] == "3300"
    released = slot_step(node, "release")
    assert released.returncode == 0, released.stderr
    assert lease(node, SLOT0)["holder"] == ""  # type: ignore[index]


def test_a_pool_restarts_no_more_nodes_than_its_slots(node: FakeNode) -> None:
    register(node, "dev-workers-1", "dev-workers-2", "dev-workers-3")
    for name in ("dev-workers-1", "dev-workers-2"):
        assert slot_step(node, "acquire", name, slots=2).returncode == 0
    assert {lease(node, SLOT0)["holder"], lease(node, SLOT1)["holder"]} == {  # type: ignore[index]
        "dev-workers-1", "dev-workers-2"}
    node.reset_calls()
    third = slot_step(node, "acquire", "dev-workers-3", slots=2, LOCK_ATTEMPTS="3")
    assert third.returncode == 1
    assert "no rollout slot of pool workers came free after 3 attempts" in third.stderr
    assert "dev-workers-1" in third.stderr and "dev-workers-2" in third.stderr
    assert [c for c in node.calls() if c.startswith("sleep")] == ["sleep 0"] * 3
    # Once one of them is back, the third gets its slot.
    assert slot_step(node, "release", "dev-workers-1", slots=2).returncode == 0
    again = slot_step(node, "acquire", "dev-workers-3", slots=2, LOCK_ATTEMPTS="3")
    assert again.returncode == 0, again.stderr
    assert lease(node, SLOT0)["holder"] == "dev-workers-3"  # type: ignore[index]


def test_a_re_run_of_the_holders_own_rollout_keeps_its_slot(node: FakeNode) -> None:
    register(node, NODE)
    plant_lease(node, SLOT0, NODE, age_seconds=10)
    result = slot_step(node, "acquire", LOCK_ATTEMPTS="1")
    assert result.returncode == 0, result.stderr
    assert lease(node, SLOT0)["version"] == "8"  # type: ignore[index]


def test_an_expired_slot_of_a_finished_or_vanished_holder_is_taken_over(node: FakeNode) -> None:
    register(node, NODE)
    plant_lease(node, SLOT0, "dev-workers-9", age_seconds=4000)  # its run died; node gone
    result = slot_step(node, "acquire", LOCK_ATTEMPTS="1")
    assert result.returncode == 0, result.stderr
    assert "ran out and its rollout ended; taking it over" in result.stdout
    assert lease(node, SLOT0)["holder"] == NODE  # type: ignore[index]


def test_a_live_slot_is_never_taken_over(node: FakeNode) -> None:
    register(node, NODE)
    plant_lease(node, SLOT0, "dev-workers-9", age_seconds=3000)
    result = slot_step(node, "acquire", LOCK_ATTEMPTS="2")
    assert result.returncode == 1
    assert lease(node, SLOT0)["holder"] == "dev-workers-9"  # type: ignore[index]


def test_an_expired_slot_whose_holder_is_still_cordoned_stops_the_pool(node: FakeNode) -> None:
    register(node, NODE, "dev-workers-9")
    plant_lease(node, SLOT0, "dev-workers-9", age_seconds=4000)
    mark_drained(node, "dev-workers-9")
    node.reset_calls()
    result = slot_step(node, "acquire", LOCK_ATTEMPTS="100", LOCK_STUCK_ATTEMPTS="3")
    assert result.returncode == 1
    assert "the rollout of dev-workers-9" in result.stderr and "did not finish" in result.stderr
    assert len([c for c in node.calls() if c.startswith("sleep")]) == 2, "3 rounds, then stop"
    assert lease(node, SLOT0)["holder"] == "dev-workers-9"  # type: ignore[index]


def test_a_failed_drain_keeps_the_slot_expired_so_the_pool_stops(node: FakeNode) -> None:
    register(node, NODE)
    node.flag("drain-fails")
    result = node.run_command_line(rollout.drain_command(NODE, SLOTS, sudo=False))
    assert result.returncode == 1
    assert "stays cordoned and k3s is not restarted on it" in result.stderr
    held = lease(node, SLOT0)
    assert held is not None and held["holder"] == NODE
    renewed = datetime.strptime(held["renewed"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=timezone.utc)
    assert datetime.now(timezone.utc) - renewed > timedelta(seconds=rollout.LEASE_SECONDS)


def test_a_restart_holds_its_slot_from_drain_to_uncordon(node: FakeNode) -> None:
    register(node, NODE)
    drained = node.run_command_line(rollout.drain_command(NODE, SLOTS, sudo=False))
    assert drained.returncode == 0, drained.stderr
    assert lease(node, SLOT0)["holder"] == NODE  # type: ignore[index]
    node.reset_calls()
    back = node.run_command_line(rollout.uncordon_command(NODE, SLOTS, sudo=False))
    assert back.returncode == 0, back.stderr
    assert lease(node, SLOT0)["holder"] == ""  # type: ignore[index]
    calls = kubectl_calls(node)
    assert calls.index(f"uncordon {NODE}") < max(
        i for i, c in enumerate(calls) if c.startswith("replace")), "released after uncordon"


def test_a_node_that_does_not_come_back_keeps_its_slot_expired(node: FakeNode) -> None:
    register(node, NODE)
    assert node.run_command_line(rollout.drain_command(NODE, SLOTS, sudo=False)).returncode == 0
    node.flag("not-ready")
    result = node.run_command_line(rollout.uncordon_command(NODE, SLOTS, sudo=False))
    assert result.returncode == 1 and "stays cordoned" in result.stderr
    assert lease(node, SLOT0)["holder"] == NODE  # type: ignore[index]
    assert "expired: the nodes waiting for it stop" in result.stdout


def test_servers_take_no_slot(node: FakeNode) -> None:
    register(node, "dev-cp-2")
    assert "rollout-slot" not in rollout.drain_command("dev-cp-2", None, sudo=False)
    result = node.run_command_line(rollout.drain_command("dev-cp-2", None, sudo=False))
    assert result.returncode == 0 and not (node.state / "leases").exists()


# -- an acknowledged server-type change (resize-node.sh, composed by bootstrap/resize.py) -------

def label_type(node: FakeNode, name: str, server_type: str) -> None:
    (node.state / "labels").mkdir(exist_ok=True)
    (node.state / "labels" / name).write_text(server_type)


def test_a_node_already_of_the_new_type_is_not_drained(node: FakeNode) -> None:
    register(node, NODE)
    label_type(node, NODE, "cx33")
    result = node.run_command_line(resize.drain_command(NODE, "cx33", SLOTS, sudo=False))
    assert result.returncode == 0, result.stderr
    assert "no resize, no drain" in result.stdout
    assert kubectl_calls(node) == [] and lease(node, SLOT0) is None


def test_a_pending_resize_drains_the_node_holding_its_pools_slot(node: FakeNode) -> None:
    register(node, NODE)
    label_type(node, NODE, "cx23")
    result = node.run_command_line(resize.drain_command(NODE, "cx33", SLOTS, sudo=False))
    assert result.returncode == 0, result.stderr
    assert "cx23 → cx33" in result.stdout
    assert lease(node, SLOT0)["holder"] == NODE  # type: ignore[index]
    assert f"drain {NODE} --ignore-daemonsets --delete-emptydir-data --timeout=300s" in \
        kubectl_calls(node)
    back = node.run_command_line(resize.uncordon_command(NODE, "agent", SLOTS, sudo=False))
    assert back.returncode == 0, back.stderr
    assert f"uncordon {NODE}" in kubectl_calls(node)
    assert lease(node, SLOT0)["holder"] == ""  # type: ignore[index]


def test_a_node_without_the_type_label_is_drained_to_be_safe(node: FakeNode) -> None:
    register(node, NODE)
    result = node.run_command_line(resize.drain_command(NODE, "cx33", None, sudo=False))
    assert result.returncode == 0, result.stderr
    assert "unknown type → cx33" in result.stdout and f"cordon {NODE}" in kubectl_calls(node)


def test_an_unregistered_node_is_resized_without_a_drain(node: FakeNode) -> None:
    result = node.run_command_line(resize.drain_command(NODE, "cx33", SLOTS, sudo=False))
    assert result.returncode == 0 and "not registered" in result.stdout
    assert kubectl_calls(node) == []


def test_no_resize_without_the_api(node: FakeNode) -> None:
    node.flag("api-down")
    result = node.run_command_line(resize.drain_command(NODE, "cx33", SLOTS, sudo=False))
    assert result.returncode == 1 and "is NOT drained" in result.stderr


def test_a_resized_server_waits_for_its_own_api_before_the_next_one(node: FakeNode) -> None:
    register(node, "dev-cp-2")
    (node.state / "active").unlink()  # its API does not answer yet
    result = node.run_command_line(resize.uncordon_command("dev-cp-2", "server", None,
                                                           sudo=False),
                                   AWAIT_ATTEMPTS="3", AWAIT_INTERVAL="0")
    assert result.returncode == 1 and "no other server is resized" in result.stderr
    (node.state / "active").touch()
    result = node.run_command_line(resize.uncordon_command("dev-cp-2", "server", None,
                                                           sudo=False))
    assert result.returncode == 0 and "etcd member are back" in result.stdout
