"""k3s releases, the features that depend on them, and k3s facts the bootstrap relies on.

Ref: https://docs.k3s.io/installation/registry-mirror (embedded registry mirror availability)
Ref: https://docs.k3s.io/upgrades/automated (system-upgrade-controller and its k3s Plans)
Ref: https://docs.k3s.io/cli/server ("Critical Configuration Values")
Ref: https://docs.k3s.io/cli/token (token formats)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import total_ordering
from pathlib import Path
from typing import Any

# The default k3s release: the newest patch of the Kubernetes minor chosen by the rule in
# upstream/k3s_support.py (tests/test_k3s_support.py proves the minor on the facts). On 2026-11-30
# no minor is both tested by every supported Cilium line and alive (only 1.33 is tested by all
# three, and it reached end of life on 2026-06-28), so the rule falls back to the newest minor the
# default Cilium line (1.20: 1.33–1.36) tests and upstream still patches: 1.36.
# Checked 2026-11-30: v1.36.5+k3s1 is the newest 1.36 patch seen (nodes reporting it in public
# repositories; one audit notes v1.37.1+k3s1 out and no v1.36.6+k3s1). k3s's own release list
# could not be read here (the repository is over the mirror limit, the Go module proxy refuses it).
DEFAULT_VERSION = "v1.36.5+k3s1"

# The installer is fetched from the k3s project's own URL, pinned by INSTALL_K3S_VERSION (the
# installer then verifies the release binary against the release's sha256sum file).
INSTALL_SCRIPT_URL = "https://get.k3s.io"

# The supervisor and Kubernetes API listen on this port on every server.
API_PORT = 6443

# k3s runs a client-side load balancer for the API on every node at 127.0.0.1:6444; with
# kube-proxy gone, Cilium reaches the API through it (kube-hetzner and hetzner-k3s do the same).
# Ref: https://docs.k3s.io/architecture (agent load balancer)
# Ref: https://docs.cilium.io/en/stable/network/kubernetes/kubeproxy-free/ (k8sServiceHost/Port)
API_PROXY_HOST = "127.0.0.1"
API_PROXY_PORT = 6444

# The label k3s puts on every server node (value "true"); the taint that keeps workloads off
# servers, when a stack sets one, uses the same key.
# Ref: https://kubernetes.io/docs/reference/labels-annotations-taints/#node-role-kubernetes-io-control-plane
CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"

# The pod and Service ranges k3s uses when config.yaml leaves cluster-cidr/service-cidr out.
# Ref: https://docs.k3s.io/cli/server (--cluster-cidr, --service-cidr)
DEFAULT_CLUSTER_CIDR = "10.42.0.0/16"
DEFAULT_SERVICE_CIDR = "10.43.0.0/16"

# Server counts that keep an embedded-etcd quorum: odd, so a split never leaves two halves with
# equal votes, and at most five, since every member takes part in every write (k3s HA docs ask for
# an odd number of servers; etcd's FAQ advises against large clusters).
# Ref: https://docs.k3s.io/datastore/ha-embedded, https://etcd.io/docs/v3.5/faq/
EMBEDDED_ETCD_SERVER_COUNTS = (1, 3, 5)


def embedded_etcd_counts_text() -> str:
    """``1, 3 or 5``: the counts above, for messages."""
    *first, last = (str(count) for count in EMBEDDED_ETCD_SERVER_COUNTS)
    return f"{', '.join(first)} or {last}" if first else last

# systemd units the installer creates: `k3s` for `INSTALL_K3S_EXEC=server`, `k3s-agent` for agents.
SERVICE_BY_ROLE: dict[str, str] = {"server": "k3s", "agent": "k3s-agent"}

# config.yaml keys that must hold the same value on every server, or a joining server fails with
# "critical configuration value mismatch" (embedded etcd) or the cluster misbehaves (external
# datastore). `disable` only matters for `servicelb`, but the whole list is kept identical.
# `disable-kube-proxy` is not in k3s's list, but it must agree cluster-wide: Cilium replaces
# kube-proxy on every node, and one server still running it would program Services beside it.
CRITICAL_SERVER_KEYS = frozenset({
    "agent-token", "agent-token-file", "cluster-cidr", "cluster-dns", "cluster-domain",
    "disable-cloud-controller", "disable-helm-controller", "disable-network-policy", "disable",
    "egress-selector-mode", "embedded-registry", "flannel-backend", "flannel-external-ip",
    "flannel-ipv6-masq", "secrets-encryption", "secrets-encryption-provider", "service-cidr",
    "disable-kube-proxy",
})

# -- config.yaml keys ------------------------------------------------------------------------------
# k3s reads config.yaml keys as its CLI flags (pkg/configfilearg): a key may be a flag's short
# alias, and ``key+: value`` appends to a repeatable flag set earlier (config.yaml.d drop-ins). A key
# that is no flag of the command is not an error to k3s: the setting silently does nothing.
# The flags of the `server` and `agent` commands, with their aliases, are derived from k3s's
# pkg/cli/cmds by tools/k3s_flags.py into k3s_flags.json (its "source" says which files, and
# tests/test_k3s_flags.py regenerates it when the staged source is present).
_FLAG_TABLE = json.loads((Path(__file__).resolve().parent / "k3s_flags.json").read_text())
FLAG_TABLE_SOURCE: dict[str, Any] = _FLAG_TABLE["source"]
SERVER_FLAGS = frozenset(_FLAG_TABLE["server"])
AGENT_FLAGS = frozenset(_FLAG_TABLE["agent"])
FLAG_ALIASES: dict[str, str] = dict(_FLAG_TABLE["aliases"])
# Flags k3s removed: a config.yaml key k3s no longer knows is not an error to k3s, so the setting
# would silently do nothing. Ref: k3s-io/k3s#6574 ("Remove deprecated flags in v1.26"),
# docs.k3s.io/reference/flag-deprecation.
REMOVED_FLAGS: dict[str, str] = {
    "no-deploy": "use k3s.disable (k3s's `disable`)",
    "no-flannel": "Cilium is the CNI here; flannel is always off",
    "cluster-secret": "the program generates the cluster token",
}
# Keys whose value is a credential: given in plain stack config they would sit in config.yaml,
# in the plan and in Pulumi state in clear text.
# Ref: docs.k3s.io/cli/server (etcd-s3-*), docs.k3s.io/cli/agent (vpn-auth).
SECRET_FLAGS = frozenset({"etcd-s3-access-key", "etcd-s3-secret-key", "etcd-s3-session-token",
                          "vpn-auth", "token", "agent-token", "datastore-endpoint"})
# Server flags that switch off a part of the control plane. The program gives every server the
# same serverConfig, so any of them would leave the cluster without that part altogether (k3s's
# split-role servers need per-server config). Ref: docs.k3s.io/installation/server-roles
CONTROL_PLANE_SWITCHES = frozenset({"disable-etcd", "disable-apiserver",
                                    "disable-controller-manager", "disable-scheduler"})
# Pods get one block per node from cluster-cidr; kube-controller-manager's default block for IPv4
# is a /24 (--node-cidr-mask-size-ipv4). Ref: kubernetes.io/docs/reference/command-line-tools-
# reference/kube-controller-manager/
DEFAULT_NODE_CIDR_MASK = 24


def flag_name(config_key: str) -> str:
    """The flag a config.yaml key sets: ``t`` → ``token``, ``tls-san+`` → ``tls-san``."""
    key = config_key.strip()
    key = key[:-1] if key.endswith("+") else key
    return FLAG_ALIASES.get(key, key)


# Secure ("full") token: K10<sha256 of the cluster's server CA PEM>::<user>:<password>. Joiners
# holding it verify the server's CA before sending credentials; a bare password skips that check.
# Servers join as user `server`, agents as user `node` (the agent token's user).
SECURE_TOKEN_PREFIX = "K10"
TOKEN_USER_BY_ROLE: dict[str, str] = {"server": "server", "agent": "node"}

_VERSION = re.compile(r"^v(\d+)\.(\d+)\.(\d+)\+k3s(\d+)$")


@total_ordering
@dataclass(frozen=True)
class K3sVersion:
    """A k3s release tag such as ``v1.36.5+k3s1``, ordered by (major, minor, patch, k3s build)."""

    major: int
    minor: int
    patch: int
    build: int

    @classmethod
    def parse(cls, tag: str) -> "K3sVersion":
        match = _VERSION.fullmatch(tag)
        if not match:
            raise ValueError(f"{tag!r} is not a k3s release tag. Fix: write it like "
                             f"{DEFAULT_VERSION} (see github.com/k3s-io/k3s/releases).")
        return cls(*(int(part) for part in match.groups()))

    def __lt__(self, other: "K3sVersion") -> bool:
        return self._key() < other._key()

    def _key(self) -> tuple[int, int, int, int]:
        return (self.major, self.minor, self.patch, self.build)

    @property
    def kubernetes_minor(self) -> tuple[int, int]:
        return (self.major, self.minor)

    def __str__(self) -> str:
        return f"v{self.major}.{self.minor}.{self.patch}+k3s{self.build}"


# Embedded registry mirror (Spegel): first release of each minor line that has it. Minors after
# the last listed one have it from their first release; minors before the first do not have it.
EMBEDDED_REGISTRY_MIN_BY_MINOR: dict[tuple[int, int], K3sVersion] = {
    (1, 26): K3sVersion.parse("v1.26.13+k3s1"),
    (1, 27): K3sVersion.parse("v1.27.10+k3s1"),
    (1, 28): K3sVersion.parse("v1.28.6+k3s1"),
    (1, 29): K3sVersion.parse("v1.29.1+k3s1"),
}
# Generally available (no longer experimental) from these releases.
EMBEDDED_REGISTRY_GA_BY_MINOR: dict[tuple[int, int], K3sVersion] = {
    (1, 29): K3sVersion.parse("v1.29.12+k3s1"),
    (1, 30): K3sVersion.parse("v1.30.8+k3s1"),
    (1, 31): K3sVersion.parse("v1.31.4+k3s1"),
}


def has_embedded_registry(version: K3sVersion) -> bool:
    """True when this k3s release ships the embedded registry mirror (``embedded-registry``)."""
    first_minor = min(EMBEDDED_REGISTRY_MIN_BY_MINOR)
    last_minor = max(EMBEDDED_REGISTRY_MIN_BY_MINOR)
    if version.kubernetes_minor < first_minor:
        return False
    if version.kubernetes_minor > last_minor:
        return True
    return version >= EMBEDDED_REGISTRY_MIN_BY_MINOR[version.kubernetes_minor]


# The embedded mirror's "*" entry (mirror every registry) came later than the mirror itself:
# "Wildcard support is available as of the March 2024 releases".
# Ref: https://docs.k3s.io/installation/registry-mirror (Version Gate, "Enabling Registry Mirroring")
WILDCARD_MIRROR_MIN_BY_MINOR: dict[tuple[int, int], K3sVersion] = {
    (1, 26): K3sVersion.parse("v1.26.15+k3s1"),
    (1, 27): K3sVersion.parse("v1.27.12+k3s1"),
    (1, 28): K3sVersion.parse("v1.28.8+k3s1"),
    (1, 29): K3sVersion.parse("v1.29.3+k3s1"),
}


def has_wildcard_mirror(version: K3sVersion) -> bool:
    """True when this release's embedded mirror accepts the ``"*"`` registry entry."""
    if version.kubernetes_minor < min(WILDCARD_MIRROR_MIN_BY_MINOR):
        return False
    if version.kubernetes_minor > max(WILDCARD_MIRROR_MIN_BY_MINOR):
        return True
    return version >= WILDCARD_MIRROR_MIN_BY_MINOR[version.kubernetes_minor]


def embedded_registry_minimums() -> str:
    """Human-readable list of the first releases with the embedded registry mirror."""
    return ", ".join(str(v) for v in EMBEDDED_REGISTRY_MIN_BY_MINOR.values())


def embedded_registry_ga_releases() -> str:
    """Human-readable list of the releases from which the mirror is generally available."""
    return ", ".join(str(v) for v in EMBEDDED_REGISTRY_GA_BY_MINOR.values())


# -- automated upgrades ----------------------------------------------------------------------------
# The newest release tag of rancher/system-upgrade-controller (v0.20.1, tagged 2026-07-22; checked
# 2026-11-30 in a mirror of the repository). Its scripts/package-controller still publishes the
# two assets used below (crd.yaml, system-upgrade-controller.yaml).
SYSTEM_UPGRADE_CONTROLLER_VERSION = "v0.20.1"
SYSTEM_UPGRADE_NAMESPACE = "system-upgrade"
SYSTEM_UPGRADE_SERVICE_ACCOUNT = "system-upgrade"
# The image that replaces the k3s binary on a node; the controller tags it from Plan.spec.version.
K3S_UPGRADE_IMAGE = "rancher/k3s-upgrade"
_SUC_RELEASES = "https://github.com/rancher/system-upgrade-controller/releases/download"


def system_upgrade_controller_manifests(version: str) -> dict[str, str]:
    """Release assets to apply, by role: the Plan CRD first, then the controller itself."""
    return {"crd": f"{_SUC_RELEASES}/{version}/crd.yaml",
            "controller": f"{_SUC_RELEASES}/{version}/system-upgrade-controller.yaml"}
