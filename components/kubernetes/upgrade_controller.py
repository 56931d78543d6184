"""system-upgrade-controller and the k3s upgrade Plans.

Creates: the controller's release manifests (``crd.yaml``, then
``system-upgrade-controller.yaml``, pinned to ``addons.systemUpgradeController.version``) and the
two Plans from ``upgrade_plans`` (server, agent) as ``CustomResource``s.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as kubernetes

from components.kubernetes import upgrade_plans
from components.kubernetes.manifest import custom_resource
from stack_config import ClusterSpec
from upstream import k3s


def install_upgrade_controller(name: str, spec: ClusterSpec, opts: pulumi.ResourceOptions
                               ) -> list[pulumi.Resource]:
    urls = k3s.system_upgrade_controller_manifests(spec.addons.system_upgrade_controller.version)
    crd = kubernetes.yaml.v2.ConfigFile(f"{name}-upgrade-crd", file=urls["crd"], opts=opts)
    controller = kubernetes.yaml.v2.ConfigFile(
        f"{name}-upgrade-controller", file=urls["controller"],
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[crd])))
    after_controller = pulumi.ResourceOptions.merge(
        opts, pulumi.ResourceOptions(depends_on=[crd, controller]))
    plans = [
        custom_resource(f"{name}-k3s-server-plan", upgrade_plans.server_plan(spec.k3s.version),
                        after_controller),
        custom_resource(f"{name}-k3s-agent-plan", upgrade_plans.agent_plan(spec.k3s.version),
                        after_controller),
    ]
    return [crd, controller, *plans]
