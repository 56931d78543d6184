"""``addons``: what runs in the cluster besides Cilium."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from stack_config.apisix import ApisixConfig
from stack_config.base import DnsLabel, Location, StrictModel, text_rule
from stack_config.errors import KeyedValueError
from stack_config.nodes import LoadBalancerType
from upstream.hetzner import CCM_CHART_VERSION, CSI_CHART_VERSION
from upstream.k3s import SYSTEM_UPGRADE_CONTROLLER_VERSION

ChartVersion = Annotated[str, text_rule(r"\d+\.\d+\.\d+", "a chart version", "1.35.0")]
ReleaseTag = Annotated[str, text_rule(r"v\d+\.\d+\.\d+", "a release tag", "v0.20.1")]
# RFC 1123 subdomain: what Kubernetes accepts as a Secret name.
SecretName = Annotated[str, text_rule(
    r"(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
    "a Kubernetes Secret name", "web-tls (lowercase DNS subdomain, at most 253 characters)")]
# Gateway API Hostname: optional leading wildcard label, lowercase DNS labels.
Hostname = Annotated[str, text_rule(
    r"(?=.{1,253}$)(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
    "a hostname", "app.example.com or *.example.com (lowercase, at most 253 characters)")]


class CloudControllerManager(StrictModel):
    """hcloud-cloud-controller-manager: node metadata, pod-network routes, load balancers."""

    enabled: bool = True
    """Install hcloud-cloud-controller-manager (Helm): node addresses, pod-network routes, load
    balancers for Services."""
    version: ChartVersion = CCM_CHART_VERSION
    """hcloud-cloud-controller-manager chart version."""


class CsiDriver(StrictModel):
    """hcloud-csi: Hetzner volumes as PersistentVolumes."""

    enabled: bool = False
    """Install hcloud-csi (Helm): Hetzner volumes as PersistentVolumes."""
    version: ChartVersion = CSI_CHART_VERSION
    """hcloud-csi chart version."""


class SystemUpgradeController(StrictModel):
    """Rolls ``k3s.version`` bumps through the cluster (servers one at a time, then agents)."""

    enabled: bool = False
    """Install system-upgrade-controller and the Plans that roll ``k3s.version`` through the
    cluster, drained."""
    version: ReleaseTag = SYSTEM_UPGRADE_CONTROLLER_VERSION
    """system-upgrade-controller release tag."""


class ListenerTls(StrictModel):
    """TLS of a listener, as Gateway API's ``GatewayTLSConfig``."""

    mode: Literal["Terminate", "Passthrough"] = "Terminate"
    """Terminate TLS at the Gateway (needs ``certificateSecrets``) or pass it through."""
    certificate_secrets: list[SecretName] = Field(default_factory=list)
    """Secrets (``kubernetes.io/tls``) in the Gateway's namespace; needed to terminate TLS."""


class GatewayListener(StrictModel):
    name: DnsLabel
    """Listener name, unique in the Gateway."""
    port: int = Field(ge=1, le=65535)
    """Port the load balancer and the Gateway listen on."""
    protocol: Literal["HTTP", "HTTPS", "TLS", "TCP"] = "HTTP"
    """Listener protocol; HTTPS and TLS need ``tls``."""
    hostname: Hostname | None = None
    """Hostname the listener matches (a leading ``*.`` wildcard is allowed); not for TCP."""
    tls: ListenerTls | None = None
    """TLS settings (Gateway API ``GatewayTLSConfig``); for HTTPS and TLS listeners only."""

    @model_validator(mode="after")
    def _tls_matches_protocol(self) -> "GatewayListener":
        # The same rules as the Gateway CRD's CEL validations on listeners (Gateway API v1.2+).
        if self.protocol in ("HTTP", "TCP") and self.tls is not None:
            raise KeyedValueError("tls", f"{self.protocol} listeners carry no TLS settings.",
                                  "remove tls, or use protocol HTTPS/TLS.")
        if self.protocol == "TCP" and self.hostname:
            raise KeyedValueError("hostname", "TCP listeners cannot match a hostname.",
                                  "remove hostname.")
        if self.protocol == "HTTPS":
            if self.tls is None or self.tls.mode != "Terminate" or not self.tls.certificate_secrets:
                raise KeyedValueError(
                    "tls", "HTTPS listeners terminate TLS and need a certificate.",
                    "set tls.certificateSecrets to the name of a kubernetes.io/tls Secret in the "
                    "Gateway's namespace (mode Terminate).")
        if self.protocol == "TLS":
            if self.tls is None:
                raise KeyedValueError("tls", "TLS listeners need a TLS mode.",
                                      "set tls.mode: Passthrough (or Terminate with "
                                      "certificateSecrets).")
            if self.tls.mode == "Terminate" and not self.tls.certificate_secrets:
                raise KeyedValueError("tls.certificateSecrets", "terminating TLS needs a "
                                      "certificate.", "name a kubernetes.io/tls Secret.")
        return self


class GatewayLoadBalancer(StrictModel):
    """hcloud-ccm annotations for the Hetzner LB in front of the Gateway's Service."""

    type: LoadBalancerType = "lb11"
    """Hetzner load balancer type."""
    location: Location | None = None
    """Defaults to the top-level ``location``."""
    use_private_ip: bool = True
    """The LB reaches nodes over the private network (no node needs a public interface)."""


class DefaultGateway(StrictModel):
    """A ``Gateway`` of class ``cilium`` that gets a Hetzner load balancer through the CCM."""

    enabled: bool = False
    """Create the Gateway; needs ``cilium.values.gatewayAPI.enabled`` and the CCM."""
    name: DnsLabel = "default"
    """Gateway name; the load balancer is named ``<clusterName>-<name>``."""
    namespace: DnsLabel = "default"
    """Namespace of the Gateway."""
    listeners: list[GatewayListener] = Field(
        default_factory=lambda: [GatewayListener(name="http", port=80, protocol="HTTP")],
        min_length=1)
    """The Gateway's listeners."""
    allowed_routes: Literal["Same", "All"] = "Same"
    """Namespaces whose routes may attach: the Gateway's own (``Same``) or every namespace."""
    load_balancer: GatewayLoadBalancer = GatewayLoadBalancer()
    """hcloud-ccm annotations of the Gateway's Hetzner load balancer."""

    @model_validator(mode="after")
    def _listeners_are_distinct(self) -> "DefaultGateway":
        names = [listener.name for listener in self.listeners]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise KeyedValueError("listeners", f"duplicate listener name(s) "
                                  f"{', '.join(duplicates)}.", "give every listener a unique name.")
        keys = [(item.port, item.protocol, item.hostname) for item in self.listeners]
        if len(set(keys)) != len(keys):
            raise KeyedValueError("listeners", "two listeners share port, protocol and hostname.",
                                  "make each combination of port, protocol and hostname unique.")
        return self


class AddonsConfig(StrictModel):
    ccm: CloudControllerManager = CloudControllerManager()
    """hcloud-cloud-controller-manager."""
    csi: CsiDriver = CsiDriver()
    """hcloud-csi."""
    system_upgrade_controller: SystemUpgradeController = SystemUpgradeController()
    """system-upgrade-controller with k3s upgrade Plans."""
    gateway: DefaultGateway = DefaultGateway()
    """A default Gateway with a Hetzner load balancer."""
    apisix: ApisixConfig = ApisixConfig()
    """Apache APISIX and its ingress controller (standalone, no etcd) behind a Hetzner load
    balancer."""
