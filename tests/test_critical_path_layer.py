"""When the in-cluster layer may start: the whole program's graph (not a model of it).

The layer waits for the first server through its kubeconfig (and, with an API load balancer, until
the load balancer routes to it); it waits for every other server only through a tunnel the program
cannot see the end of. See ``components.cluster.layer_waits_for``.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import example_config, plan_config, plan_example
from tools.lib.engine import Plan

RELEASE = "kubernetes:helm.sh/v3:Release"


def upstream_names(plan: Plan, name: str, resource_type: str = RELEASE) -> set[str]:
    by_urn = {r.urn: r for r in plan.resources}
    start = plan.get(resource_type, name)
    seen: set[str] = set()
    stack = [start.urn]
    while stack:
        for dep in by_urn[stack.pop()].dependencies:
            if dep in by_urn and dep not in seen:
                seen.add(dep)
                stack.append(dep)
    return {by_urn[u].name for u in seen}


def cluster_name(plan: Plan) -> str:
    return plan.by_type("k3s-hcloud:index:K3sCluster")[0].name


def layer_upstream(plan: Plan) -> set[str]:
    """Everything the Cilium release waits for, through its edges or its provider's inputs."""
    name = cluster_name(plan)
    provider = next(r for r in plan.resources
                    if r.type == "pulumi:providers:kubernetes" and r.name == f"{name}-k8s")
    return (upstream_names(plan, f"{name}-cilium")
            | upstream_names(plan, provider.name, provider.type) | {provider.name})


def test_without_a_load_balancer_the_layer_starts_after_the_first_server_only() -> None:
    plan = plan_example("gateway")
    name = cluster_name(plan)
    upstream = layer_upstream(plan)
    # The first server's k3s and its kubeconfig: the provider cannot connect before them, and
    # the release says so in its own edges (what the critical-path model reads).
    assert {f"{name}-cp-1-k3s", f"{name}-kubeconfig"} <= upstream_names(plan, f"{name}-cilium")
    others = {n for n in upstream if n.startswith((f"{name}-cp-2-", f"{name}-cp-3-"))}
    assert not {n for n in others if n.endswith(("-k3s", "-membership", "-uncordon", "-drain"))}


def test_through_the_load_balancer_the_layer_waits_for_the_first_server_and_its_route(
        tmp_path: Path) -> None:
    # The load balancer routes only to servers whose apiserver answers /readyz and takes a
    # server out before k3s restarts on it (cluster_plan/api_readiness.py): the other servers'
    # joins and restarts never reach the layer's connection.
    config = example_config("gateway")
    config["k3s-hcloud:controlPlane"]["loadBalancer"] = {"enabled": True,
                                                         "publicInterface": True}
    plan = plan_config(tmp_path, config, stack="gateway")
    name = cluster_name(plan)
    upstream = layer_upstream(plan)
    assert {f"{name}-cp-1-k3s", f"{name}-kubeconfig", f"{name}-api-routes"} <= upstream_names(
        plan, f"{name}-cilium")
    others = {n for n in upstream if n.startswith((f"{name}-cp-2-", f"{name}-cp-3-"))}
    assert not {n for n in others if n.endswith(("-k3s", "-membership", "-uncordon", "-drain"))}


def test_through_a_tunnel_the_layer_waits_for_every_server() -> None:
    plan = plan_example("private-ha")
    name = cluster_name(plan)
    assert {f"{name}-cp-2-k3s", f"{name}-cp-3-k3s"} <= layer_upstream(plan)
