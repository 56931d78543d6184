"""How long each kind of step takes on a real deployment: a small, documented latency model.

Nothing here was measured (no Hetzner account on this machine). Each figure is an assumption
stated with its basis, chosen on the slow side of what these operations usually take, so the
simulated wall time is an estimate to compare orders of magnitude, not a promise. Change a figure
here and re-run ``bench/critical_path.py``; the chain itself comes from the recorded graph.
"""

from __future__ import annotations

from dataclasses import dataclass

from tools.engine import Plan, RecordedResource


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
    "k3s join (agent)": Step(30, "assumption: download, agent registered with the supervisor"),
    "node registered": Step(5, "assumption: `kubectl get node` until the node appears"),
    "rollout check": Step(2, "assumption: one SSH session; at creation the drain and uncordon "
                             "steps find nothing to do (node not registered or not cordoned)"),
    "registration file": Step(2, "assumption: one SSH session writing one small file"),
    "node labels": Step(3, "assumption: one SSH session, `kubectl label`/`taint` on the first "
                           "server"),
    "read from first server": Step(2, "assumption: one SSH session (CA hash, k3s.yaml)"),
    "kubernetes object": Step(2, "assumption: one server-side apply (Secret, Gateway, custom "
                                 "resources)"),
    "manifest file": Step(10, "assumption: fetch and apply an upstream manifest (Gateway API "
                              "CRDs, system-upgrade-controller)"),
    "helm: hcloud-cloud-controller-manager": Step(40, "assumption: chart pull, one Deployment "
                                                      "ready (image pull included)"),
    "helm: cilium": Step(150, "assumption: chart pull, agent DaemonSet + operator (+ envoy) "
                              "ready on every node, images pulled in parallel; the release is "
                              "atomic, so it waits for all of them"),
    "helm: hcloud-csi": Step(60, "assumption: controller Deployment + node DaemonSet ready"),
}

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
}
_HELM_CHARTS = {"cilium", "hcloud-cloud-controller-manager", "hcloud-csi"}


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


def latency_for(plan: Plan):
    first = first_server_commands(plan)
    return lambda resource: STEPS[step_of(resource, first)].seconds
