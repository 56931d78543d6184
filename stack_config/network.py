"""``network``, ``access`` and ``bastion``: how the cluster is reached and how nodes reach out."""

from __future__ import annotations

import base64
from ipaddress import IPv4Network
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, StringConstraints, field_validator, model_validator

from cluster_plan.address_plan import AddressPlanError, check_network_size
from stack_config.base import (
    DEFAULT_IMAGE, Cidr, Image, Location, ServerType, StackReferenceName, StrictModel)
from upstream.k3s import API_PORT
from stack_config.errors import KeyedValueError, KeyedValueErrors

HcloudName = Annotated[str, StringConstraints(min_length=1, max_length=128)]

_SSH_KEY_TYPES = ("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                  "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com")


class ExistingNetwork(StrictModel):
    """``network.existing``: join the Hetzner network another stack created instead of making one.

    Its facts (id, range, that stack's node range) come from that stack's ``network`` output
    through a ``StackReference``, so overlaps are refused before anything is built.
    """

    stack: StackReferenceName
    """The stack that created the network (``stack``, ``project/stack`` or
    ``org/project/stack``); it must be deployed first, in the same Hetzner project."""


class NetworkConfig(StrictModel):
    """The Hetzner private network every node joins."""

    cidr: IPv4Network = IPv4Network("10.0.0.0/16")
    """Private (RFC 1918) range of this cluster's subnet, large enough for the address plan;
    every node address comes from it (see docs/infrastructure.md, "Address plan"). With
    ``existing``: this cluster's subnet inside the other stack's network."""
    ip_range: IPv4Network | None = None
    """The whole Hetzner network's range; defaults to ``cidr``. Set it wider than ``cidr`` to
    leave room for other stacks' subnets (they join with ``network.existing``)."""
    existing: ExistingNetwork | None = None
    """Join the network of another stack (e.g. a Cluster Mesh peer) instead of creating one."""
    private_only: bool = False
    """Nodes get no public IPs and reach the internet through the bastion's NAT."""

    @model_validator(mode="after")
    def _range_holds_the_subnet(self) -> "NetworkConfig":
        if self.ip_range is None:
            return self
        if self.existing is not None:
            raise KeyedValueError(
                "ipRange", "the network belongs to the stack named in network.existing; its "
                "range is set there.", "remove network.ipRange here (set it on that stack).")
        if not self.ip_range.is_private:
            raise KeyedValueError("ipRange", f"{self.ip_range} is not a private (RFC 1918) "
                                  "range.", "use e.g. 10.0.0.0/12.")
        if not self.ip_range.supernet_of(self.cidr):
            raise KeyedValueError("ipRange", f"{self.ip_range} does not contain this "
                                  f"cluster's subnet network.cidr ({self.cidr}).",
                                  "use a range containing network.cidr.")
        return self

    @model_validator(mode="after")
    def _existing_network_is_not_private_only(self) -> "NetworkConfig":
        # Private mode sends the nodes' internet traffic through a 0.0.0.0/0 route to this
        # stack's bastion; a Hetzner route applies to the whole network, so two stacks in one
        # network would fight over it.
        if self.existing is not None and self.private_only:
            raise KeyedValueError(
                "privateOnly", "a cluster in another stack's network cannot be private-only: "
                "its NAT route (0.0.0.0/0 via its bastion) would apply to the whole shared "
                "network.", "set network.privateOnly: false, or give this stack its own network "
                "(remove network.existing).")
        return self

    @property
    def network_range(self) -> IPv4Network:
        """The Hetzner network's range when this stack creates it."""
        return self.ip_range or self.cidr

    @field_validator("cidr")
    @classmethod
    def _private_and_big_enough(cls, cidr: IPv4Network) -> IPv4Network:
        if not cidr.is_private:
            raise ValueError(f"{cidr} is not a private (RFC 1918) range. Fix: use e.g. 10.0.0.0/16.")
        try:
            check_network_size(cidr)
        except AddressPlanError as error:
            raise ValueError(f"{error.message} Fix: {error.fix}") from None
        return cidr


class AccessConfig(StrictModel):
    """Who may reach SSH and the Kubernetes API from the internet. Empty lists mean closed."""

    ssh_allowed_cidrs: list[Cidr] = Field(default_factory=list)
    """Who may reach SSH (tcp 22): the bastion, and the nodes too unless
    ``network.privateOnly``."""
    api_allowed_cidrs: list[Cidr] = Field(default_factory=list)
    """Who may reach the Kubernetes API (tcp 6443) on servers with a public interface. Does not
    cover a public API load balancer: Hetzner firewalls never apply to load balancers."""
    icmp_allowed_cidrs: list[Cidr] = Field(default_factory=lambda: ["0.0.0.0/0", "::/0"])
    """Who may ping servers with a public interface. Nothing listens on ICMP; empty closes it."""
    ssh_public_keys: list[str] = Field(default_factory=list)
    """OpenSSH public keys for root. Empty (and no ``hcloudSshKeyNames``): the program generates
    an ed25519 pair (secret)."""
    hcloud_ssh_key_names: list[HcloudName] = Field(default_factory=list)
    """Names of SSH keys already uploaded to the Hetzner project. Hetzner refuses a second upload
    of the same public key in one project, so a key used by another stack goes here."""

    kubernetes_api_server: str | None = None
    """URL the Pulumi Kubernetes provider uses instead of the kubeconfig's address, for a
    ``pulumi up`` host that cannot reach the API directly (private API): e.g. an SSH tunnel
    through the bastion, ``https://127.0.0.1:6443`` (k3s's certificate covers 127.0.0.1)."""

    @field_validator("kubernetes_api_server")
    @classmethod
    def _https_url(cls, url: str | None) -> str | None:
        if url is not None and not _is_api_server_url(url):
            raise ValueError(f"{url!r} is not an API server URL. Fix: write it like "
                             f"https://127.0.0.1:{API_PORT} (scheme, host and port, no path).")
        return url

    @field_validator("ssh_public_keys")
    @classmethod
    def _without_surrounding_space(cls, keys: list[str]) -> list[str]:
        return [key.strip() for key in keys]

    @model_validator(mode="after")
    def _ssh_keys_are_openssh_and_distinct(self) -> "AccessConfig":
        problems: list[KeyedValueError] = []
        seen: dict[tuple[str, str], int] = {}
        for index, key in enumerate(self.ssh_public_keys):
            key_path = f"sshPublicKeys[{index}]"
            parts = key.split()
            if len(parts) < 2 or parts[0] not in _SSH_KEY_TYPES or not _is_base64(parts[1]):
                problems.append(KeyedValueError(
                    key_path, "is not an OpenSSH public key.",
                    "paste the whole line of e.g. ~/.ssh/id_ed25519.pub ('ssh-ed25519 AAAA…')."))
                continue
            identity = (parts[0], parts[1])
            if identity in seen:
                # Both entries would become one Hetzner SSH key: Hetzner refuses a second upload
                # of the same public key, and the resources would share one name.
                problems.append(KeyedValueError(
                    key_path, f"is the same key as sshPublicKeys[{seen[identity]}].",
                    "list each public key once."))
            seen.setdefault(identity, index)
        names = self.hcloud_ssh_key_names
        for index, name in enumerate(names):
            if name in names[:index]:
                problems.append(KeyedValueError(f"hcloudSshKeyNames[{index}]",
                                                f"'{name}' is listed twice.", "list it once."))
        if problems:
            raise KeyedValueErrors(problems)
        return self

    @property
    def generates_ssh_key(self) -> bool:
        """True when the user gave no key: the program makes an ed25519 pair and keeps it secret."""
        return not self.ssh_public_keys and not self.hcloud_ssh_key_names


def _is_api_server_url(url: str) -> bool:
    try:
        parsed = urlsplit(url)
        port = parsed.port
    except ValueError:
        return False
    return (parsed.scheme == "https" and bool(parsed.hostname) and port is not None
            and 0 < port < 65536 and parsed.path in ("", "/") and not parsed.query
            and not parsed.fragment and not parsed.username and url == url.strip())


def _is_base64(text: str) -> bool:
    try:
        return bool(base64.b64decode(text, validate=True))
    except ValueError:
        return False


class BastionConfig(StrictModel):
    """The jump host and NAT gateway for private-only clusters."""

    enabled: bool = False
    """Create the bastion: SSH jump host, and in private mode the NAT gateway of the network."""
    server_type: ServerType = "cx23"
    """Hetzner server type of the bastion."""
    image: Image = DEFAULT_IMAGE
    """Hetzner image of the bastion."""
    location: Location | None = None
    """Defaults to the top-level ``location``."""
