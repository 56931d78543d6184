"""Drained server-type changes: the steps around each server's update when ``resize-in-place``
is acknowledged.

The hcloud provider changes ``server_type`` in place: it powers the server off (a hard
power-off) when it runs, then calls change_type, which copies the disk and starts the server
again (terraform-provider-hcloud ``internal/server/resource.go``, ``resourceServerUpdate``;
Hetzner API "Change the Type of a Server"). Pulumi updates every changed server at once unless
something orders them, and it can order an update only by dependencies: a step that must run
*before* a server's update has to be a resource the server depends on. So, with the
acknowledgement, the infrastructure creates each node's server after its guard:

- ``<key>-resize-drain`` (on the first server; triggers: the server type): when a resize is
  pending for the node (``resize-node.sh pending``: registered, and its instance-type label is
  not the new type), cordon and drain it — an agent first takes one of its pool's rollout slots
  (rollout.py), so a pool resizes ``maxUnavailable`` nodes at a time; a server waits for the
  previous server's ``-resize-uncordon``, so servers resize one at a time;
- the server (its update: power-off, change_type, start);
- ``<key>-resize-uncordon`` (triggers: the server type): a server waits until its own API and
  etcd member answer (``resize-node.sh await-api``, run on itself) then uncordons itself; an agent
  is uncordoned from the first server once Ready and gives its slot back.

What Pulumi cannot order: a command that reaches the first server cannot run before the first
server's own update, since the command's connection is an output of that server (a cycle). The
first server is therefore resized first and without a drain — its Pods stop with it and are
rescheduled elsewhere — while the other servers keep etcd's quorum and the API; every other
server waits until it is back. A one-server control plane has no API while its server is off.
The guards exist only while ``resize-in-place`` is acknowledged (removing it deletes them; they
have no delete step).
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_command as command

from components.bootstrap import rollout
from components.bootstrap.connection import node_connection
from components.bootstrap.remote_script import remote_script
from components.handles import NodeHandle, Role, SshAccess

ACKNOWLEDGEMENT = "resize-in-place"
AWAIT_API_MINUTES = 10


class ResizeGuard:
    """Creates, node by node in the order the infrastructure creates servers, the steps before
    and after each server's type change. Servers come first, the first server first."""

    def __init__(self, ssh: SshAccess, pool_slots: Mapping[str, int]) -> None:
        self.ssh = ssh
        self.sudo = ssh.user != "root"
        self.pool_slots = dict(pool_slots)
        self.first: NodeHandle | None = None
        self.last_server_back: pulumi.Resource | None = None

    def before(self, key: str, role: Role, pool: str, server_type: str,
               parent: pulumi.Resource) -> list[pulumi.Resource]:
        """What ``key``'s server must wait for: its drain (none for the first server)."""
        if self.first is None:
            return []
        slots = rollout.RolloutSlots(pool, self.pool_slots.get(pool, 1)) \
            if role == "agent" else None
        script = drain_command(key, server_type, slots, sudo=self.sudo)
        after = [self.last_server_back] if self.last_server_back is not None else []
        gate = command.remote.Command(
            f"{key}-resize-drain", connection=node_connection(self.first, self.ssh),
            create=script, triggers=[server_type],
            logging=command.remote.Logging.STDOUT_AND_STDERR,
            opts=pulumi.ResourceOptions(parent=parent, depends_on=after,
                                        custom_timeouts=rollout.drain_timeouts(slots)))
        return [gate]

    def after(self, node: NodeHandle, server_type: str, parent: pulumi.Resource) -> None:
        """The step after ``node``'s server update: back, Ready and uncordoned."""
        if node.role == "server":
            # On the server itself: its own API answering is its etcd member back in the quorum.
            script = uncordon_command(node.key, "server", None, sudo=self.sudo)
            connection = node_connection(node, self.ssh)
            budget = AWAIT_API_MINUTES + rollout.UNCORDON_MINUTES
        else:
            assert self.first is not None, "servers are created before agents"
            slots = rollout.RolloutSlots(node.pool, self.pool_slots.get(node.pool, 1))
            script = uncordon_command(node.key, "agent", slots, sudo=self.sudo)
            connection = node_connection(self.first, self.ssh)
            budget = rollout.UNCORDON_MINUTES
        back = command.remote.Command(
            f"{node.key}-resize-uncordon", connection=connection, create=script,
            triggers=[server_type], logging=command.remote.Logging.STDOUT_AND_STDERR,
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[node.server],
                                        custom_timeouts=pulumi.CustomTimeouts(
                                            create=rollout.minutes(budget),
                                            update=rollout.minutes(budget))))
        if node.role == "server":
            if self.first is None:
                self.first = node
            self.last_server_back = back


def drain_command(key: str, server_type: str, slots: rollout.RolloutSlots | None, *,
                  sudo: bool) -> str:
    """On the first server: drain ``key`` (taking a slot of its pool) when its resize to
    ``server_type`` is pending; exit 0 at once when none is, 1 when the API does not answer."""
    pending = remote_script("resize-node.sh", {"STEP": "pending", "NODE_NAME": key,
                                               "SERVER_TYPE": server_type}, sudo=sudo)
    drain = rollout.drain_command(key, slots, sudo=sudo)
    return (f"{pending}; pending=$?; if [ \"$pending\" -eq 0 ]; then {drain}; "
            "elif [ \"$pending\" -eq 1 ]; then exit 0; else exit 1; fi")


def uncordon_command(key: str, role: Role, slots: rollout.RolloutSlots | None, *,
                     sudo: bool) -> str:
    """After the resize: a server (on itself) first waits for its own API and etcd member;
    then the node is uncordoned once Ready (only when the drain cordoned it)."""
    uncordon = rollout.uncordon_command(key, slots, sudo=sudo)
    if role != "server":
        return uncordon
    await_api = remote_script("resize-node.sh", {"STEP": "await-api", "NODE_NAME": key},
                              sudo=sudo)
    return f"{await_api} && {uncordon}"
