"""A k3s node (control-plane server or worker): a cluster server plus the handle the bootstrap uses.

Shared by ``ControlPlane`` and ``WorkerPool``; creates, as children of the calling component, what
``server.create_cluster_server`` creates, and the spread ``hcloud.PlacementGroup``s
``<owner>-<suffix>`` that ``placement.py`` plans.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import pulumi
import pulumi_hcloud as hcloud

from components.handles import NodeHandle, Role
from components.infrastructure.cloud_init import HostKey, PrivateEgress, node_user_data
from cluster_plan.placement import PlacementGroupPlan
from components.infrastructure.server import (
    ServerAttachments,
    ServerShape,
    create_cluster_server,
    server_labels,
)
from stack_config.nodes import Taint
from upstream.hetzner import is_ubuntu_image

HETZNER_ROLE = {"server": "control-plane", "agent": "worker"}


class ServerChangeGuard(Protocol):
    """Steps around each node's server update (components/bootstrap/resize.py), created in
    the order servers are: ``before`` returns what the server waits for."""

    def before(self, key: str, role: Role, pool: str, server_type: str,
               parent: pulumi.Resource) -> list[pulumi.Resource]: ...

    def after(self, node: NodeHandle, server_type: str, parent: pulumi.Resource) -> None: ...


@dataclass(frozen=True)
class NodeEnvironment:
    """What every node of the stack shares."""

    cluster: str
    network_id: pulumi.Input[int]
    subnet: pulumi.Resource
    ssh_key_ids: Sequence[pulumi.Input[str]]
    firewall_ids: Sequence[pulumi.Input[int]]
    """The nodes' firewall in public mode; empty in private mode (no public interface)."""
    egress: PrivateEgress | None
    """Set in private mode: nodes have no public interface and leave through the bastion."""
    change_guard: ServerChangeGuard | None = None
    """Set while an in-place server-type change is acknowledged: drains around each update."""

    @property
    def public(self) -> bool:
        return self.egress is None


@dataclass(frozen=True)
class NodeRequest:
    key: str
    role: Role
    pool: str
    server_type: str
    image: str
    location: str
    private_ip: str
    placement_group_id: pulumi.Input[int]
    labels: dict[str, str]
    taints: list[str]
    protect: bool = False


def taint_text(taint: Taint) -> str:
    """``key=value:Effect`` (``key:Effect`` without a value), as k3s ``node-taint`` takes it."""
    return taint.k3s_text()


def create_node(environment: NodeEnvironment, request: NodeRequest,
                parent: pulumi.Resource) -> NodeHandle:
    shape = ServerShape(
        key=request.key, server_type=request.server_type, image=request.image,
        location=request.location, private_ip=request.private_ip, public=environment.public,
        labels=server_labels(environment.cluster, HETZNER_ROLE[request.role], request.pool,
                             request.server_type),
        protect=request.protect)
    attachments = ServerAttachments(
        network_id=environment.network_id, subnet=environment.subnet,
        ssh_key_ids=environment.ssh_key_ids, firewall_ids=environment.firewall_ids,
        placement_group_id=request.placement_group_id)
    ubuntu = is_ubuntu_image(request.image)
    egress = environment.egress

    def user_data(host_key: HostKey) -> str:
        return node_user_data(host_key, ubuntu=ubuntu, egress=egress)

    guard = environment.change_guard
    before = guard.before(request.key, request.role, request.pool, request.server_type,
                          parent) if guard is not None else []
    built = create_cluster_server(shape, attachments, user_data, parent=parent, after=before)
    handle = NodeHandle(
        key=request.key, role=request.role, pool=request.pool, private_ip=request.private_ip,
        public_ipv4=built.server.ipv4_address if environment.public else None,
        host_public_key=built.host_public_key, server=built.server,
        labels=dict(request.labels), taints=list(request.taints))
    if guard is not None:
        guard.after(handle, request.server_type, parent)
    return handle


def create_placement_groups(owner: str, plans: Sequence[PlacementGroupPlan],
                            labels: dict[str, str],
                            parent: pulumi.Resource) -> dict[int, pulumi.Output[int]]:
    """One spread group per plan, named ``<owner>-<suffix>``; returns server index → group id."""
    group_of: dict[int, pulumi.Output[int]] = {}
    for plan in plans:
        group = hcloud.PlacementGroup(f"{owner}-{plan.suffix}", name=f"{owner}-{plan.suffix}",
                                      type="spread", labels=labels,
                                      opts=pulumi.ResourceOptions(parent=parent))
        for index in plan.members:
            group_of[index] = group.id.apply(int)
    return group_of
