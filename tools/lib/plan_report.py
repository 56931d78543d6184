"""What a reviewer wants to read from a plan: the cluster's shape, not resource counts.

Derived from the recorded plan alone (what ``pulumi preview`` would register), never from the
stack file, so the summary shows what the program really does with the config:
- node pools (control plane and each worker pool): server type, locations, count, public or
  private, Kubernetes node labels and taints (from each node's k3s ``config.yaml``);
- the bastion, load balancers (the API LB; a Gateway's LB, which the cloud controller creates
  from the Gateway's annotations), the private network;
- the firewall table as Hetzner will hold it;
- the Kubernetes API endpoint;
- the Cilium features the Helm values switch on.

The offline engine invents public addresses, ids and keys (see ``tools/lib/mock_provider.py``):
``STAND_IN_NOTICE`` says so wherever such values are printed. Private addresses come from the
address plan and are the real ones. Pure: no Pulumi calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from tools.lib.engine import Plan, RecordedResource, mask_secrets

SERVER = "hcloud:index/server:Server"
FIREWALL = "hcloud:index/firewall:Firewall"
LOAD_BALANCER = "hcloud:index/loadBalancer:LoadBalancer"
LOAD_BALANCER_SERVICE = "hcloud:index/loadBalancerService:LoadBalancerService"
LOAD_BALANCER_NETWORK = "hcloud:index/loadBalancerNetwork:LoadBalancerNetwork"
NETWORK = "hcloud:index/network:Network"
SUBNET = "hcloud:index/networkSubnet:NetworkSubnet"
K3S_NODE = "k3s-hcloud:bootstrap:K3sNode"
K3S_BOOTSTRAP = "k3s-hcloud:bootstrap:K3sBootstrap"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
AUTOSCALER_NODES_FLAG = "--nodes="
CONTROL_PLANE_POOL = "control-plane"
BASTION_ROLE = "bastion"
CCM_LB_ANNOTATION = "load-balancer.hetzner.cloud/"

STAND_IN_NOTICE = (
    "Offline plan: public IP addresses (198.18.0.0/15, 2001:db8::/32), resource ids, SSH host "
    "keys and certificates shown here are stand-ins invented by the mock engine; the real "
    "values exist only after `pulumi up`. Private addresses come from the address plan and are "
    "the ones the cluster will use.")


@dataclass(frozen=True)
class PoolSummary:
    name: str
    role: str
    """``server`` (control plane) or ``agent`` (worker pool)."""
    server_type: str
    locations: tuple[str, ...]
    count: int
    public: bool
    """Whether the pool's servers have a public IPv4 interface."""
    node_labels: tuple[str, ...] = ()
    node_taints: tuple[str, ...] = ()
    autoscaled: tuple[int, int] | None = None
    """How many nodes the cluster-autoscaler may add beyond ``count`` (min, max)."""


@dataclass(frozen=True)
class LoadBalancerSummary:
    name: str
    purpose: str
    lb_type: str
    location: str
    ports: tuple[int, ...]
    public: bool
    private_address: str | None = None
    created_by: str = "pulumi"
    """``pulumi`` (a resource in this plan) or ``cloud controller`` (from annotations)."""


@dataclass(frozen=True)
class FirewallRow:
    firewall: str
    description: str
    protocol: str
    port: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class CiliumSummary:
    version: str
    features: tuple[str, ...]


@dataclass(frozen=True)
class K3sSummary:
    version: str
    flags: tuple[str, ...]
    """The settings every server must share (k3s refuses a mismatch), as ``flag[=value]``."""


@dataclass
class ClusterSummary:
    stack: str
    cluster: str
    network_cidr: str | None
    private_only: bool
    pools: list[PoolSummary] = field(default_factory=list)
    bastion: PoolSummary | None = None
    load_balancers: list[LoadBalancerSummary] = field(default_factory=list)
    firewall: list[FirewallRow] = field(default_factory=list)
    api_endpoint: str | None = None
    cilium: CiliumSummary | None = None
    gateway: str | None = None
    k3s: K3sSummary | None = None


def _network_range(plan: Plan, network: Any) -> str | None:
    if network is not None:
        return network.plain_inputs().get("ipRange")
    # network.existing: only this stack's subnet is planned here, in another stack's network.
    subnet = next(iter(plan.by_type(SUBNET)), None)
    return (f"{subnet.plain_inputs().get('ipRange')} (subnet in another stack's network)"
            if subnet else None)


def summarize(plan: Plan) -> ClusterSummary:
    network = next(iter(plan.by_type(NETWORK)), None)
    cluster = next((r for r in plan.resources if r.type == "k3s-hcloud:index:K3sCluster"), None)
    cluster_inputs = cluster.plain_inputs() if cluster else {}
    servers = plan.by_type(SERVER)
    pools = _with_autoscaling(
        _pools(plan, [s for s in servers if _label(s, "role") != BASTION_ROLE]),
        _autoscaler_groups(plan, str(cluster_inputs.get("clusterName", plan.stack))),
        public=not cluster_inputs.get("privateOnly", False))
    bastions = _pools(plan, [s for s in servers if _label(s, "role") == BASTION_ROLE])
    endpoint = plan.outputs.get("apiEndpoint")
    return ClusterSummary(
        stack=plan.stack,
        cluster=str(cluster_inputs.get("clusterName", plan.stack)),
        network_cidr=_network_range(plan, network),
        private_only=bool(cluster_inputs.get("privateOnly", False)),
        pools=pools,
        bastion=bastions[0] if bastions else None,
        load_balancers=_load_balancers(plan),
        firewall=_firewall_rows(plan),
        api_endpoint=None if endpoint is None or endpoint.secret else str(endpoint.value),
        cilium=_cilium(plan),
        gateway=_gateway_name(plan),
        k3s=_k3s(plan),
    )


def _label(resource: RecordedResource, key: str) -> str:
    return str((resource.plain_inputs().get("labels") or {}).get(key, ""))


def _pools(plan: Plan, servers: list[RecordedResource]) -> list[PoolSummary]:
    node_configs = {r.name: _k3s_config(r) for r in plan.by_type(K3S_NODE)}
    by_pool: dict[str, list[RecordedResource]] = {}
    for server in servers:
        by_pool.setdefault(_label(server, "pool"), []).append(server)
    summaries = []
    for pool, members in by_pool.items():
        inputs = [m.plain_inputs() for m in members]
        configs = [node_configs.get(str(i.get("name")), {}) for i in inputs]
        role = _label(members[0], "role")
        summaries.append(PoolSummary(
            name=pool,
            role="server" if pool == CONTROL_PLANE_POOL else ("agent" if role != BASTION_ROLE
                                                               else BASTION_ROLE),
            server_type=", ".join(sorted({str(i.get("serverType")) for i in inputs})),
            locations=tuple(sorted({str(i.get("location")) for i in inputs})),
            count=len(members),
            public=any(_has_public_ipv4(i) for i in inputs),
            node_labels=_union(c.get("node-label") for c in configs),
            node_taints=_union(c.get("node-taint") for c in configs),
        ))
    # Control plane first, then pools by name: a stable order for diffs of two summaries.
    return sorted(summaries, key=lambda p: (p.name != CONTROL_PLANE_POOL, p.name))


def _autoscaler_groups(plan: Plan, cluster: str) -> dict[str, tuple[int, int, str, str]]:
    """Pool → (min, max, server type, location) from the cluster-autoscaler's ``--nodes``
    arguments (``MIN:MAX:TYPE:LOCATION:<cluster>-<pool>``, the Hetzner provider's format)."""
    groups: dict[str, tuple[int, int, str, str]] = {}
    for deployment in plan.by_type(DEPLOYMENT):
        spec = ((deployment.plain_inputs().get("spec") or {}).get("template") or {}).get("spec")
        for container in (spec or {}).get("containers") or []:
            for arg in container.get("args") or []:
                if not str(arg).startswith(AUTOSCALER_NODES_FLAG):
                    continue
                parts = str(arg).removeprefix(AUTOSCALER_NODES_FLAG).split(":")
                if len(parts) == 5 and parts[4].startswith(f"{cluster}-"):
                    groups[parts[4].removeprefix(f"{cluster}-")] = (
                        int(parts[0]), int(parts[1]), parts[2], parts[3])
    return groups


def _with_autoscaling(pools: list[PoolSummary], groups: dict[str, tuple[int, int, str, str]],
                      *, public: bool) -> list[PoolSummary]:
    by_name = {p.name: p for p in pools}
    for name, (low, high, server_type, location) in groups.items():
        pool = by_name.get(name) or PoolSummary(
            name=name, role="agent", server_type=server_type, locations=(location,), count=0,
            public=public)
        by_name[name] = replace(pool, autoscaled=(low, high))
    return sorted(by_name.values(), key=lambda p: (p.name != CONTROL_PLANE_POOL, p.name))


def _has_public_ipv4(server_inputs: dict[str, Any]) -> bool:
    public_nets = server_inputs.get("publicNets") or [{"ipv4Enabled": True}]
    return any(net.get("ipv4Enabled", True) for net in public_nets)


def _k3s_config(node: RecordedResource) -> dict[str, Any]:
    """The node's whole k3s configuration: ``k3sConfig``, else its files merged (config.yaml
    and the registration drop-in that carries labels and taints)."""
    inputs = node.plain_inputs()
    if isinstance(inputs.get("k3sConfig"), dict):
        return inputs["k3sConfig"]
    merged: dict[str, Any] = {}
    for key in ("configYaml", "registrationYaml"):
        text = inputs.get(key)
        loaded = yaml.safe_load(text) if isinstance(text, str) else None
        if isinstance(loaded, dict):
            merged.update(loaded)
    return merged


def _union(values: Iterable[Any]) -> tuple[str, ...]:
    found: set[str] = set()
    for value in values:
        if isinstance(value, list):
            found.update(str(v) for v in value)
        elif value:
            found.add(str(value))
    return tuple(sorted(found))


def _load_balancers(plan: Plan) -> list[LoadBalancerSummary]:
    found = []
    for lb in plan.by_type(LOAD_BALANCER):
        inputs = lb.plain_inputs()
        services = [s.plain_inputs() for s in plan.by_type(LOAD_BALANCER_SERVICE)
                    if s.parent == lb.parent]
        attachments = [a.plain_inputs() for a in plan.by_type(LOAD_BALANCER_NETWORK)
                       if a.parent == lb.parent]
        found.append(LoadBalancerSummary(
            name=str(inputs.get("name", lb.name)),
            purpose=("Kubernetes API" if _label(lb, "role") == "api-load-balancer"
                     else _label(lb, "role") or "load balancer"),
            lb_type=str(inputs.get("loadBalancerType")),
            location=str(inputs.get("location") or inputs.get("networkZone")),
            ports=tuple(sorted(int(s.get("listenPort", 0)) for s in services)),
            public=not any(a.get("enablePublicInterface") is False for a in attachments)
            and not _component_says_private(plan, lb),
            private_address=next((str(a["ip"]) for a in attachments if a.get("ip")), None)))
    for gateway in plan.by_type(GATEWAY):
        spec = gateway.plain_inputs().get("spec") or {}
        annotations = (spec.get("infrastructure") or {}).get("annotations") or {}
        ccm = _ccm_annotations(annotations)
        if not ccm:
            continue
        found.append(LoadBalancerSummary(
            name=str(ccm.get("name", gateway.name)), purpose="Gateway",
            lb_type=str(ccm.get("type", "lb11")),
            location=str(ccm.get("location") or ccm.get("network-zone", "")),
            ports=tuple(sorted(int(listener.get("port", 0))
                               for listener in spec.get("listeners") or [])),
            public=True, created_by="cloud controller"))
    # Helm releases whose values make a LoadBalancer Service with hcloud-ccm annotations
    # (APISIX's gateway Service): ``service.type``/``service.annotations``.
    for release in plan.by_type(HELM_RELEASE):
        inputs = release.plain_inputs()
        service = (inputs.get("values") or {}).get("service") or {}
        ccm = _ccm_annotations(service.get("annotations") or {})
        if service.get("type") != "LoadBalancer" or not ccm:
            continue
        port = (service.get("http") or {}).get("servicePort")
        found.append(LoadBalancerSummary(
            name=str(ccm.get("name", release.name)),
            purpose=f"{inputs.get('chart')} gateway Service", lb_type=str(ccm.get("type", "lb11")),
            location=str(ccm.get("location") or ccm.get("network-zone", "")),
            ports=(int(port),) if port else (), public=True, created_by="cloud controller"))
    return found


def _ccm_annotations(annotations: dict[str, Any]) -> dict[str, Any]:
    return {k.removeprefix(CCM_LB_ANNOTATION): v for k, v in annotations.items()
            if k.startswith(CCM_LB_ANNOTATION)}


def _component_says_private(plan: Plan, lb: RecordedResource) -> bool:
    parent = next((r for r in plan.resources if r.urn == lb.parent), None)
    return parent is not None and parent.plain_inputs().get("public") is False


def _firewall_rows(plan: Plan) -> list[FirewallRow]:
    rows = []
    for firewall in plan.by_type(FIREWALL):
        inputs = firewall.plain_inputs()
        for rule in inputs.get("rules") or []:
            rows.append(FirewallRow(
                firewall=str(inputs.get("name", firewall.name)),
                description=str(rule.get("description", "")),
                protocol=str(rule.get("protocol")),
                port=str(rule.get("port") or "-"),
                sources=tuple(str(s) for s in rule.get("sourceIps") or [])))
    return rows


# Cilium values that name a feature, with how to say it is on. Read from the rendered values,
# so defaults the program adds show up as well as what the stack file sets.
_CILIUM_FEATURES: tuple[tuple[str, str], ...] = (
    ("kubeProxyReplacement", "kube-proxy replacement"),
    ("routingMode", "routing: {}"),
    ("ipam.mode", "IPAM: {}"),
    ("bpf.masquerade", "BPF masquerade"),
    ("loadBalancer.mode", "load balancing mode: {}"),
    ("loadBalancer.acceleration", "XDP acceleration: {}"),
    ("loadBalancer.algorithm", "load balancing algorithm: {}"),
    ("gatewayAPI.enabled", "Gateway API"),
    ("ingressController.enabled", "Ingress controller"),
    ("l7Proxy", "L7 proxy (Envoy)"),
    ("hubble.enabled", "Hubble"),
    ("hubble.relay.enabled", "Hubble relay"),
    ("hubble.ui.enabled", "Hubble UI"),
    ("encryption.enabled", "transparent encryption ({encryption.type})"),
    ("egressGateway.enabled", "egress gateway"),
    ("bandwidthManager.enabled", "bandwidth manager"),
    ("clustermesh.useAPIServer", "Cluster Mesh API server"),
    ("MTU", "MTU {}"),
)


def _dotted(values: dict[str, Any], path: str) -> Any:
    current: Any = values
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current


def _cilium(plan: Plan) -> CiliumSummary | None:
    release = next((r for r in plan.by_type(HELM_RELEASE)
                    if r.plain_inputs().get("chart") == "cilium"), None)
    if release is None:
        return None
    inputs = release.plain_inputs()
    values = inputs.get("values") or {}
    features = []
    for path, wording in _CILIUM_FEATURES:
        value = _dotted(values, path)
        if value in (None, False, "false", "disabled"):
            continue
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if "{encryption.type}" in wording:
            features.append(wording.replace("{encryption.type}",
                                            str(_dotted(values, "encryption.type") or "?")))
        else:
            features.append(wording.format(value))
    return CiliumSummary(version=str(inputs.get("version")), features=tuple(features))


def _k3s(plan: Plan) -> K3sSummary | None:
    bootstrap = next(iter(plan.by_type(K3S_BOOTSTRAP)), None)
    if bootstrap is None:
        return None
    inputs = bootstrap.plain_inputs()
    flags = []
    for key, value in sorted((inputs.get("clusterWideServerConfig") or {}).items()):
        if key.endswith("-file"):
            continue  # where a secret is kept on the node, not a setting
        if value is True:
            flags.append(key)
        elif isinstance(value, list):
            flags.append(f"{key}={','.join(map(str, value))}")
        elif value not in (False, None):
            flags.append(f"{key}={value}")
    return K3sSummary(version=str(inputs.get("k3sVersion")), flags=tuple(flags))


def _gateway_name(plan: Plan) -> str | None:
    # The Gateway the CCM fronts with a load balancer (its infrastructure annotations), as the
    # diagram draws it behind that load balancer; other Gateways (APISIX's) sit behind a Service.
    gateway = next((g for g in plan.by_type(GATEWAY) if _ccm_annotations(
        ((g.plain_inputs().get("spec") or {}).get("infrastructure") or {}).get("annotations")
        or {})), None)
    if gateway is None:
        return None
    metadata = gateway.plain_inputs().get("metadata") or {}
    return f"{metadata.get('namespace', 'default')}/{metadata.get('name', gateway.name)}"


# ---- rendering -------------------------------------------------------------------------------

def _pool_line(pool: PoolSummary) -> str:
    where = ", ".join(pool.locations)
    exposure = "public IPv4" if pool.public else "private only"
    text = f"{pool.name}: {pool.count} × {pool.server_type} in {where} ({pool.role}, {exposure})"
    if pool.autoscaled:
        text += f"; autoscaler adds {pool.autoscaled[0]}–{pool.autoscaled[1]} more"
    if pool.node_labels:
        text += f"; labels {', '.join(pool.node_labels)}"
    if pool.node_taints:
        text += f"; taints {', '.join(pool.node_taints)}"
    return text


def _lb_line(lb: LoadBalancerSummary) -> str:
    ports = ", ".join(str(p) for p in lb.ports) or "no services"
    exposure = "public" if lb.public else "private only"
    where = f" at {lb.private_address}" if lb.private_address else ""
    source = "the Gateway" if lb.purpose == "Gateway" else "its Service's annotations"
    made = f" — created by the cloud controller from {source}" if lb.created_by != "pulumi" else ""
    return f"{lb.name}: {lb.purpose}, {lb.lb_type} in {lb.location}, ports {ports}, {exposure}{where}{made}"


def summary_lines(summary: ClusterSummary) -> list[str]:
    """The summary as plain lines (also the unit two summaries are compared in)."""
    mode = "private nodes (no public IPs)" if summary.private_only else "nodes with public IPs"
    lines = [f"Network {summary.network_cidr or '?'}, {mode}"]
    lines += [f"Pool {_pool_line(p)}" for p in summary.pools]
    if summary.bastion:
        lines.append(f"Bastion {_pool_line(summary.bastion)}")
    lines += [f"Load balancer {_lb_line(lb)}" for lb in summary.load_balancers]
    lines.append(f"API endpoint: {summary.api_endpoint or 'unknown until deployed'}")
    if summary.gateway:
        lines.append(f"Gateway: {summary.gateway}")
    if summary.k3s:
        lines.append(f"k3s {summary.k3s.version}: {', '.join(summary.k3s.flags)}")
    if summary.cilium:
        lines.append(f"Cilium {summary.cilium.version}: {', '.join(summary.cilium.features)}")
    lines += [f"Firewall {row.firewall}: {row.protocol}/{row.port} from "
              f"{', '.join(row.sources)} — {row.description}" for row in summary.firewall]
    return lines


def render_summary_text(summary: ClusterSummary) -> str:
    out = ["Cluster:"]
    mode = "private nodes (no public IPs)" if summary.private_only else "nodes with public IPs"
    out.append(f"  network {summary.network_cidr or '?'}, {mode}")
    out.append("  node pools:")
    out += [f"    {_pool_line(p)}" for p in summary.pools]
    if summary.bastion:
        out.append(f"  {_pool_line(summary.bastion)}")
    if summary.load_balancers:
        out.append("  load balancers:")
        out += [f"    {_lb_line(lb)}" for lb in summary.load_balancers]
    out.append(f"  API endpoint: {summary.api_endpoint or 'unknown until deployed'}")
    if summary.gateway:
        out.append(f"  Gateway: {summary.gateway}")
    if summary.k3s:
        out.append(f"  k3s {summary.k3s.version}: {', '.join(summary.k3s.flags)}")
    if summary.cilium:
        out.append(f"  Cilium {summary.cilium.version}: {', '.join(summary.cilium.features)}")
    out.append("  firewall (inbound; everything else is dropped):")
    if not summary.firewall:
        out.append("    no firewall: no server has a public interface")
    width = max((len(r.firewall) for r in summary.firewall), default=0)
    for row in summary.firewall:
        out.append(f"    {row.firewall:<{width}}  {row.protocol:<4} {row.port:<5} "
                   f"{', '.join(row.sources):<30} {row.description}")
    out += ["", f"Note: {STAND_IN_NOTICE}"]
    return "\n".join(out)


def _md_cell(value: Any) -> str:
    return str(mask_secrets(value)).replace("|", "\\|").replace("\n", " ")


def render_summary_markdown(summary: ClusterSummary) -> str:
    mode = "private nodes (no public IPs)" if summary.private_only else "nodes with public IPs"
    out = [f"**Cluster `{summary.cluster}`** — network `{summary.network_cidr}`, {mode}; "
           f"API endpoint `{summary.api_endpoint or 'unknown until deployed'}`", "",
           "| pool | role | count | server type | locations | public | labels | taints |",
           "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for p in [*summary.pools, *([summary.bastion] if summary.bastion else [])]:
        count = f"{p.count} (+{p.autoscaled[0]}–{p.autoscaled[1]} autoscaled)" if p.autoscaled \
            else str(p.count)
        out.append(f"| {_md_cell(p.name)} | {p.role} | {count} | {_md_cell(p.server_type)} | "
                   f"{', '.join(p.locations)} | {'yes' if p.public else 'no'} | "
                   f"{_md_cell(', '.join(p.node_labels)) or '-'} | "
                   f"{_md_cell(', '.join(p.node_taints)) or '-'} |")
    if summary.load_balancers:
        out += ["", "| load balancer | for | type | location | ports | public |",
                "| --- | --- | --- | --- | --- | --- |"]
        out += [f"| {_md_cell(lb.name)} | {lb.purpose} | {lb.lb_type} | {lb.location} | "
                f"{', '.join(map(str, lb.ports))} | {'yes' if lb.public else 'no'} |"
                for lb in summary.load_balancers]
    out += ["", "| firewall | protocol | port | sources | rule |", "| --- | --- | --- | --- | --- |"]
    out += [f"| {_md_cell(r.firewall)} | {r.protocol} | {r.port} | {_md_cell(', '.join(r.sources))} "
            f"| {_md_cell(r.description)} |" for r in summary.firewall] or ["| (none) | | | | |"]
    if summary.k3s:
        out += ["", f"k3s {summary.k3s.version}: {_md_cell(', '.join(summary.k3s.flags))}"]
    if summary.cilium:
        out += ["", f"Cilium {summary.cilium.version}: {', '.join(summary.cilium.features)}"]
    return "\n".join(out)
