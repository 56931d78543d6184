"""k3s-etcd-snapshots-off-node: a production-sized embedded-etcd control plane without an
off-node copy of its snapshots gets an advisory (one compliant fixture, one field mutated)."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi_policy import EnforcementLevel

from policies.rules.etcd_snapshots import etcd_snapshots_off_node
from policies.rules.types import K3S_NODE, REMOTE_COMMAND
from tests.policy_fixtures import check_stack, stack_resource


def server(name: str, **config: Any):
    return stack_resource(K3S_NODE, {"role": "server", "k3sVersion": "v1.35.3+k3s1",
                                     "k3sConfig": dict(config)}, name)


def control_plane(count: int, s3: bool = False, embedded: bool = True) -> list:
    extra = {"etcd-s3": True, "etcd-s3-bucket": "backups"} if s3 else {}
    first = {"cluster-init": True} if embedded else {}
    return [server("cp-1", **first, **extra)] + [server(f"cp-{n}", **extra)
                                                 for n in range(2, count + 1)]


def test_three_servers_with_snapshots_in_s3_pass() -> None:
    assert check_stack(etcd_snapshots_off_node, control_plane(3, s3=True)) == []


@pytest.mark.parametrize("count", [3, 5])
def test_three_or_five_servers_without_s3_get_the_advisory(count: int) -> None:
    [message] = check_stack(etcd_snapshots_off_node, control_plane(count))
    assert message.startswith(f"{count} k3s servers on embedded etcd (cp-1, cp-2")
    assert "Fix: set k3s.etcdSnapshots.s3" in message
    assert etcd_snapshots_off_node.enforcement_level == EnforcementLevel.ADVISORY


@pytest.mark.parametrize("stack", [control_plane(1), control_plane(3, embedded=False)],
                         ids=["one-server", "external-datastore"])
def test_a_single_server_or_an_external_datastore_is_not_judged(stack: list) -> None:
    assert check_stack(etcd_snapshots_off_node, stack) == []


def test_a_hand_written_server_with_s3_flags_counts() -> None:
    install = stack_resource(REMOTE_COMMAND, {
        "create": "curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION=v1.35.3+k3s1 "
                  "INSTALL_K3S_EXEC='server --cluster-init --etcd-s3 --etcd-s3-bucket=b' sh -",
        "connection": {"host": "198.51.100.7", "hostKey": "ssh-ed25519 AAAA"}}, "install")
    assert check_stack(etcd_snapshots_off_node, [install, *control_plane(3)[1:]]) == []
