"""The one SSH connection factory every bootstrap command uses.

- Host keys are always pinned (``host_key``): pulumi-command skips verification when it is unset.
- With a jump host (private mode), nodes are reached on their private IP through the bastion
  (``proxy``); the bastion's own host key is pinned too.
- Without a private key in :class:`~components.handles.SshAccess` (the user supplied their own
  public keys), no key is sent and pulumi-command authenticates through the local ssh-agent
  (``SSH_AUTH_SOCK`` of the process running ``pulumi``): the user must have the key loaded.

Ref: https://www.pulumi.com/registry/packages/command/api-docs/remote/command/ (connection)
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_command as command

from components.handles import NodeHandle, SshAccess


@dataclass(frozen=True)
class DialBudget:
    dial_error_limit: int
    per_dial_timeout: int
    """Seconds per attempt."""


# A fresh Hetzner server reports "running" well before sshd accepts connections, and cloud-init
# may restart sshd once more. Refused dials fail at once and pulumi retries with a backoff that
# grows to ~5 s between attempts (pulumi's retry.Until defaults), so 60 failed dials still cover
# about five minutes of boot; dropped packets cost up to 10 s each on top. The default (10 dials)
# gives up after a few seconds of "connection refused".
FRESH_BOOT = DialBudget(dial_error_limit=60, per_dial_timeout=10)


class NoSshRoute(ValueError):
    """The infrastructure handed over a node the bootstrap cannot reach (a wiring bug)."""


def node_connection(node: NodeHandle, ssh: SshAccess,
                    budget: DialBudget = FRESH_BOOT) -> command.remote.ConnectionArgs:
    """How to reach ``node``: through the jump host when there is one, else its public IPv4."""
    if ssh.jump_host is not None:
        host: pulumi.Input[str] = node.private_ip
    elif node.public_ipv4 is not None:
        host = node.public_ipv4
    else:
        raise NoSshRoute(f"node {node.key} has no public IPv4 and SshAccess has no jump host; "
                         "the infrastructure must provide one of them")
    return host_connection(host, node.host_public_key, ssh, budget)


def host_connection(host: pulumi.Input[str], host_public_key: pulumi.Input[str], ssh: SshAccess,
                    budget: DialBudget = FRESH_BOOT) -> command.remote.ConnectionArgs:
    """``host`` with its pinned key, through the jump host when there is one."""
    proxy = None
    if ssh.jump_host is not None:
        proxy = command.remote.ProxyConnectionArgs(
            host=ssh.jump_host.public_ipv4,
            user=ssh.user,
            private_key=ssh.private_key,
            host_key=_key_line(ssh.jump_host.host_public_key),
            dial_error_limit=budget.dial_error_limit,
            per_dial_timeout=budget.per_dial_timeout,
        )
    return command.remote.ConnectionArgs(
        host=host,
        user=ssh.user,
        private_key=ssh.private_key,
        host_key=_key_line(host_public_key),
        proxy=proxy,
        dial_error_limit=budget.dial_error_limit,
        per_dial_timeout=budget.per_dial_timeout,
    )


def _key_line(key: pulumi.Input[str]) -> pulumi.Output[str]:
    # Host keys arrive as authorized_keys lines, often with a trailing newline.
    return pulumi.Output.from_input(key).apply(lambda text: text.strip())
