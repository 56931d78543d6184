"""SshKeys: the root login keys every server is created with.

Hetzner e-mails a root password for a server created without SSH keys, so every server gets at
least one. The keys come from ``access.sshPublicKeys`` (uploaded here), ``access.hcloudSshKeyNames``
(already in the project: Hetzner refuses to store one public key twice per project) or, when the
stack gives neither, a generated ed25519 pair whose private key stays a Pulumi secret.

Creates:
- ``hcloud.SshKey`` ``<name>-<fingerprint>`` per given public key (named by a hash of the key, so
  reordering or adding keys renames nothing);
- when generating: ``tls.PrivateKey`` ``<name>-generated`` (ED25519) and
  ``hcloud.SshKey`` ``<name>-generated``.
"""

from __future__ import annotations

import hashlib

import pulumi
import pulumi_hcloud as hcloud
import pulumi_tls as tls

from stack_config.network import AccessConfig


def key_suffix(public_key: str) -> str:
    """Stable short name for a public key: a hash of its base64 body (comments ignored)."""
    return hashlib.sha256(public_key.split()[1].encode()).hexdigest()[:10]


class SshKeys(pulumi.ComponentResource):
    ids: list[pulumi.Input[str]]
    """For ``hcloud.Server.ssh_keys``: ids of the keys created here, names of existing ones."""
    private_key: pulumi.Output[str] | None
    """Secret OpenSSH private key when generated; None when the user holds the key."""
    public_keys: list[pulumi.Input[str]]

    def __init__(self, name: str, access: AccessConfig, labels: dict[str, str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("k3s-hcloud:infrastructure:SshKeys", name,
                         {"generated": access.generates_ssh_key}, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.ids = []
        self.public_keys = list(access.ssh_public_keys)
        self.private_key = None
        for public_key in access.ssh_public_keys:
            uploaded = hcloud.SshKey(f"{name}-{key_suffix(public_key)}",
                                     name=f"{name}-{key_suffix(public_key)}",
                                     public_key=public_key, labels=labels, opts=child)
            self.ids.append(uploaded.id)
        self.ids += list(access.hcloud_ssh_key_names)
        if access.generates_ssh_key:
            pair = tls.PrivateKey(f"{name}-generated", algorithm="ED25519", opts=child)
            uploaded = hcloud.SshKey(f"{name}-generated", name=f"{name}-generated",
                                     public_key=pair.public_key_openssh, labels=labels,
                                     opts=child)
            self.ids.append(uploaded.id)
            self.public_keys.append(pair.public_key_openssh)
            self.private_key = pulumi.Output.secret(pair.private_key_openssh)
        self.register_outputs({"ids": self.ids, "publicKeys": self.public_keys})
