"""Stack outputs that tell a human how to reach the cluster, derived from the handles.

- ``node_addresses``: node key → ``{"private": ip, "public": ipv4 or None}``;
- ``api_endpoint``: ``https://<address>:6443`` (the LB's public or private address, else the first
  control-plane server's public address, or its private one in private mode);
- ``ssh_commands``: node key → an ``ssh`` command line, through the bastion with ``-J`` when the
  nodes are private;
- ``known_hosts``: an OpenSSH known_hosts text with every pinned host key, so a human can check
  host keys the way the bootstrap does (``ssh -o UserKnownHostsFile=…``).
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from components.handles import ApiEndpoint, NodeHandle, SshAccess
from upstream.k3s import API_PORT

BASTION_KEY = "bastion"


def node_addresses(nodes: Sequence[NodeHandle]) -> pulumi.Output[dict]:
    entries = {node.key: pulumi.Output.all(private=node.private_ip, public=node.public_ipv4)
               for node in nodes}
    return pulumi.Output.all(**entries).apply(dict)


def api_endpoint(api: ApiEndpoint) -> pulumi.Output[str]:
    """The URL of the kubeconfig's current context."""
    return pulumi.Output.concat("https://", api.user_address, f":{API_PORT}")


def ssh_commands(nodes: Sequence[NodeHandle], ssh: SshAccess) -> pulumi.Output[dict]:
    commands: dict[str, pulumi.Output[str]] = {}
    jump = ssh.jump_host
    if jump is not None:
        commands[BASTION_KEY] = pulumi.Output.concat("ssh ", ssh.user, "@", jump.public_ipv4)
    for node in nodes:
        if node.public_ipv4 is not None:
            commands[node.key] = pulumi.Output.concat("ssh ", ssh.user, "@", node.public_ipv4)
        elif jump is not None:
            commands[node.key] = pulumi.Output.concat(
                "ssh -J ", ssh.user, "@", jump.public_ipv4, " ", ssh.user, "@", node.private_ip)
    return pulumi.Output.all(**commands).apply(dict)


def known_hosts(nodes: Sequence[NodeHandle], ssh: SshAccess) -> pulumi.Output[str]:
    lines: list[pulumi.Output[str]] = []
    if ssh.jump_host is not None:
        lines.append(pulumi.Output.concat(ssh.jump_host.public_ipv4, " ",
                                          ssh.jump_host.host_public_key))
    for node in nodes:
        lines.append(pulumi.Output.concat(node.reachable_address, " ", node.host_public_key))
    return pulumi.Output.all(*lines).apply(lambda found: "".join(f"{line}\n" for line in found))
