"""KubernetesLayer: everything that runs inside the cluster, installed in a fixed order.

Creates, as children (each through an explicit ``kubernetes.Provider`` built from the k3s
bootstrap's kubeconfig, never the ambient ``KUBECONFIG``):
- the ``kubernetes`` provider (kubeconfig secret, server-side apply);
- Gateway API CRDs (``yaml/v2.ConfigFile`` of the pinned upstream release), when
  ``cilium.values.gatewayAPI.enabled`` or APISIX serves the Gateway API;
- Secret ``kube-system/hcloud`` (token, network id), when the CCM or the CSI driver is on;
- hcloud-cloud-controller-manager (Helm release), when ``addons.ccm.enabled``;
- Cilium (Helm release) and, for Maglev without a given seed, its ``RandomBytes`` hash seed;
- Cilium custom resources: LB IP pools, L2 announcement policies, egress gateway policies;
- the default Gateway (and its Namespace when not built in), when ``addons.gateway.enabled``;
- hcloud-csi (Helm release), when ``addons.csi.enabled``;
- APISIX: its CRDs, admin-key Secret, Helm release, GatewayClass and Gateway
  (``apisix.py``), when ``addons.apisix.enabled``;
- system-upgrade-controller manifests and the k3s server/agent Plans, when
  ``addons.systemUpgradeController.enabled``;
- the cluster-autoscaler (Secret, RBAC, Deployment; ``autoscaler_install.py``), when a worker
  pool has ``autoscaling``.

Order: CRDs → CCM → Cilium → (Cilium resources, Gateway, CSI, upgrade controller, autoscaler). The CRDs must
exist when the Cilium operator starts; the CCM must run before Cilium because, with
``cloud-provider=external``, nodes get their addresses from the CCM and Cilium needs them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as kubernetes

from components.kubernetes.apisix import ApisixInstall, install_apisix
from components.kubernetes.autoscaler_install import AutoscalerInputs, install_cluster_autoscaler
from components.kubernetes.ccm import install_ccm
from components.kubernetes.cilium import install_cilium
from components.kubernetes.cluster_mesh import wire_cluster_mesh
from components.kubernetes.cilium_resources import install_cilium_resources
from components.kubernetes.credentials import hcloud_credentials
from components.kubernetes.csi import install_csi
from components.kubernetes.gateway import install_gateway
from components.kubernetes.gateway_api_crds import install_gateway_api_crds
from components.kubernetes.upgrade_controller import install_upgrade_controller
from stack_config import ClusterSpec
from upstream.cilium import line_of


class KubernetesLayer(pulumi.ComponentResource):
    """The in-cluster layer. Inputs come from the k3s bootstrap and the Hetzner infrastructure."""

    provider: kubernetes.Provider
    gateway_api_crds: kubernetes.yaml.v2.ConfigFile | None
    hcloud_credentials: kubernetes.core.v1.Secret | None
    ccm_release: kubernetes.helm.v3.Release | None
    cilium_release: kubernetes.helm.v3.Release
    cilium_resources: list[kubernetes.apiextensions.CustomResource]
    csi_release: kubernetes.helm.v3.Release | None
    upgrade_controller: list[pulumi.Resource]
    cluster_autoscaler: list[pulumi.Resource]
    gateway_name: pulumi.Output[str] | None
    """Name of the default Gateway, for HTTPRoute ``parentRefs``; None when it is off."""
    gateway_namespace: pulumi.Output[str] | None

    def __init__(self, name: str, spec: ClusterSpec, kubeconfig: pulumi.Input[str],
                 hcloud_token: pulumi.Output[str], network_id: pulumi.Input[Any],
                 cluster_identity: pulumi.Input[str],
                 depends_on: Sequence[pulumi.Resource] = (),
                 autoscaler: AutoscalerInputs | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        """
        :param kubeconfig: admin kubeconfig from the k3s bootstrap (made secret here as well).
        :param hcloud_token: Hetzner API token (secret) for the CCM and CSI driver.
        :param network_id: the Hetzner private network (id) the CCM routes pod CIDRs in.
        :param cluster_identity: what changes exactly when the cluster is a different one (the
            k3s bootstrap's cluster CA hash); becomes the provider's ``clusterIdentifier``.
        :param depends_on: what must be finished before anything is applied to the cluster
            (the bootstrap's last step), on top of what the kubeconfig Output already implies.
        :param autoscaler: what the cluster-autoscaler needs; None without autoscaled pools.
        """
        super().__init__("k3s-hcloud:kubernetes:KubernetesLayer", name, {
            "ciliumVersion": spec.cilium.version,
            "gatewayApi": bool(spec.cilium.value("gatewayAPI.enabled")),
        }, opts)
        line = line_of(spec.cilium.version)
        assert line is not None, "the config model accepts supported Cilium lines only"
        waits_for = list(depends_on)

        # Server-side apply: the Gateway API CRDs are larger than the 256 KiB annotation
        # client-side apply would store, and field ownership keeps re-applies conflict-free.
        # clusterIdentifier: without it pulumi-kubernetes replaces the provider, and with it every
        # release and object in the cluster, whenever the kubeconfig's active cluster entry
        # changes or is unknown in a preview: enabling the API LB (new server address) or
        # re-reading k3s.yaml (k3s upgrade) would reinstall Cilium. With it the provider is
        # replaced only when the identity changes, i.e. for a new cluster.
        # Ref: kubernetes.Provider docs (cluster_identifier); pulumi-kubernetes provider.go
        # DiffConfig; pulumi/pulumi-kubernetes#2745, #4019.
        self.provider = kubernetes.Provider(
            f"{name}-k8s", kubeconfig=pulumi.Output.secret(kubeconfig),
            cluster_identifier=pulumi.Output.from_input(cluster_identity).apply(
                lambda identity: f"k3s-ca-sha256:{identity}"),
            enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=waits_for))
        in_cluster = pulumi.ResourceOptions(parent=self, provider=self.provider,
                                            depends_on=waits_for)

        def after(*resources: pulumi.Resource | None) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions.merge(in_cluster, pulumi.ResourceOptions(
                depends_on=[r for r in resources if r is not None]))

        # 1. Gateway API CRDs: the Cilium operator only looks for them when it starts.
        self.gateway_api_crds = None
        if spec.installs_gateway_api_crds:
            self.gateway_api_crds = install_gateway_api_crds(
                f"{name}-gateway-api-crds", line.gateway_api, in_cluster)

        # 2. hcloud credentials and the CCM.
        self.hcloud_credentials = None
        if spec.addons.ccm.enabled or spec.addons.csi.enabled:
            self.hcloud_credentials = hcloud_credentials(
                f"{name}-hcloud-credentials", hcloud_token, network_id, in_cluster)
        self.ccm_release = None
        if spec.addons.ccm.enabled:
            self.ccm_release = install_ccm(name, spec, after(self.hcloud_credentials))

        # 3. Cilium, after the CRDs it must see and the CCM that gives nodes their addresses.
        self.cluster_mesh = wire_cluster_mesh(name, spec, network_id, self)
        cilium = install_cilium(name, spec, after(self.gateway_api_crds, self.ccm_release),
                                self.cluster_mesh.values if self.cluster_mesh else None)
        self.cilium_release = cilium.release

        # 4. Everything that needs a working network or Cilium's own CRDs.
        self.cilium_resources = install_cilium_resources(name, spec, after(self.cilium_release))
        self.gateway_name = self.gateway_namespace = None
        if spec.addons.gateway.enabled:
            gateway = install_gateway(name, spec, after(self.cilium_release))
            self.gateway_name, self.gateway_namespace = gateway.name, gateway.namespace_name
        self.csi_release = None
        if spec.addons.csi.enabled:
            self.csi_release = install_csi(
                name, spec, after(self.cilium_release, self.hcloud_credentials))
        self.apisix: ApisixInstall | None = None
        if spec.addons.apisix.enabled:
            # After the CCM (the gateway Service's load balancer) and Cilium (pods need a network).
            self.apisix = install_apisix(name, spec, after(self.cilium_release, self.ccm_release),
                                         self.gateway_api_crds)
        self.upgrade_controller = []
        if spec.addons.system_upgrade_controller.enabled:
            self.upgrade_controller = install_upgrade_controller(
                name, spec, after(self.cilium_release))

        # 5. The cluster-autoscaler: its nodes need the CCM (provider ids) and a network.
        self.cluster_autoscaler = []
        if autoscaler is not None:
            self.cluster_autoscaler = install_cluster_autoscaler(
                name, spec, autoscaler, after(self.cilium_release, self.ccm_release))

        self.register_outputs({
            "ciliumRelease": self.cilium_release.name,
            "ciliumVersion": self.cilium_release.version,
            "gatewayName": self.gateway_name,
            "gatewayNamespace": self.gateway_namespace,
        })
