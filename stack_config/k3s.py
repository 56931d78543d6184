"""``k3s``: the Kubernetes distribution's own settings, under k3s's own names where it has them."""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import Any, Literal

from pydantic import AnyUrl, BaseModel, ConfigDict, Field, field_validator, model_validator

from stack_config.base import StrictModel
from stack_config.errors import KeyedValueError
from upstream.k3s import DEFAULT_VERSION, K3sVersion

# Keys of /etc/rancher/k3s/config.yaml the program owns; `serverConfig`/`agentConfig` may not set
# them, because a second value would silently fight the computed one.
MANAGED_K3S_KEYS = frozenset({
    "token", "token-file", "agent-token", "agent-token-file", "cluster-init", "server",
    "node-ip", "node-external-ip", "node-name", "tls-san", "flannel-backend",
    "disable-network-policy", "disable-kube-proxy", "disable", "disable-cloud-controller",
    "cluster-cidr", "service-cidr", "embedded-registry", "datastore-endpoint",
    "write-kubeconfig-mode", "secrets-encryption", "protect-kernel-defaults",
})

Component = Literal["traefik", "servicelb", "metrics-server", "local-storage"]


class EmbeddedRegistryMirror(StrictModel):
    """k3s's embedded peer-to-peer registry mirror (Spegel)."""

    enabled: bool = False
    """Turn on k3s's embedded registry mirror; needs a k3s release that ships it."""
    registries: list[str] = Field(default_factory=lambda: ["docker.io", "ghcr.io", "quay.io",
                                                           "registry.k8s.io"])
    """Registries to mirror between nodes (each gets a ``mirrors:`` entry)."""


class RegistryFileModel(BaseModel):
    """registries.yaml keeps k3s's own key names (``insecure_skip_verify``), so no camelCase."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class RegistryMirror(RegistryFileModel):
    endpoint: list[AnyUrl] = Field(default_factory=list)
    rewrite: dict[str, str] = Field(default_factory=dict)


class RegistryTls(RegistryFileModel):
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    insecure_skip_verify: bool = False


class RegistryConfig(RegistryFileModel):
    tls: RegistryTls | None = None


class Registries(RegistryFileModel):
    """Same shape as k3s's ``/etc/rancher/k3s/registries.yaml``.

    Registry credentials (``configs.<host>.auth``) are refused: stack config values are plain
    text unless marked secure, and registries.yaml would carry them to every node.
    """

    mirrors: dict[str, RegistryMirror] = Field(default_factory=dict)
    configs: dict[str, RegistryConfig] = Field(default_factory=dict)


class Hardening(StrictModel):
    """CIS hardening from the k3s hardening guide (docs.k3s.io/security/hardening-guide)."""

    enabled: bool = False
    """Apply the k3s CIS hardening guide: kernel sysctls with ``protect-kernel-defaults``,
    secrets encryption, PodSecurity admission, an audit log and a streaming idle timeout."""
    pod_security_level: Literal["privileged", "baseline", "restricted"] = "restricted"
    """Cluster-wide PodSecurity admission default (kube-system is exempt)."""
    audit_log: bool = True
    """Write the API server audit log on servers, with rotation."""
    streaming_connection_idle_timeout: str = "5m"
    """kubelet ``streaming-connection-idle-timeout`` (a Go duration)."""


class K3sConfig(StrictModel):
    version: str = DEFAULT_VERSION
    """k3s release tag; the installer is pinned to it. Changing it upgrades nodes in place."""
    cluster_cidr: IPv4Network = IPv4Network("10.42.0.0/16")
    """Pod range (k3s ``cluster-cidr``); must not overlap the network or the service range."""
    service_cidr: IPv4Network = IPv4Network("10.43.0.0/16")
    """Service range (k3s ``service-cidr``); must not overlap the network or the pod range."""
    disable: list[Component] = Field(default_factory=lambda: ["traefik", "servicelb"])
    """Packaged k3s components to leave out."""
    embedded_registry_mirror: EmbeddedRegistryMirror = EmbeddedRegistryMirror()
    """k3s's embedded peer-to-peer registry mirror (Spegel)."""
    registries: Registries = Registries()
    """``mirrors`` and ``configs`` exactly as in k3s's ``registries.yaml`` (credentials are
    refused)."""
    datastore_endpoint: str | None = None
    """External datastore (etcd/PostgreSQL/MySQL URL). Unset: embedded etcd. Treated as secret."""
    hardening: Hardening = Hardening()
    """CIS hardening from the k3s hardening guide."""
    server_config: dict[str, Any] = Field(default_factory=dict)
    """Extra k3s server config.yaml keys (flag names without ``--``)."""
    agent_config: dict[str, Any] = Field(default_factory=dict)
    """Extra k3s agent config.yaml keys (flag names without ``--``)."""

    @field_validator("version")
    @classmethod
    def _is_release_tag(cls, version: str) -> str:
        K3sVersion.parse(version)
        return version

    @model_validator(mode="after")
    def _no_managed_keys(self) -> "K3sConfig":
        for field, key in (("server_config", "serverConfig"), ("agent_config", "agentConfig")):
            clash = sorted(MANAGED_K3S_KEYS & set(getattr(self, field)))
            if clash:
                raise KeyedValueError(
                    key, f"sets {', '.join(clash)}, which the program computes.",
                    "remove them; use the dedicated k3s.* / cilium.* keys instead.")
        return self

    @property
    def parsed_version(self) -> K3sVersion:
        return K3sVersion.parse(self.version)
