"""PrivateNetwork: the Hetzner network every server and the API load balancer join.

Creates:
- ``hcloud.Network`` ``<name>``: the stack's ``network.cidr``;
- ``hcloud.NetworkSubnet`` ``<name>-subnet``: one cloud subnet over the whole range, in the network
  zone of the stack's locations (a network lives in one zone; the config refuses mixed zones).

Addresses inside it follow ``address_plan.py``; the gateway is the range's first address.
"""

from __future__ import annotations

import pulumi
import pulumi_hcloud as hcloud


class PrivateNetwork(pulumi.ComponentResource):
    network: hcloud.Network
    subnet: hcloud.NetworkSubnet
    network_id: pulumi.Output[int]

    def __init__(self, name: str, *, cidr: str, network_zone: str, labels: dict[str, str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("k3s-hcloud:infrastructure:PrivateNetwork", name,
                         {"cidr": cidr, "networkZone": network_zone}, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.network = hcloud.Network(name, name=name, ip_range=cidr, labels=labels, opts=child)
        self.network_id = self.network.id.apply(int)
        self.subnet = hcloud.NetworkSubnet(f"{name}-subnet", network_id=self.network_id,
                                           type="cloud", network_zone=network_zone,
                                           ip_range=cidr, opts=child)
        self.register_outputs({"networkId": self.network.id, "subnetId": self.subnet.id})
