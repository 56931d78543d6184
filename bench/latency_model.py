"""How long each kind of step takes on a real deployment: a small, documented latency model.

Nothing here was measured (no Hetzner account on this machine). Each figure is either cited or an
assumption stated with its basis, chosen on the slow side, so the simulated wall time is an
estimate to compare orders of magnitude, not a promise. Change a figure here and re-run
``bench/critical_path.py``; the chain itself comes from the recorded graph.

Fixed per-step latencies are in ``STEPS``. What grows with the cluster is in :class:`Growth`:

- **NAT bandwidth** (private mode): every private node downloads the k3s binary and its images
  through the bastion's NAT, so those transfers share one host's bandwidth;
- **Cilium's atomic install** (Helm ``--wait``) waits until at most the agent DaemonSet's
  ``maxUnavailable`` agents of the nodes registered so far are not ready; every node pulls the
  agent images when it registers, in private mode through the shared NAT (``cilium_wait``);
- **private servers** are created, attached to the network, then powered on;
- **the Hetzner API rate limit** (a bucket of 3,600 requests refilled at one a second) delays
  server creates once a create burst spends the bucket;
- **the bastion's SSH admission**: connections beyond its per-source burst wait for the refill, and
  each dropped connection costs a dial timeout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cluster_plan import api_readiness
from cluster_plan.bastion_admission import SshAdmission
from tools.lib.critical_path import WaitFor, schedule
from tools.lib.engine import Plan, RecordedResource
from upstream.cilium import line_of
from upstream.cilium_schema import chart_facts


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
    "servers' release": Step(2, "assumption: one SSH session, `kubectl get nodes` on the first "
                                "server; at creation the registered servers already run the "
                                "agent's release"),
    "registration file": Step(2, "assumption: one SSH session writing one small file"),
    "pod route": Step(2, "assumption: one SSH session writing one unit, `ip route replace`"),
    "load balancer routes": Step(api_readiness.routing_seconds(),
                                 "the API load balancer's check turns the first server healthy "
                                 "after RETRIES passes in a row (Hetzner Cloud API reference, "
                                 "load balancer health checks; timings in "
                                 "cluster_plan/api_readiness.py: worst case)"),
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
    "helm: cilium": Step(150, "assumption: chart pull, operator and the first agents ready on "
                              "a small cluster; the release is atomic (`--wait`), so it also "
                              "waits for the agents of nodes registered meanwhile (see "
                              "cilium_wait)"),
    "helm: hcloud-csi": Step(60, "assumption: controller Deployment + node DaemonSet ready"),
    "helm: apisix": Step(120, "assumption: chart pull, APISIX and ingress-controller "
                              "Deployments ready (images pulled), and, the release being atomic "
                              "(helm --wait), the gateway Service's Hetzner load balancer "
                              "created by hcloud-ccm"),
}


# The boot wait runs in the same command, before the install.
STEPS["boot + readiness answer"] = Step(
    STEPS["boot + cloud-init"].seconds + 2,
    "the boot wait ('boot + cloud-init', the same command waits for it) plus one small install "
    "and its self-test (2 s, assumption: three files, `systemctl restart` of a socket, one HTTP "
    "request)")


@dataclass(frozen=True)
class Constant:
    value: float
    basis: str


GROWTH_CONSTANTS: dict[str, Constant] = {
    "nat_megabytes_per_second": Constant(100, "assumption: ~1 Gbit/s through one shared-vCPU "
                                              "bastion; Hetzner publishes no per-server "
                                              "bandwidth figure for cloud servers"),
    "k3s_binary_megabytes": Constant(70, "assumption: size order of the k3s amd64 release asset"),
    "node_image_megabytes": Constant(250, "assumption: Cilium agent + Envoy + pause images per "
                                          "node, compressed"),
    "private_power_on_seconds": Constant(10, "assumption: a server without public interface is "
                                             "attached to the network, then powered on"),
    "api_bucket_requests": Constant(3600, "Ref: Hetzner Cloud API reference, 'Rate Limiting': "
                                          "3600 requests per hour and project, the bucket "
                                          "refilled by one request a second"),
    "api_refill_per_second": Constant(1, "Ref: as above"),
    "api_requests_per_server": Constant(10, "assumption: create + exponential action polling "
                                            "+ reads by the Terraform provider"),
    "ssh_dial_timeout_seconds": Constant(10, "the bootstrap's per-dial timeout "
                                             "(components/bootstrap/connection.py, FRESH_BOOT)"),
    "peer_megabytes_per_second": Constant(100, "assumption: what one node serves to its peers "
                                               "over the private network with k3s's embedded "
                                               "registry mirror (Spegel); Hetzner publishes no "
                                               "private-network bandwidth either"),
    "cilium_apply_seconds": Constant(10, "assumption: chart pull and the apply of the rendered "
                                         "manifests, after which the DaemonSet schedules an "
                                         "agent on every registered node"),
    "cilium_agent_ready_seconds": Constant(120, "assumption: an agent pod on a fresh node is "
                                                "ready this long after it is scheduled, besides "
                                                "its share of the NAT (registry round trips, "
                                                "image unpack, BPF programs loaded, health "
                                                "checks): with the apply, a small cluster's "
                                                "release then takes the 150 s of its step"),
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
    concurrent_agent_joins: int = 0
    """Agent k3s installs the graph lets run at once (the first wave of every pool): they share
    the NAT for the k3s binary download."""
    registry_mirror: bool = False
    """k3s's embedded registry mirror is on: nodes fetch images their peers already hold."""

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
            return self.nat_seconds(self.concurrent_agent_joins
                                    * constant("k3s_binary_megabytes"))
        if step in ("boot + cloud-init", "boot + readiness answer"):
            return self.admission_wait_seconds()
        # Cilium's image pulls are per node, in cilium_wait(): they start when the node registers.
        return 0.0


_SCRIPT_STEPS = {
    "wait-for-boot.sh": "boot + cloud-init",
    "stage-secrets.sh": "stage secrets",
    "await-node.sh": "node registered",
    "drain-node.sh": "rollout check",
    "uncordon-node.sh": "rollout check",
    "await-control-plane-version.sh": "servers' release",
    "write-registration.sh": "registration file",
    "pod-route.sh": "pod route",
    "install-api-readiness.sh": "boot + readiness answer",
    "await-api-routes.sh": "load balancer routes",
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
        # The step's own script: the last known one (a rollout step composes its pool's slot
        # around the drain or the uncordon, see components/bootstrap/rollout.py).
        script = next((word for word in reversed(words)
                       if word in _SCRIPT_STEPS or word == "apply-k3s.sh"),
                      words[-1] if words else "")
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
                  servers=len(plan.by_type("hcloud:index/server:Server")),
                  concurrent_agent_joins=len(first_wave_agent_joins(plan)),
                  registry_mirror=any(
                      bootstrap.inputs.get("clusterWideServerConfig", {}).get("embedded-registry")
                      for bootstrap in plan.by_type("k3s-hcloud:bootstrap:K3sBootstrap")))


def first_wave_agent_joins(plan: Plan) -> list[str]:
    """Agent k3s installs with no other agent k3s install upstream: they run at once."""
    first = first_server_commands(plan)
    by_urn = {r.urn: r for r in plan.resources if r.custom}
    joins = {r.urn for r in by_urn.values() if r.type == "command:remote:Command"
             and step_of(r, first) == "k3s join (agent)"}
    seen: dict[str, bool] = {}

    def has_join_upstream(urn: str) -> bool:
        if urn not in seen:
            seen[urn] = False
            seen[urn] = any(dep in joins or has_join_upstream(dep)
                            for dep in by_urn[urn].dependencies if dep in by_urn)
        return seen[urn]

    return sorted(urn for urn in joins if not has_join_upstream(urn))


def latency_for(plan: Plan, growth: Growth | None = None):
    first = first_server_commands(plan)

    def latency(resource: RecordedResource) -> float:
        step = step_of(resource, first)
        return STEPS[step].seconds + (growth.extra_seconds(step) if growth else 0.0)

    return latency


CILIUM = "cilium"


def cilium_release(plan: Plan) -> RecordedResource | None:
    return next((r for r in plan.by_type("kubernetes:helm.sh/v3:Release")
                 if r.inputs.get("chart") == CILIUM), None)


def agent_max_unavailable(plan: Plan, nodes: int) -> int:
    """The agent DaemonSet's ``updateStrategy.rollingUpdate.maxUnavailable``: what the release's
    values set, else the chart default of its line (``upstream/cilium_charts/<line>.json``).
    Helm's wait tolerates that many agents not ready (scaled like Helm: percentages round up)."""
    release = cilium_release(plan)
    values = release.inputs.get("values") if release is not None else None
    value = None
    if isinstance(values, dict):
        value = (((values.get("updateStrategy") or {}).get("rollingUpdate") or {})
                 .get("maxUnavailable"))
    if value is None and release is not None:
        line = line_of(str(release.inputs.get("version")))
        if line is not None:
            defaults = chart_facts(line.minor)["defaults"]
            value = defaults.get("updateStrategy", {}).get("rollingUpdate", {}).get(
                "maxUnavailable")
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(nodes * int(value[:-1]) / 100)
    return int(value) if value is not None else 1


def node_registrations(plan: Plan) -> list[str]:
    """Per k3s node, the command after which it is registered: the first server's k3s install
    (``/readyz`` answered, the node object exists), every other node's membership wait."""
    first = first_server_commands(plan)
    return [r.urn for r in plan.resources if r.custom and r.type == "command:remote:Command"
            and (r.name in first or step_of(r, first) == NODE_REGISTERED)]


def shared_transfers(starts: list[float], megabytes: float, rate: float,
                     peer_rate: float | None = None) -> list[float]:
    """Finish times of transfers of ``megabytes`` each, starting at ``starts``.

    Without ``peer_rate`` every transfer goes through one link of ``rate`` MB/s shared equally
    among those running (processor sharing). With it (k3s's embedded registry mirror), a
    transfer that starts once some node holds the images fetches them from its peers instead:
    every holder serves ``peer_rate``, shared among the peer transfers running, each capped at
    ``peer_rate`` (one node's own link). Rates only change when a transfer starts or ends, so the
    simulation steps from one such event to the next."""
    if rate == float("inf"):
        return list(starts)
    inf = float("inf")
    count = len(starts)
    remaining = [megabytes] * count
    finish = [inf] * count
    from_peers = [False] * count
    started = [False] * count
    now = min(starts, default=0.0)
    while any(f == inf for f in finish):
        holders = sum(1 for f in finish if f <= now)
        for i in range(count):
            if not started[i] and starts[i] <= now:
                started[i] = True
                from_peers[i] = peer_rate is not None and holders > 0
        running = [i for i in range(count) if started[i] and finish[i] == inf]
        upcoming = [starts[i] for i in range(count) if not started[i]]
        if not running:
            now = min(upcoming)
            continue
        shares: dict[int, float] = {}
        through_nat = [i for i in running if not from_peers[i]]
        through_peers = [i for i in running if from_peers[i]]
        if through_nat:
            shares.update({i: rate / len(through_nat) for i in through_nat})
        if through_peers:
            peer_share = min(holders * (peer_rate or 0.0) / len(through_peers), peer_rate or 0.0)
            shares.update({i: peer_share for i in through_peers})
        step = min(remaining[i] / shares[i] for i in running)
        if upcoming:
            step = min(step, min(upcoming) - now)
        for i in running:
            remaining[i] -= shares[i] * step
        now += step
        for i in running:
            if remaining[i] <= 1e-6:
                finish[i] = now
    return finish


@dataclass(frozen=True)
class CiliumWait:
    """What Cilium's atomic release waits for, from a first pass over the graph."""

    wait: WaitFor
    """Per registered node: its agent ready ``seconds`` after the node registered."""
    nodes_ready_at: float
    """When the last node's agent is ready (the node turns Ready): the cluster is usable."""


def cilium_wait(plan: Plan, growth: Growth, latency) -> CiliumWait:
    """Each node's agent is scheduled when the node registers (or when the release is applied,
    if later), pulls its images through the shared NAT (private mode) and is ready
    ``cilium_agent_ready_seconds`` after. The release's Helm wait passes once at most
    ``maxUnavailable`` agents of the nodes registered so far are not ready."""
    release = cilium_release(plan)
    registrations = node_registrations(plan)
    if release is None or not registrations:
        return CiliumWait(WaitFor(), 0.0)
    first_pass = schedule(plan, latency)
    applied = (first_pass.finish[release.urn] - latency(release)
               + constant("cilium_apply_seconds"))
    registered = [first_pass.finish[urn] for urn in registrations]
    starts = [max(at, applied) for at in registered]
    rate = constant("nat_megabytes_per_second") if growth.private else float("inf")
    peers = constant("peer_megabytes_per_second") if growth.registry_mirror else None
    pulled = shared_transfers(starts, constant("node_image_megabytes"), rate, peers)
    ready = [done + constant("cilium_agent_ready_seconds") for done in pulled]
    work = [(urn, end - at) for urn, at, end in zip(registrations, registered, ready)]
    return CiliumWait(WaitFor(work, agent_max_unavailable(plan, len(registrations))), max(ready))


def cilium_waits_for_registered_nodes(plan: Plan, growth: Growth, latency):
    """Extra constraint for :func:`tools.lib.critical_path.schedule`: the Cilium release's wait."""
    release = cilium_release(plan)
    wait = cilium_wait(plan, growth, latency).wait

    def extra(resource: RecordedResource) -> WaitFor:
        return wait if release is not None and resource.urn == release.urn else WaitFor()

    return extra
