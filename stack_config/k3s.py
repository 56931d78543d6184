"""``k3s``: the Kubernetes distribution's own settings, under k3s's own names where it has them."""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AnyUrl,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from stack_config.base import SECRET_KEYS_CONTEXT, StrictModel, text_rule
from stack_config.errors import KeyedValueError, KeyedValueErrors
from stack_config.k3s_flags import unknown_flag_problem
from stack_config.labels import kubelet_refuses_label
from upstream import k3s as upstream_k3s
from stack_config.etcd_snapshots import EtcdSnapshots
from stack_config.k3s_install import K3sInstall
from upstream.k3s import DEFAULT_VERSION, K3sVersion
from upstream.k3s_etcd_snapshots import SNAPSHOT_KEY_PREFIXES

# Keys of /etc/rancher/k3s/config.yaml the program owns; `serverConfig`/`agentConfig` may not set
# them, because a second value would silently fight the computed one.
MANAGED_K3S_KEYS = frozenset({
    "token", "token-file", "agent-token", "agent-token-file", "cluster-init", "server",
    "node-ip", "node-external-ip", "node-name", "tls-san", "flannel-backend",
    "disable-network-policy", "disable-kube-proxy", "disable", "disable-cloud-controller",
    "cluster-cidr", "service-cidr", "embedded-registry", "datastore-endpoint",
    "write-kubeconfig-mode", "secrets-encryption", "protect-kernel-defaults",
    # Where the bootstrap reads the server CA and the admin kubeconfig, and the file of files.
    "data-dir", "write-kubeconfig", "config",
})
# Flags the program also sets as lists: the user's values are appended (merge_extra).
APPENDED_K3S_KEYS = frozenset({"node-label", "node-taint", "kubelet-arg", "kube-apiserver-arg"})

# Go's time.ParseDuration syntax ("5m", "1h30m"), which k3s and the kubelet parse.
GoDuration = Annotated[str, text_rule(r"0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+",
                                      "a duration", "5m or 1h30m (Go duration syntax)")]
# Datastore schemes k3s (kine) accepts besides embedded etcd; anything else is read as a SQLite
# path, which cannot be shared between servers. Ref: docs.k3s.io/datastore
DATASTORE_SCHEMES = ("postgres", "postgresql", "mysql", "http", "https", "nats")

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

    @model_validator(mode="before")
    @classmethod
    def _no_credentials(cls, data: Any) -> Any:
        if isinstance(data, dict) and "auth" in data:
            raise KeyedValueError(
                "auth", "registry credentials are not supported: registries.yaml is written to "
                "every node and shown in the plan.", "give the cluster an imagePullSecret "
                "instead, or use a registry mirror that needs no credentials.")
        return data


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
    streaming_connection_idle_timeout: GoDuration = "5m"
    """kubelet ``streaming-connection-idle-timeout`` (a Go duration)."""


class K3sConfig(StrictModel):
    version: str = DEFAULT_VERSION
    """k3s release tag; the installer is pinned to it. Changing it upgrades nodes in place."""
    install: K3sInstall = K3sInstall()
    """Where the install script, the k3s binary and its images come from (upstream, a mirror,
    or staged on the node), and the script's SHA-256."""
    cluster_cidr: IPv4Network = IPv4Network(upstream_k3s.DEFAULT_CLUSTER_CIDR)
    """Pod range (k3s ``cluster-cidr``); must not overlap the network or the service range."""
    service_cidr: IPv4Network = IPv4Network(upstream_k3s.DEFAULT_SERVICE_CIDR)
    """Service range (k3s ``service-cidr``); must not overlap the network or the pod range."""
    disable: list[Component] = Field(default_factory=lambda: ["traefik", "servicelb"])
    """Packaged k3s components to leave out."""
    embedded_registry_mirror: EmbeddedRegistryMirror = EmbeddedRegistryMirror()
    """k3s's embedded peer-to-peer registry mirror (Spegel)."""
    registries: Registries = Registries()
    """``mirrors`` and ``configs`` exactly as in k3s's ``registries.yaml`` (credentials are
    refused)."""
    datastore_endpoint: str | None = None
    """External datastore (etcd/PostgreSQL/MySQL/NATS URL). Unset: embedded etcd. Treated as
    secret. Never empty: "" would read as "external" to one rule and "embedded" to another."""
    hardening: Hardening = Hardening()
    """CIS hardening from the k3s hardening guide."""
    etcd_snapshots: EtcdSnapshots = EtcdSnapshots()
    """Embedded etcd's snapshots, their S3 copy, and the snapshot before each risky change."""
    server_config: dict[str, Any] = Field(default_factory=dict)
    """Extra k3s server config.yaml keys (flag names without ``--``)."""
    agent_config: dict[str, Any] = Field(default_factory=dict)
    """Extra k3s agent config.yaml keys (flag names without ``--``)."""
    accept_unknown_flags: list[Annotated[str, text_rule(r"[a-z0-9][a-z0-9-]*", "a k3s flag "
                                                        "name", "etcd-s3-bucket-lookup-type")]] \
        = Field(default_factory=list)
    """k3s flags missing from the project's flag table (added by a newer k3s release), accepted
    in serverConfig/agentConfig as written; every other unknown key is refused."""

    @field_validator("version")
    @classmethod
    def _is_release_tag(cls, version: str) -> str:
        K3sVersion.parse(version)
        return version

    @field_validator("datastore_endpoint")
    @classmethod
    def _datastore_url(cls, endpoint: str | None) -> str | None:
        # The value usually holds a password: messages never repeat it.
        if endpoint is None:
            return None
        if not endpoint.strip():
            raise ValueError("is empty. Fix: remove k3s.datastoreEndpoint for embedded etcd, or "
                             "set the datastore URL (pulumi config set --secret --path "
                             "k3s.datastoreEndpoint <url>).")
        for part in endpoint.split(","):
            try:
                parsed = urlsplit(part.strip())
            except ValueError:
                parsed = None
            if parsed is None or parsed.scheme not in DATASTORE_SCHEMES or not parsed.netloc:
                raise ValueError(
                    "is not a datastore URL k3s can share between servers (k3s reads anything "
                    "else as a local SQLite path). Fix: write postgres://user:pass@host:5432/db, "
                    "mysql://user:pass@tcp(host:3306)/db, https://etcd-1:2379,https://etcd-2:2379 "
                    "or nats://host:4222.")
        return endpoint

    @model_validator(mode="after")
    def _extra_config_is_safe(self, info: ValidationInfo) -> "K3sConfig":
        secret_keys = (info.context or {}).get(SECRET_KEYS_CONTEXT, frozenset())
        problems: list[KeyedValueError] = []
        for field, key in (("server_config", "serverConfig"), ("agent_config", "agentConfig")):
            for written, value in getattr(self, field).items():
                problem = self._extra_key_problem(key, written, value, "k3s" in secret_keys)
                if problem:
                    problems.append(problem)
        if problems:
            raise KeyedValueErrors(problems)
        return self

    def _extra_key_problem(self, key: str, written: str, value: Any,
                           secret: bool) -> KeyedValueError | None:
        flag = upstream_k3s.flag_name(written)
        path = f"{key}.{written}"
        named = f"'{written}'" + (f" (k3s's `{flag}`)" if flag != written else "")
        if flag in MANAGED_K3S_KEYS:
            return KeyedValueError(path, f"{named} is computed by the program; a second value "
                                   "would silently fight it.",
                                   "remove it; use the dedicated k3s.* / cilium.* keys instead.")
        if flag in upstream_k3s.REMOVED_FLAGS:
            return KeyedValueError(path, f"{named} was removed from k3s, which ignores unknown "
                                   "config keys: the setting would do nothing.",
                                   f"remove it; {upstream_k3s.REMOVED_FLAGS[flag]}.")
        unknown = unknown_flag_problem(key, written, flag, named,
                                       frozenset(self.accept_unknown_flags))
        if unknown:
            return unknown
        if key == "serverConfig" and flag in upstream_k3s.CONTROL_PLANE_SWITCHES and value:
            reason = ("with k3s.datastoreEndpoint there is no embedded etcd to disable"
                      if flag == "disable-etcd" and self.datastore_endpoint is not None else
                      "serverConfig applies to every server, so no server would run it")
            return KeyedValueError(path, f"{named}: {reason}.", "remove it (split-role "
                                   "servers are not supported).")
        if isinstance(value, dict) or (isinstance(value, list)
                                       and any(isinstance(v, (dict, list)) for v in value)):
            return KeyedValueError(path, "k3s flags take text, numbers, switches or lists of "
                                   "them, not mappings.", "write the flag's value as k3s "
                                   "documents it (docs.k3s.io/cli/server).")
        if flag in upstream_k3s.SECRET_FLAGS and not secret:
            return KeyedValueError(path, f"{named} is a credential given in plain text; it would "
                                   "be stored and shown unencrypted.", "remove it from "
                                   f"Pulumi.<stack>.yaml and run: pulumi config set --secret "
                                   f"--path 'k3s.{path}' <value>")
        if flag == "node-label":
            labels = value if isinstance(value, list) else [value]
            refused = [str(label) for label in labels
                       if kubelet_refuses_label(str(label).split("=", 1)[0])]
            if refused:
                return KeyedValueError(path, f"the kubelet refuses to set {', '.join(refused)} "
                                       "itself and would not start.", "use another label "
                                       "namespace (e.g. node.kubernetes.io/role=...).")
        return None

    @model_validator(mode="after")
    def _datastore_password_is_secret(self, info: ValidationInfo) -> "K3sConfig":
        secret_keys = (info.context or {}).get(SECRET_KEYS_CONTEXT, frozenset())
        endpoint = self.datastore_endpoint or ""
        if "k3s" not in secret_keys and any(urlsplit(part.strip()).password
                                            for part in endpoint.split(",")):
            raise KeyedValueError(
                "datastoreEndpoint", "holds a password in plain text; it would be stored and "
                "shown unencrypted.", "remove it from Pulumi.<stack>.yaml and run: pulumi config "
                "set --secret --path 'k3s.datastoreEndpoint' <url>")
        return self

    @model_validator(mode="after")
    def _wildcard_mirror_exists(self) -> "K3sConfig":
        mirror = self.embedded_registry_mirror
        if mirror.enabled and ("*" in mirror.registries or "*" in self.registries.mirrors) \
                and not upstream_k3s.has_wildcard_mirror(self.parsed_version):
            first = ", ".join(str(v) for v in upstream_k3s.WILDCARD_MIRROR_MIN_BY_MINOR.values())
            raise KeyedValueError(
                "embeddedRegistryMirror.registries", f"k3s {self.version}'s embedded mirror has "
                f"no \"*\" (every registry) entry; it came with {first}.",
                "list the registries by name, or raise k3s.version.")
        return self

    @model_validator(mode="after")
    def _snapshots_through_their_own_key(self) -> "K3sConfig":
        # With k3s.etcdSnapshots set, a snapshot flag in serverConfig too would be a second owner
        # of one flag. (S3 keys in serverConfig given in plain text are refused as credentials
        # by _extra_config_is_safe; set with --secret they travel in the user drop-in.)
        if "etcd_snapshots" not in self.model_fields_set:
            return self
        keys = sorted(key for key in self.server_config
                      if upstream_k3s.flag_name(key).startswith(SNAPSHOT_KEY_PREFIXES))
        if keys:
            raise KeyedValueError(
                "serverConfig", f"sets {', '.join(keys)}, which k3s.etcdSnapshots owns.",
                "move them to k3s.etcdSnapshots (schedule, retention, compress, s3.*), setting "
                "the S3 keys with pulumi config set --secret --path.")
        return self

    @property
    def parsed_version(self) -> K3sVersion:
        return K3sVersion.parse(self.version)
