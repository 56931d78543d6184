"""The command lines of a node's rollout steps (drain before, uncordon after a k3s restart).

Servers roll one at a time by the order of the plan (K3sBootstrap chains them: etcd admits one
learner at a time). Agents are not chained: each agent's rollout holds one of its pool's rollout
slots (``rollout-slot.sh``: ``maxUnavailable`` Leases in the cluster) from before its drain to
after its uncordon, so a change that restarts k3s on running agents still goes through each pool
in drained batches of ``maxUnavailable``, while first installs (a node not registered yet takes
no slot) run side by side.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.bootstrap.remote_script import remote_script
from upstream.k3s import CONTROL_PLANE_LABEL

# Each step's budget (explicit, never the provider default).
DRAIN_MINUTES = 10
"""Cordon and drain: DRAIN_TIMEOUT plus the cordon."""
K3S_MINUTES = 30
UNCORDON_MINUTES = 15
"""READY_TIMEOUT plus the uncordon."""
DRAIN_TIMEOUT = "300s"
READY_TIMEOUT = "600s"

LEASE_SECONDS = (DRAIN_MINUTES + K3S_MINUTES + UNCORDON_MINUTES) * 60
"""A slot's lease: one node's whole rollout within its steps' budgets never outlives it."""
SLOT_POLL_SECONDS = 10
SLOT_WAIT_HOURS = 24
"""How long an agent waits for its pool's slot: the pool's other nodes roll meanwhile (at a few
minutes each, 24 h covers the largest pool one at a time)."""
STUCK_ROUNDS = 60
"""Polls (10 minutes) an expired slot whose holder is still cordoned for its restart is waited
for (a re-run of that node's rollout renews or releases it) before the waiter stops."""


SERVER_VERSION_WAIT_MINUTES = 90
"""How long an agent waits for the servers to run its release. A server's rollout takes minutes
(drain, restart, Ready); the budget covers several slow ones. It is not scaled with the number
of servers on purpose: the command's text would change, and re-run on every agent, whenever a
server is added. A failed server rollout fails the `pulumi up` anyway; agents still waiting
then stop at this deadline."""
SERVER_VERSION_POLL_SECONDS = 15
"""Between two polls of the servers' releases (plus up to a third of it at random): every
waiting agent polls the first server."""


def minutes(value: int) -> str:
    return f"{value}m"


@dataclass(frozen=True)
class RolloutSlots:
    """A pool's bound on concurrent restarts."""

    pool: str
    slots: int
    """``workerPools[].maxUnavailable``."""

    def env(self, node: str, step: str) -> dict[str, str]:
        return {"STEP": step, "NODE_NAME": node, "LOCK_POOL": self.pool,
                "LOCK_SLOTS": str(self.slots), "LOCK_LEASE_SECONDS": str(LEASE_SECONDS),
                "LOCK_ATTEMPTS": str(SLOT_WAIT_HOURS * 3600 // SLOT_POLL_SECONDS),
                "LOCK_STUCK_ATTEMPTS": str(STUCK_ROUNDS),
                "LOCK_INTERVAL": str(SLOT_POLL_SECONDS)}


def drain_command(node: str, slots: RolloutSlots | None, *, sudo: bool) -> str:
    """Cordon and drain; with ``slots``, first take one (a failed drain keeps it, expired)."""
    drain = remote_script("drain-node.sh", {"NODE_NAME": node, "DRAIN_TIMEOUT": DRAIN_TIMEOUT},
                          sudo=sudo)
    if slots is None:
        return drain
    slot = _slot_step(node, slots, sudo)
    return f"{slot('acquire')} && {{ {drain} || {{ {slot('expire')}; exit 1; }}; }}"


def servers_at_command(release: str, *, sudo: bool) -> str:
    """Wait until no control-plane node runs a release older than ``release`` (an agent's):
    agents are not ordered after every server in the plan, so servers-first on upgrades is
    kept here. Its own step, ahead of the drain, so no rollout slot is held meanwhile and the
    drain's command (which a program release would otherwise re-run) stays as it was."""
    return remote_script("await-control-plane-version.sh", {
        "K3S_VERSION": release, "CONTROL_PLANE_SELECTOR": f"{CONTROL_PLANE_LABEL}=true",
        "WAIT_SECONDS": str(SERVER_VERSION_WAIT_MINUTES * 60),
        "INTERVAL": str(SERVER_VERSION_POLL_SECONDS)}, sudo=sudo)


SERVERS_AT_TIMEOUTS = pulumi.CustomTimeouts(create=minutes(SERVER_VERSION_WAIT_MINUTES + 5),
                                            update=minutes(SERVER_VERSION_WAIT_MINUTES + 5))
"""The wait's own deadline plus a margin: it fails with its message before Pulumi does."""


def uncordon_command(node: str, slots: RolloutSlots | None, *, sudo: bool) -> str:
    """Wait for Ready and uncordon; with ``slots``, then give the slot back (a node that does
    not come back keeps it, expired, so its pool stops)."""
    uncordon = remote_script("uncordon-node.sh",
                             {"NODE_NAME": node, "READY_TIMEOUT": READY_TIMEOUT}, sudo=sudo)
    if slots is None:
        return uncordon
    slot = _slot_step(node, slots, sudo)
    return (f"{slot('renew')} && {{ {uncordon} || {{ {slot('expire')}; exit 1; }}; }} && "
            f"{slot('release')}")


def drain_timeouts(slots: RolloutSlots | None) -> pulumi.CustomTimeouts:
    wait = SLOT_WAIT_HOURS * 60 if slots is not None else 0
    return pulumi.CustomTimeouts(create=minutes(DRAIN_MINUTES + wait),
                                 update=minutes(DRAIN_MINUTES + wait))


def _slot_step(node: str, slots: RolloutSlots, sudo: bool):
    return lambda step: remote_script("rollout-slot.sh", slots.env(node, step), sudo=sudo)
