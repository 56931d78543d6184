"""How many new SSH connections the bastion admits per source: sized for the cluster's own automation.

The bootstrap runs every remote command of a private cluster through the bastion, and
pulumi-command opens one SSH connection to the jump host per command (the proxy client is dialled
once per command; retries towards a booting node reuse it — Ref: pulumi-command
``provider/pkg/provider/remote/connection.go``, ``Dial``). On a create, every node's chain starts at
once, so the burst the deployer's address needs is the number of commands of the whole cluster.
A fixed "10 a minute" dropped most of a 3 + 96 create's first connections: each dropped SYN cost
a 10 s dial timeout and a retry, and the create took three times the model.

Brute force stays refused: sshd takes keys only (``PasswordAuthentication no``,
``MaxAuthTries 3``), and a source that exceeds the burst is held to the sustained rate. The
numbers are integers the program renders into ``bastion.nft`` (nft does not accept variables in a
``limit`` statement).
"""

from __future__ import annotations

from dataclasses import dataclass

from upstream.hetzner import MAX_SERVERS_PER_NETWORK

# Remote commands the bootstrap runs for one node over a create: wait for boot, route the pod
# ranges, stage secrets, write the registration drop-in, the rollout (on agents the wait for the
# servers' release, drain, apply k3s, uncordon), await registration, set labels and taints; on
# servers behind an API load balancer
# the answer to its readiness check; plus on the first server the two reads (CA hash,
# kubeconfig), the wait until the load balancer routes to it, and the per-server snapshot and
# membership steps. tests/test_bastion_admission.py checks the planned
# programs against this bound, so a new bootstrap step that breaks it fails a test.
# Servers ignore user-data edits (components/infrastructure/server.py), so a running bastion keeps
# the admission it was created with; a bastion created afterwards gets this one.
REMOTE_COMMANDS_PER_NODE = 11
# Headroom for day-2 operations run while a create's connections are still counted, and for the
# user's own `ssh -J` sessions.
MARGIN = 20


@dataclass(frozen=True)
class SshAdmission:
    burst: int
    """New connections one source may open at once."""
    per_minute: int
    """New connections per minute one source may open once the burst is spent."""


def ssh_admission(nodes_behind_bastion: int) -> SshAdmission:
    """Admission for a cluster of ``nodes_behind_bastion`` servers reached through the bastion."""
    if nodes_behind_bastion < 0:
        raise ValueError("a node count cannot be negative")
    burst = nodes_behind_bastion * REMOTE_COMMANDS_PER_NODE + MARGIN
    # The burst refills within a minute: a day-2 change of every node can follow a create.
    return SshAdmission(burst=burst, per_minute=burst)


# One admission for every cluster: sized for the most servers one network can attach (all but
# the bastion behind it), so the bastion's user data does not change when pools grow or shrink.
BASTION_ADMISSION = ssh_admission(MAX_SERVERS_PER_NETWORK - 1)
