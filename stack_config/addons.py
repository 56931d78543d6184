"""``addons``: what runs in the cluster besides Cilium."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt

from stack_config.base import DnsLabel, Location, StrictModel
from stack_config.nodes import LoadBalancerType


class CloudControllerManager(StrictModel):
    """hcloud-cloud-controller-manager: node metadata, pod-network routes, load balancers."""

    enabled: bool = True
    version: str = "1.35.0"


class CsiDriver(StrictModel):
    """hcloud-csi: Hetzner volumes as PersistentVolumes."""

    enabled: bool = False
    version: str = "2.18.3"


class SystemUpgradeController(StrictModel):
    """Rolls ``k3s.version`` bumps through the cluster (servers one at a time, then agents)."""

    enabled: bool = False
    version: str = "v0.16.3"


class GatewayListener(StrictModel):
    name: DnsLabel
    port: PositiveInt
    protocol: Literal["HTTP", "HTTPS", "TLS", "TCP"] = "HTTP"
    hostname: str | None = None


class GatewayLoadBalancer(StrictModel):
    """hcloud-ccm annotations for the Hetzner LB in front of the Gateway's Service."""

    type: LoadBalancerType = "lb11"
    location: Location | None = None
    """Defaults to the top-level ``location``."""
    use_private_ip: bool = True


class DefaultGateway(StrictModel):
    """A ``Gateway`` of class ``cilium`` that gets a Hetzner load balancer through the CCM."""

    enabled: bool = False
    name: DnsLabel = "default"
    namespace: DnsLabel = "default"
    listeners: list[GatewayListener] = Field(
        default_factory=lambda: [GatewayListener(name="http", port=80, protocol="HTTP")])
    load_balancer: GatewayLoadBalancer = GatewayLoadBalancer()


class AddonsConfig(StrictModel):
    ccm: CloudControllerManager = CloudControllerManager()
    csi: CsiDriver = CsiDriver()
    system_upgrade_controller: SystemUpgradeController = SystemUpgradeController()
    gateway: DefaultGateway = DefaultGateway()
