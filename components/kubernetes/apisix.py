"""Apache APISIX and apisix-ingress-controller (standalone, no etcd) behind a Hetzner load balancer.

Creates (only with ``addons.apisix.enabled``), in this order:
- the release's Namespace (unless Kubernetes ships it);
- two ``random.RandomPassword`` (admin and viewer keys of APISIX's admin API) and the Secret
  ``<namespace>/apisix-admin-keys`` holding them: the chart and the controller read the keys from
  it, so they never appear in Helm values, the rendered ConfigMap or any plain output;
- the APISIX CRDs (``yaml/v2.ConfigFile`` of the pinned controller chart's ``crds/`` file),
  before the release: Helm installs a chart's ``crds/`` only on first install and never upgrades
  them, and the chart's other CRD file (a Gateway API bundle) must not replace the one Cilium's
  line pins — so the release runs with ``skipCrds``;
- the ``apisix`` Helm release, pinned (``upstream/apisix_chart.json``);
- with roles ``gateway``/``both``: the GatewayClass and a Gateway of that class (after the
  release, which creates the GatewayProxy the Gateway points at, and after the Gateway API CRDs).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as kubernetes
import pulumi_random as random

from components.kubernetes import apisix_manifests
from components.kubernetes.gateway import BUILT_IN_NAMESPACES
from components.kubernetes.helm_release import helm_release
from components.kubernetes.manifest import custom_resource
from stack_config import ClusterSpec
from upstream import apisix

TIMEOUT_SECONDS = 600
# Long enough for brute force to be hopeless; letters and digits only (the key goes into an
# HTTP header, X-API-KEY, and into APISIX's YAML through an environment variable).
KEY_LENGTH = 40


@dataclass(frozen=True)
class ApisixInstall:
    release: kubernetes.helm.v3.Release
    crds: kubernetes.yaml.v2.ConfigFile
    admin_keys: kubernetes.core.v1.Secret
    gateway_class: kubernetes.apiextensions.CustomResource | None
    gateway: kubernetes.apiextensions.CustomResource | None


def _after(opts: pulumi.ResourceOptions, *resources: pulumi.Resource | None
           ) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
        depends_on=[r for r in resources if r is not None]))


def install_apisix(name: str, spec: ClusterSpec, opts: pulumi.ResourceOptions,
                   gateway_api_crds: pulumi.Resource | None) -> ApisixInstall:
    config = spec.addons.apisix
    namespace = None
    if config.namespace not in BUILT_IN_NAMESPACES:
        namespace = kubernetes.core.v1.Namespace(
            f"{name}-apisix-namespace", metadata={"name": config.namespace}, opts=opts)
    in_namespace = _after(opts, namespace)

    # No keepers: a key must not change under a running controller.
    keys = {key: random.RandomPassword(f"{name}-apisix-{key}-key", length=KEY_LENGTH,
                                       special=False, opts=opts)
            for key in (apisix.ADMIN_KEY, apisix.VIEWER_KEY)}
    admin_keys = kubernetes.core.v1.Secret(
        f"{name}-apisix-admin-keys",
        metadata={"name": apisix_manifests.ADMIN_SECRET, "namespace": config.namespace},
        type="Opaque",
        string_data={key: pulumi.Output.secret(password.result)
                     for key, password in keys.items()},
        opts=in_namespace)

    # Deleting a CRD deletes every object of its kind (every ApisixRoute): retained on removal.
    crds = kubernetes.yaml.v2.ConfigFile(
        f"{name}-apisix-crds", file=apisix.crds_url(),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(retain_on_delete=True)))

    release = helm_release(
        f"{name}-apisix",
        release_name=apisix.RELEASE_NAME,
        chart=apisix.chart_name(),
        version=apisix.CHART_VERSION,
        repository=apisix.chart_repository(),
        namespace=config.namespace,
        values=apisix_manifests.helm_values(spec),
        timeout_seconds=TIMEOUT_SECONDS,
        skip_crds=True,
        opts=_after(in_namespace, admin_keys, crds, gateway_api_crds))

    gateway_class = gateway = None
    if config.serves_gateway:
        after_release = _after(opts, release, gateway_api_crds)
        gateway_class = custom_resource(f"{name}-apisix-gateway-class",
                                        apisix_manifests.gateway_class(spec), after_release)
        gateway = custom_resource(f"{name}-apisix-gateway", apisix_manifests.gateway(spec),
                                  _after(after_release, gateway_class))
    return ApisixInstall(release, crds, admin_keys, gateway_class, gateway)
