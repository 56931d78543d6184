"""``k3s``: the Kubernetes distribution's own settings, under k3s's own names where it has them."""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import Any, Literal

from pydantic import AnyUrl, BaseModel, ConfigDict, Field, field_validator, model_validator

from stack_config.base import StrictModel
from stack_config.errors import KeyedValueError
from stack_config.etcd_snapshots import EtcdSnapshots
from upstream.k3s import DEFAULT_VERSION, K3sVersion
from upstream.k3s_etcd_snapshots import SECRET_FLAGS, SNAPSHOT_KEY_PREFIXES

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
    pod_security_level: Literal["privileged", "baseline", "restricted"] = "restricted"
    """Cluster-wide PodSecurity admission default (kube-system is exempt)."""
    audit_log: bool = True
    streaming_connection_idle_timeout: str = "5m"


class K3sConfig(StrictModel):
    version: str = DEFAULT_VERSION
    cluster_cidr: IPv4Network = IPv4Network("10.42.0.0/16")
    service_cidr: IPv4Network = IPv4Network("10.43.0.0/16")
    disable: list[Component] = Field(default_factory=lambda: ["traefik", "servicelb"])
    embedded_registry_mirror: EmbeddedRegistryMirror = EmbeddedRegistryMirror()
    registries: Registries = Registries()
    datastore_endpoint: str | None = None
    """External datastore (etcd/PostgreSQL/MySQL URL). Unset: embedded etcd. Treated as secret."""
    hardening: Hardening = Hardening()
    etcd_snapshots: EtcdSnapshots = EtcdSnapshots()
    """Embedded etcd's snapshots, their S3 copy, and the snapshot before each risky change."""
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

    @model_validator(mode="after")
    def _snapshots_through_their_own_key(self) -> "K3sConfig":
        # The S3 keys would sit in plain config.yaml; with k3s.etcdSnapshots set, two owners of
        # one flag would fight.
        keys = sorted(key for key in self.server_config if key.rstrip("+") in SECRET_FLAGS or (
            "etcd_snapshots" in self.model_fields_set and key.startswith(SNAPSHOT_KEY_PREFIXES)))
        if keys:
            raise KeyedValueError(
                "serverConfig", f"sets {', '.join(keys)}, which k3s.etcdSnapshots owns (and S3 "
                "keys there would reach config.yaml in plain text).",
                "move them to k3s.etcdSnapshots (schedule, retention, compress, s3.*), setting "
                "the S3 keys with pulumi config set --secret --path.")
        return self

    @property
    def parsed_version(self) -> K3sVersion:
        return K3sVersion.parse(self.version)
