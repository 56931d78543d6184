"""One Hetzner server of the cluster together with its SSH host key.

Shared by the bastion, the control plane and the worker pools so every server is built the same
way: explicit public-net settings (the API default is a public IPv4 and IPv6), the private network
attached at creation (a server without public IPs cannot be created otherwise) at its planned
address, SSH keys always (no root password e-mails), a program-generated ed25519 host key
installed by cloud-init, labels, and ``ignore_changes`` so edited user data, a newer image or a
changed key list never replace a running server.

Creates, as children of the calling component: ``tls.PrivateKey`` ``<key>-host-key`` and
``hcloud.Server`` ``<key>``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_hcloud as hcloud
import pulumi_tls as tls

from components.infrastructure.cloud_init import HostKey
from upstream.hetzner import is_arm_server_type

# Changing any of these on a running server would make the provider replace it: Hetzner applies
# user data and SSH keys at creation only (terraform-provider-hcloud #372; hcloud_server docs,
# ssh_keys: "Once the server is created, you can not update the list of SSH Keys"), and a new
# image means a rebuild. Edits reach servers created afterwards.
IGNORED_SERVER_CHANGES = ["userData", "image", "sshKeys"]


@dataclass(frozen=True)
class ServerShape:
    """What to create; everything a caller varies between the bastion and the nodes."""

    key: str
    """Pulumi name and Hetzner server name, e.g. ``dev-cp-1``."""
    server_type: str
    image: str
    location: str
    private_ip: str
    public: bool
    """Public IPv4 and IPv6, or none at all."""
    labels: dict[str, str]
    protect: bool = False


@dataclass(frozen=True)
class ServerAttachments:
    """What every server of the stack attaches to."""

    network_id: pulumi.Input[int]
    subnet: pulumi.Resource
    """The server must wait for it: attaching to a network without a subnet fails."""
    ssh_key_ids: Sequence[pulumi.Input[str]]
    firewall_ids: Sequence[pulumi.Input[int]] = field(default_factory=list)
    placement_group_id: pulumi.Input[int] | None = None


@dataclass(frozen=True)
class ClusterServer:
    server: hcloud.Server
    host_key: tls.PrivateKey

    @property
    def host_public_key(self) -> pulumi.Output[str]:
        """One line ``ssh-ed25519 AAAA…``, as ``remote.Command``'s ``host_key`` and known_hosts take it."""
        return self.host_key.public_key_openssh.apply(lambda key: key.strip())


def server_labels(cluster: str, role: str, pool: str, server_type: str) -> dict[str, str]:
    return {"cluster": cluster, "role": role, "pool": pool,
            "arch": "arm64" if is_arm_server_type(server_type) else "amd64"}


def create_cluster_server(shape: ServerShape, attachments: ServerAttachments,
                          user_data: Callable[[HostKey], str],
                          parent: pulumi.Resource,
                          after: Sequence[pulumi.Resource] = ()) -> ClusterServer:
    """``after``: what the server's create and updates wait for (a drain before a resize)."""
    child = pulumi.ResourceOptions(parent=parent)
    host_key = tls.PrivateKey(f"{shape.key}-host-key", algorithm="ED25519", opts=child)
    rendered = pulumi.Output.all(host_key.private_key_openssh, host_key.public_key_openssh).apply(
        lambda keys: user_data(HostKey(private_openssh=keys[0], public_openssh=keys[1])))
    server = hcloud.Server(
        shape.key,
        name=shape.key,
        server_type=shape.server_type,
        image=shape.image,
        location=shape.location,
        labels=shape.labels,
        ssh_keys=list(attachments.ssh_key_ids),
        firewall_ids=list(attachments.firewall_ids) or None,
        placement_group_id=attachments.placement_group_id,
        public_nets=[hcloud.ServerPublicNetArgs(ipv4_enabled=shape.public,
                                                ipv6_enabled=shape.public)],
        networks=[hcloud.ServerNetworkArgs(network_id=attachments.network_id,
                                           ip=shape.private_ip)],
        # The host private key is inside: secret, whatever the provider marks.
        user_data=pulumi.Output.secret(rendered),
        delete_protection=shape.protect,
        rebuild_protection=shape.protect,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[attachments.subnet, *after],
                                    ignore_changes=IGNORED_SERVER_CHANGES,
                                    protect=shape.protect))
    return ClusterServer(server=server, host_key=host_key)
