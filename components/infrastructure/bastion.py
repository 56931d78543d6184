"""Bastion: the SSH jump host and, in private mode, the NAT gateway of the private network.

The only server with a public interface in private mode. Hardening (see ``cloud_init.py`` and
``files/bastion.nft``): key-only root login, local forwarding only (what ``ssh -J`` needs),
MaxAuthTries 3, an nftables per-source rate limit on new SSH connections, nothing else accepted on
its own interfaces, and forwarding only from the private network outwards (masqueraded). IP
forwarding is switched on only in private mode, persistently through ``sysctl.d``; the ruleset is
loaded at every boot by its own systemd unit.

Creates:
- ``tls.PrivateKey`` ``<name>-host-key`` and ``hcloud.Server`` ``<name>`` (at the plan's bastion
  address, behind the bastion firewall);
- in private mode, ``hcloud.NetworkRoute`` ``<name>-egress``: 0.0.0.0/0 → the bastion's private IP,
  so the network's gateway sends the nodes' internet traffic to the NAT.
"""

from __future__ import annotations

import pulumi
import pulumi_hcloud as hcloud

from components.infrastructure.cloud_init import HostKey, bastion_user_data
from components.infrastructure.server import (
    ServerAttachments,
    ServerShape,
    create_cluster_server,
    server_labels,
)
from cluster_plan.bastion_admission import BASTION_ADMISSION
from stack_config import ClusterSpec
from upstream.hetzner import is_ubuntu_image

EGRESS_DESTINATION = "0.0.0.0/0"


class Bastion(pulumi.ComponentResource):
    server: hcloud.Server
    public_ipv4: pulumi.Output[str]
    private_ip: str
    host_public_key: pulumi.Output[str]
    egress_route: hcloud.NetworkRoute | None

    def __init__(self, name: str, spec: ClusterSpec, attachments: ServerAttachments,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("k3s-hcloud:infrastructure:Bastion", name,
                         {"natGateway": spec.network.private_only}, opts)
        plan = spec.address_plan
        self.private_ip = plan.bastion
        config = spec.bastion
        shape = ServerShape(
            key=name, server_type=config.server_type, image=config.image,
            location=spec.bastion_location, private_ip=plan.bastion, public=True,
            labels=server_labels(spec.cluster_name, "bastion", "bastion", config.server_type))
        nat = spec.network.private_only
        network = str(spec.network.cidr)
        ubuntu = is_ubuntu_image(config.image)

        def user_data(host_key: HostKey) -> str:
            return bastion_user_data(host_key, ubuntu=ubuntu, private_network=network, nat=nat,
                                     admission=BASTION_ADMISSION)

        built = create_cluster_server(shape, attachments, user_data, parent=self)
        self.server = built.server
        self.public_ipv4 = built.server.ipv4_address
        self.host_public_key = built.host_public_key
        self.egress_route = None
        if nat:
            self.egress_route = hcloud.NetworkRoute(
                f"{name}-egress", network_id=attachments.network_id,
                destination=EGRESS_DESTINATION, gateway=plan.bastion,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[built.server]))
        self.register_outputs({"publicIpv4": self.public_ipv4, "privateIp": self.private_ip,
                               "hostPublicKey": self.host_public_key})
