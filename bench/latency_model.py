"""How long each kind of step takes on a real deployment: a small, documented latency model.

Nothing here was measured (no Hetzner account on this machine). Each figure is either cited or an
assumption stated with its basis, chosen on the slow side, so the simulated wall time is an
estimate to compare orders of magnitude, not a promise. Change a figure here and re-run
``bench/critical_path.py``; the chain itself comes from the recorded graph.

Fixed per-step latencies are in ``STEPS``. What grows with the cluster is in :class:`Growth`:

- **NAT bandwidth** (private mode): every private node downloads the k3s binary and its images
  through the bastion's NAT, so those transfers share one host's bandwidth;
- **Cilium's atomic install** waits for the agent on every node registered while it waits, and in
  private mode their image pulls share the NAT;
- **private servers** are created, attached to the network, then powered on;
- **the Hetzner API rate limit** (a bucket of 3,600 requests refilled at one a second) delays
  server creates once a create burst spends the bucket;
- **the bastion's SSH admission**: connections beyond its per-source burst wait for the refill, and
  each dropped connection costs a dial timeout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cluster_plan.bastion_admission import SshAdmission
from tools.lib.engine import Plan, RecordedResource


@dataclass(frozen=True)
class Step:
    seconds: float
    basis: str


STEPS: dict[str, Step] = {
    "local": Step(0, "keys, passwords, providers: computed by the plugin, no remote call"),
    "hetzner api": Step(2, "assumption: one Hetzner API request and its action (network, "
                           "subnet, firewall, SSH key, placement group, route, LB parts)"),
    "server create": Step(20, "assumption: Hetzner's create action until the server is "
                              "`running` (typically 10–20 s)"),
    "load balancer create": Step(10, "assumption: Hetzner's LB create action"),
    "boot + cloud-init": Step(45, "assumption: boot to sshd, then `cloud-init status --wait` "
                                  "(our user data writes files and restarts two units; no "
                                  "package installs on nodes), through the bastion in private "
                                  "mode"),
    "stage secrets": Step(2, "assumption: one SSH session, a few small files"),
    "k3s init (first server)": Step(60, "assumption: get.k3s.io + the k3s binary (~70 MB) "
                                        "downloaded, etcd initialised, `/readyz` answering"),
    "k3s join (server)": Step(45, "assumption: download, etcd learner added and promoted, "
                                  "`/readyz`"),
    "k3s join (agent)": Step(30, "assumption: download, agent registered with the supervisor "
                                 "(private mode adds the shared NAT download, see Growth)"),
    "node registered": Step(5, "assumption: `kubectl get node` until the node appears"),
    "rollout check": Step(2, "assumption: one SSH session; at creation the drain and uncordon "
                             "steps find nothing to do (node not registered or not cordoned)"),
    "registration file": Step(2, "assumption: one SSH session writing one small file"),
    "node labels": Step(3, "assumption: one SSH session, `kubectl label`/`taint` on the first "
                           "server"),
    "etcd snapshot": Step(5, "assumption: `k3s etcd-snapshot save` of a young cluster's few-MB "
                             "etcd, plus the upload when S3 is configured; nothing to do on a "
                             "server without etcd data yet"),
    "read from first server": Step(2, "assumption: one SSH session (CA hash, k3s.yaml)"),
    "kubernetes object": Step(2, "assumption: one server-side apply (Secret, Gateway, custom "
                                 "resources)"),
    "manifest file": Step(10, "assumption: fetch and apply an upstream manifest (Gateway API "
                              "CRDs, system-upgrade-controller)"),
    "helm: hcloud-cloud-controller-manager": Step(40, "assumption: chart pull, one Deployment "
                                                      "ready (image pull included)"),
    "helm: cilium": Step(150, "assumption: chart pull, agent DaemonSet + operator (+ envoy) "
                              "ready on a small cluster, images pulled in parallel; the release "
                              "is atomic, so it waits for every registered node (see Growth)"),
    "helm: hcloud-csi": Step(60, "assumption: controller Deployment + node DaemonSet ready"),
    "helm: apisix": Step(120, "assumption: chart pull, APISIX and ingress-controller "
                              "Deployments ready (images pulled), and, the release being atomic "
                              "(helm --wait), the gateway Service's Hetzner load balancer "
                              "created by hcloud-ccm"),
}


@dataclass(frozen=True)
class Constant:
    value: float
    basis: str


GROWTH_CONSTANTS: dict[str, Constant] = {
    "nat_megabytes_per_second": Constant(100, "assumption: ~1 Gbit/s through one shared-vCPU "
                                              "bastion; Hetzner publishes no per-server figure"),
    "k3s_binary_megabytes": Constant(70, "assumption: size order of the k3s amd64 release asset"),
    "node_image_megabytes": Constant(250, "assumption: Cilium agent + Envoy + pause images per "
                                          "node, compressed"),
    "private_power_on_seconds": Constant(10, "assumption: a server without public interface is "
                                             "attached to the network, then powered on"),
    "api_bucket_requests": Constant(3600, "Ref: Hetzner Cloud API docs, 'Rate Limiting': 3600 "
                                          "requests per hour and project, +1 every second"),
    "api_refill_per_second": Constant(1, "Ref: as above"),
    "api_requests_per_server": Constant(10, "assumption: create + exponential action polling "
                                            "+ reads by the Terraform provider"),
    "ssh_dial_timeout_seconds": Constant(10, "the bootstrap's per-dial timeout "
                                             "(components/bootstrap/connection.py, FRESH_BOOT)"),
    "cilium_agent_ready_seconds": Constant(30, "assumption: a node registered during Cilium's "
                                               "install gets its agent pod ready this long after"),
}


def constant(name: str) -> float:
    return GROWTH_CONSTANTS[name].value


@dataclass(frozen=True)
class Growth:
    """The size of what the create does at once, which the growing terms depend on."""

    nodes: int
    """k3s nodes (servers and agents)."""
    agents: int
    private: bool
    admission: SshAdmission | None
    """The bastion's per-source SSH admission; None when the bootstrap does not go through one."""
    servers: int
    """Hetzner servers created (bastion included)."""

    def nat_seconds(self, megabytes: float) -> float:
        return megabytes / constant("nat_megabytes_per_second") if self.private else 0.0

    def api_throttle_seconds(self) -> float:
        """Delay of the last server create once the burst of requests spends the bucket."""
        needed = self.servers * constant("api_requests_per_server")
        overflow = max(0.0, needed - constant("api_bucket_requests"))
        return overflow / constant("api_refill_per_second")

    def admission_wait_seconds(self) -> float:
        """Wait of the last node's first SSH connection: every node's chain starts at once."""
        if self.admission is None or self.nodes <= self.admission.burst:
            return 0.0
        waves = math.ceil((self.nodes - self.admission.burst) / self.admission.per_minute)
        return waves * 60 + constant("ssh_dial_timeout_seconds")

    def extra_seconds(self, step: str) -> float:
        if step == "server create":
            extra = self.api_throttle_seconds()
            return extra + (constant("private_power_on_seconds") if self.private else 0.0)
        if step == "k3s join (agent)":
            # All agents download the k3s binary at once.
            return self.nat_seconds(self.agents * constant("k3s_binary_megabytes"))
        if step == "helm: cilium":
            return self.nat_seconds(self.nodes * constant("node_image_megabytes"))
        if step == "boot + cloud-init":
            return self.admission_wait_seconds()
        return 0.0


_SCRIPT_STEPS = {
    "wait-for-boot.sh": "boot + cloud-init",
    "stage-secrets.sh": "stage secrets",
    "await-node.sh": "node registered",
    "drain-node.sh": "rollout check",
    "uncordon-node.sh": "rollout check",
    "write-registration.sh": "registration file",
    "set-node-metadata.sh": "node labels",
    "read-ca-hash.sh": "read from first server",
    "read-kubeconfig.sh": "read from first server",
    "etcd-snapshot.sh": "etcd snapshot",
}
_HELM_CHARTS = {"cilium", "hcloud-cloud-controller-manager", "hcloud-csi", "apisix"}
NODE_REGISTERED = "node registered"


def step_of(resource: RecordedResource, first_servers: frozenset[str]) -> str:
    """The kind of step a custom resource is, for the latency table."""
    kind = resource.type
    if kind.startswith(("tls:", "random:", "pulumi:providers:")):
        return "local"
    if kind == "hcloud:index/server:Server":
        return "server create"
    if kind == "hcloud:index/loadBalancer:LoadBalancer":
        return "load balancer create"
    if kind.startswith("hcloud:"):
        return "hetzner api"
    if kind == "command:remote:Command":
        words = str(resource.inputs.get("create", "")).split()
        script = words[-1] if words else ""
        if script == "apply-k3s.sh":
            if resource.name in first_servers:
                return "k3s init (first server)"
            return "k3s join (server)" if "K3S_ROLE=server" in words else "k3s join (agent)"
        return _SCRIPT_STEPS[script]
    if kind == "kubernetes:helm.sh/v3:Release":
        chart = resource.inputs.get("chart")
        if chart in _HELM_CHARTS:
            return f"helm: {chart}"
        raise KeyError(f"no latency for Helm chart {chart}: add it to STEPS")
    if kind.startswith("kubernetes:yaml/"):
        return "manifest file"
    if kind.startswith("kubernetes:"):
        return "kubernetes object"
    raise KeyError(f"no latency for {kind}: add it to bench/latency_model.py")


def first_server_commands(plan: Plan) -> frozenset[str]:
    """The ``-k3s`` commands of nodes that initialise the cluster (``cluster-init``)."""
    return frozenset(f"{node.name}-k3s" for node in plan.by_type("k3s-hcloud:bootstrap:K3sNode")
                     if node.inputs.get("k3sConfig", {}).get("cluster-init"))


def growth_of(plan: Plan, admission: SshAdmission | None) -> Growth:
    nodes = plan.by_type("k3s-hcloud:bootstrap:K3sNode")
    agents = sum(1 for node in nodes if not node.inputs.get("k3sConfig", {}).get("cluster-init")
                 and node.inputs.get("role") == "agent")
    clusters = plan.by_type("k3s-hcloud:index:K3sCluster")
    private = bool(clusters and clusters[0].inputs.get("privateOnly"))
    return Growth(nodes=len(nodes), agents=agents, private=private,
                  admission=admission if private else None,
                  servers=len(plan.by_type("hcloud:index/server:Server")))


def latency_for(plan: Plan, growth: Growth | None = None):
    first = first_server_commands(plan)

    def latency(resource: RecordedResource) -> float:
        step = step_of(resource, first)
        return STEPS[step].seconds + (growth.extra_seconds(step) if growth else 0.0)

    return latency


def cilium_waits_for_registered_nodes(plan: Plan):
    """Extra edges: the atomic Cilium release finishes only after every node registered while it
    waits has its agent ready (``cilium_agent_ready_seconds`` after registration)."""
    first = first_server_commands(plan)
    registrations = [r.urn for r in plan.resources
                     if r.custom and r.type == "command:remote:Command"
                     and step_of(r, first) == NODE_REGISTERED]

    def extra(resource: RecordedResource) -> list[tuple[str, float]]:
        if resource.type == "kubernetes:helm.sh/v3:Release" and resource.inputs.get("chart") == "cilium":
            return [(urn, constant("cilium_agent_ready_seconds")) for urn in registrations]
        return []

    return extra
