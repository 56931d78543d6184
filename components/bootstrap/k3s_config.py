"""The k3s ``config.yaml`` of every node: typed data, serialised as safe YAML.

A node's config is assembled from three typed parts, so the keys that must agree across servers
can only come from one place:

- :class:`ClusterWideServerConfig` — the keys k3s requires to be identical on every server
  (``upstream.k3s.CRITICAL_SERVER_KEYS``); built once per cluster by :func:`cluster_wide_config`;
- :class:`NodeConfig` — what every node (server or agent) says about itself;
- :class:`ServerOnlyConfig` — per-server keys (``cluster-init``, ``tls-san``, apiserver args).

Then ``k3s.serverConfig`` / ``k3s.agentConfig`` are merged in (keys the program computes are
refused by the config model; repeatable flags are appended). Flags that are off are omitted rather
than written as ``false``: absence is k3s's default, and it keeps configs valid for releases that
do not know a flag.

Ref: https://docs.k3s.io/installation/configuration (flag names without ``--``; lists repeat)
Ref: https://docs.k3s.io/cli/server ("Critical Configuration Values")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from typing import Any, Literal

from components import yaml_text
from pydantic import BaseModel, ConfigDict, Field

from components.bootstrap import etcd_snapshots, hardening, paths
from components.handles import Role
from stack_config import ClusterSpec
from stack_config.k3s import APPENDED_K3S_KEYS
from upstream import k3s as upstream_k3s


def _flag_name(field_name: str) -> str:
    return field_name.replace("_", "-")


class FlagModel(BaseModel):
    """Fields are k3s flags; ``None`` and empty lists mean "not set"."""

    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=_flag_name,
                              populate_by_name=True)

    def flags(self) -> dict[str, Any]:
        dumped = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        return {key: value for key, value in dumped.items() if value != []}


class ClusterWideServerConfig(FlagModel):
    """Identical on every server of the cluster."""

    agent_token_file: str = paths.AGENT_TOKEN_FILE
    # Cilium is the CNI: no flannel, no k3s network-policy controller.
    flannel_backend: Literal["none"] = "none"
    disable_network_policy: Literal[True] = True
    disable_kube_proxy: Literal[True] | None = None
    disable: list[str] = Field(default_factory=list)
    disable_cloud_controller: Literal[True] | None = None
    cluster_cidr: IPv4Network
    service_cidr: IPv4Network
    embedded_registry: Literal[True] | None = None
    secrets_encryption: Literal[True] | None = None


class NodeConfig(FlagModel):
    """What every node, server or agent, sets for itself."""

    # None for nodes the cluster-autoscaler creates: the name is the hostname Hetzner gives the
    # server, and the address is read from the private interface at boot (join_user_data.py).
    node_name: str | None = None
    node_ip: IPv4Address | None = None
    token_file: str
    server: str | None = None
    node_label: list[str] = Field(default_factory=list)
    node_taint: list[str] = Field(default_factory=list)
    kubelet_arg: list[str] = Field(default_factory=list)
    protect_kernel_defaults: Literal[True] | None = None


class ServerOnlyConfig(FlagModel):
    cluster_init: Literal[True] | None = None
    tls_san: list[str] = Field(default_factory=list)
    # Never 644: the admin kubeconfig must stay root-only (k3s hardening guide).
    write_kubeconfig_mode: Literal["0600"] = "0600"
    kube_apiserver_arg: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class NodePlace:
    """A node's place in the cluster, as the renderer needs it (plain values only)."""

    key: str | None
    """None: k3s uses the hostname."""
    role: Role
    private_ip: str | None
    """None: set at boot by a ``config.yaml.d`` drop-in."""
    first_server: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: Sequence[str] = ()


def kube_proxy_replaced(spec: ClusterSpec) -> bool:
    """True when Cilium replaces kube-proxy; k3s must then run without it (and vice versa).

    Cilium's chart takes ``kubeProxyReplacement`` as "true"/"false"; the program's default is true.
    """
    value = spec.cilium.value("kubeProxyReplacement", True)
    return value is True or (isinstance(value, str) and value.lower() == "true")


def cluster_wide_config(spec: ClusterSpec) -> ClusterWideServerConfig:
    return ClusterWideServerConfig(
        disable_kube_proxy=True if kube_proxy_replaced(spec) else None,
        disable=list(spec.k3s.disable),
        disable_cloud_controller=True if spec.addons.ccm.enabled else None,
        cluster_cidr=spec.k3s.cluster_cidr,
        service_cidr=spec.k3s.service_cidr,
        embedded_registry=True if spec.k3s.embedded_registry_mirror.enabled else None,
        secrets_encryption=True if spec.k3s.hardening.enabled else None,
    )


def kubelet_args(spec: ClusterSpec) -> list[str]:
    args = []
    if spec.addons.ccm.enabled:
        # With k3s's cloud controller disabled, kubelets must wait for hcloud-ccm to initialise
        # them. Ref: domain notes §4; https://docs.k3s.io/networking/networking-services
        args.append("cloud-provider=external")
    return args + hardening.kubelet_args(spec.k3s.hardening)


def render_config(spec: ClusterSpec, place: NodePlace, *, join_url: str | None,
                  tls_sans: Sequence[str] = ()) -> dict[str, Any]:
    """The full config.yaml mapping of one node.

    ``join_url`` is where joiners register (``https://<join address>:6443``); the first server
    and, with an external datastore, every server initialise from the datastore instead.
    """
    is_server = place.role == "server"
    joins_through_supervisor = not (is_server and (place.first_server
                                                   or not spec.uses_embedded_etcd))
    node = NodeConfig(
        node_name=place.key,
        node_ip=IPv4Address(place.private_ip) if place.private_ip else None,
        token_file=paths.CLUSTER_TOKEN_FILE if is_server else paths.AGENT_TOKEN_FILE,
        server=join_url if joins_through_supervisor else None,
        node_label=[f"{key}={value}" for key, value in sorted(place.labels.items())],
        node_taint=list(place.taints),
        kubelet_arg=kubelet_args(spec),
        protect_kernel_defaults=True if spec.k3s.hardening.enabled else None,
    )
    config = node.flags()
    if is_server:
        server = ServerOnlyConfig(
            cluster_init=True if place.first_server and spec.uses_embedded_etcd else None,
            tls_san=_unique(tls_sans),
            kube_apiserver_arg=hardening.apiserver_args(spec.k3s.hardening),
        )
        config.update(cluster_wide_config(spec).flags())
        config.update(server.flags())
        config.update(etcd_snapshots.server_flags(spec))
    if spec.is_secret("k3s"):
        return config  # the user's keys travel in the secret drop-in (user_secret_dropin)
    return merge_extra(config, user_config(spec, place.role))


def user_config(spec: ClusterSpec, role: Role) -> Mapping[str, Any]:
    return spec.k3s.server_config if role == "server" else spec.k3s.agent_config


def user_secret_dropin(spec: ClusterSpec, role: Role) -> str | None:
    """The user's serverConfig/agentConfig as a secret config.yaml.d drop-in, or None.

    Used when the CLI marks ``k3s`` secret: the program cannot tell which of its values was set
    with ``--secret``, so every user key stays out of config.yaml (which the plan shows) and
    travels with the staged secrets. k3s reads drop-ins after config.yaml; a later file replaces
    a key, and ``key+`` appends to it, which keeps the program's own list values.
    Ref: https://docs.k3s.io/installation/configuration#multiple-config-files
    """
    extra = user_config(spec, role)
    if not spec.is_secret("k3s") or not extra:
        return None
    dropin = {}
    for key, value in extra.items():
        appended = upstream_k3s.flag_name(key) in APPENDED_K3S_KEYS and not key.endswith("+")
        dropin[f"{key}+" if appended else key] = value
    return config_yaml(dropin)


# k3s applies these only when a node registers; on a running node the metadata step sets them.
REGISTRATION_ONLY_KEYS = ("node-label", "node-taint")


def restart_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """config.yaml: everything k3s restarts for (the registration-only keys go elsewhere)."""
    return {key: value for key, value in config.items() if key not in REGISTRATION_ONLY_KEYS}


def registration_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The registration drop-in (``paths.REGISTRATION_DROPIN``): labels and taints."""
    return {key: config[key] for key in REGISTRATION_ONLY_KEYS if key in config}


def merge_extra(config: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Add the user's extra keys; a repeatable flag the program also sets gets both values."""
    merged = dict(config)
    for key, value in extra.items():
        if key in merged and isinstance(merged[key], list):
            merged[key] = merged[key] + (list(value) if isinstance(value, list) else [value])
        elif key in merged:
            # The config model refuses managed keys; reaching this is a program bug.
            raise ValueError(f"k3s config key '{key}' is computed by the program and set by the user")
        else:
            merged[key] = value
    return merged


def config_yaml(config: Mapping[str, Any]) -> str:
    return yaml_text.dump(dict(config), sort_keys=True)


def _unique(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(value for value in values if value))


def join_url(address: str) -> str:
    return f"https://{address}:{upstream_k3s.API_PORT}"
