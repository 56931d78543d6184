"""The Kubernetes layer as the engine records it: order, provider, secrets, day-2 behaviour.

Every plan is of the whole program (tests/program_plans.py): the layer gets the kubeconfig the
bootstrap reads, the network id of the infrastructure and waits for the real control plane.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

import yaml

from tests.helpers import example_config
from tests.program_plans import COMMAND, depends_on, example_plan, one, plan_config
from tools.lib.engine import Plan
from tools.lib.stack_files import SECRET_PLACEHOLDER
from upstream.cilium import DEFAULT_VERSION
from upstream.hetzner import CSI_CHART_VERSION
from upstream.k3s import SYSTEM_UPGRADE_CONTROLLER_VERSION

RELEASE = "kubernetes:helm.sh/v3:Release"
CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile"
SECRET = "kubernetes:core/v1:Secret"
PROVIDER = "pulumi:providers:kubernetes"
GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
LAYER = "k3s-hcloud:kubernetes:KubernetesLayer"
CLUSTER = "k3s-hcloud:index:K3sCluster"
NETWORK_TYPE = "hcloud:index/network:Network"


def stack(base: str = "dev", **changes: Any) -> dict[str, Any]:
    """An example stack's config with top-level keys (without the project prefix) replaced."""
    config = example_config(base)
    for key, value in changes.items():
        config[f"k3s-hcloud:{key}"] = value
    return config


def cilium(values: dict[str, Any], **extra: Any) -> dict[str, Any]:
    # The default version: a change of values alone must not change the release's version.
    return {"version": DEFAULT_VERSION, "values": values, **extra}


@pytest.fixture(scope="module")
def gateway_plan() -> Plan:
    return example_plan("gateway")


@pytest.fixture(scope="module")
def dev_plan() -> Plan:
    return example_plan("dev")


def layer_resources(plan: Plan) -> set[str]:
    """The urns the Kubernetes layer registers (its children, at any depth)."""
    [layer] = plan.by_type(LAYER)
    inside, grew = {layer.urn}, True
    while grew:
        found = {r.urn for r in plan.resources if r.parent in inside} - inside
        inside |= found
        grew = bool(found)
    return inside - {layer.urn}


# -- order -----------------------------------------------------------------------------------------
def test_gateway_stack_installs_crds_then_ccm_then_cilium_then_the_gateway(gateway_plan: Plan) -> None:
    crds = one(gateway_plan, CONFIG_FILE, "-gateway-api-crds")
    credentials = one(gateway_plan, SECRET, "-hcloud-credentials")
    ccm = one(gateway_plan, RELEASE, "-ccm")
    cilium_release = one(gateway_plan, RELEASE, "-cilium")
    gateway = gateway_plan.get(GATEWAY, "web-gateway")
    assert credentials.urn in ccm.dependencies
    assert {crds.urn, ccm.urn} <= set(cilium_release.dependencies)
    assert cilium_release.urn in gateway.dependencies
    assert crds.inputs["file"] == ("https://github.com/kubernetes-sigs/gateway-api/releases/"
                                   "download/v1.6.0/standard-install.yaml")


def test_nothing_touches_the_cluster_before_the_control_plane_is_up(gateway_plan: Plan) -> None:
    # The kubeconfig reader and every server's join (uncordon, etcd membership) come first.
    control_plane = [r for r in gateway_plan.by_type(COMMAND) if r.name == "web-kubeconfig" or (
        r.name.startswith("web-cp-") and r.name.endswith(("-uncordon", "-membership")))]
    assert len(control_plane) == 1 + 3 + 2
    for resource in (one(gateway_plan, PROVIDER, "-k8s"),
                     one(gateway_plan, CONFIG_FILE, "-gateway-api-crds"),
                     one(gateway_plan, SECRET, "-hcloud-credentials")):
        for step in control_plane:
            assert step.urn in resource.dependencies, (resource.name, step.name)


def test_without_gateway_api_no_crds_are_installed(dev_plan: Plan) -> None:
    assert dev_plan.by_type(CONFIG_FILE) == []
    assert dev_plan.by_type(GATEWAY) == []
    assert "gatewayName" not in dev_plan.outputs


def test_gateway_api_crds_are_retained_when_the_resource_goes(gateway_plan: Plan) -> None:
    # Deleting a CRD deletes every object of its kind, including routes other tools created.
    assert one(gateway_plan, CONFIG_FILE, "-gateway-api-crds").options["retainOnDelete"] is True


# -- provider and secrets --------------------------------------------------------------------------
def test_every_kubernetes_resource_uses_the_layers_explicit_provider(gateway_plan: Plan) -> None:
    provider = one(gateway_plan, PROVIDER, "-k8s")
    in_cluster = [r for r in gateway_plan.resources if r.type.startswith("kubernetes:")]
    assert in_cluster and {r.urn for r in in_cluster} <= layer_resources(gateway_plan)
    for resource in in_cluster:
        assert resource.provider is not None and resource.provider.startswith(provider.urn), \
            resource.name


def admin_key(plan: Plan) -> str:
    """The client key of the kubeconfig the provider gets (the mock engine's stand-in)."""
    document = yaml.safe_load(one(plan, PROVIDER, "-k8s").plain_inputs()["kubeconfig"])
    [user] = document["users"]
    return user["user"]["client-key-data"]


def test_kubeconfig_is_secret_and_applies_are_server_side(gateway_plan: Plan) -> None:
    provider = one(gateway_plan, PROVIDER, "-k8s")
    assert provider.secret_input_paths() == ["kubeconfig"]
    assert len(admin_key(gateway_plan)) > 40, "the provider gets the bootstrap's admin kubeconfig"
    assert provider.inputs["enableServerSideApply"] == "true"


def test_no_secret_appears_in_plain_inputs_or_outputs(gateway_plan: Plan) -> None:
    key = admin_key(gateway_plan)
    for resource in gateway_plan.resources:
        text = repr(resource.masked_inputs())
        assert key not in text, resource.name
        assert SECRET_PLACEHOLDER not in text, resource.name
    assert SECRET_PLACEHOLDER not in repr({k: v.value for k, v in gateway_plan.outputs.items()
                                           if not v.secret})


def test_hcloud_secret_carries_token_and_network_for_ccm_and_csi(gateway_plan: Plan) -> None:
    credentials = one(gateway_plan, SECRET, "-hcloud-credentials")
    network = gateway_plan.by_type(NETWORK_TYPE)[0]
    assert credentials.inputs["metadata"] == {"name": "hcloud", "namespace": "kube-system"}
    assert credentials.secret_input_paths() == ["stringData"]
    data = credentials.plain_inputs()["stringData"]
    assert data["token"] == SECRET_PLACEHOLDER
    assert data["network"].isdigit()
    assert network.urn in credentials.property_dependencies["stringData"]


# -- Helm releases ---------------------------------------------------------------------------------
def test_releases_are_pinned_atomic_and_keep_their_names(gateway_plan: Plan) -> None:
    expected = {
        "-ccm": ("hcloud-cloud-controller-manager", "hcloud-cloud-controller-manager",
                 "https://charts.hetzner.cloud", "1.35.0"),
        "-cilium": ("cilium", "cilium", "https://helm.cilium.io/", "1.20.0"),
    }
    for suffix, (release_name, chart, repo, version) in expected.items():
        release = one(gateway_plan, RELEASE, suffix)
        assert release.inputs["name"] == release_name
        assert release.inputs["chart"] == chart
        assert release.inputs["repositoryOpts"] == {"repo": repo}
        assert release.inputs["version"] == version
        assert release.inputs["namespace"] == "kube-system"
        assert release.inputs["atomic"] is True
        assert release.inputs["timeout"] >= 300
        assert release.options["replaceOnChanges"] == []


def test_ccm_routes_pod_cidrs_and_schedules_before_the_cni(gateway_plan: Plan) -> None:
    values = one(gateway_plan, RELEASE, "-ccm").inputs["values"]
    assert values["networking"] == {"enabled": True, "clusterCIDR": "10.42.0.0/16"}
    assert {"key": "node.kubernetes.io/not-ready", "operator": "Exists",
            "effect": "NoSchedule"} in values["additionalTolerations"]
    assert values["env"]["HCLOUD_LOAD_BALANCERS_LOCATION"] == {"value": "nbg1"}
    assert "HCLOUD_NETWORK_ROUTES_ENABLED" not in values["env"]


def test_tunnel_routing_turns_the_ccm_route_controller_off(tmp_path: Path) -> None:
    plan = plan_config(tmp_path, stack(cilium=cilium({"routingMode": "tunnel"})))
    values = one(plan, RELEASE, "-ccm").inputs["values"]
    assert values["env"]["HCLOUD_NETWORK_ROUTES_ENABLED"] == {"value": "false"}
    assert values["networking"]["enabled"] is True, "private LB targets still need the network"


def test_cilium_release_gets_exactly_the_validated_values(gateway_plan: Plan) -> None:
    from stack_config import validate_cluster_spec

    raw = {k.removeprefix("k3s-hcloud:"): v for k, v in example_config("gateway").items()}
    values = one(gateway_plan, RELEASE, "-cilium").inputs["values"]
    assert values == validate_cluster_spec(raw).cilium_helm_values
    assert values["gatewayAPI"] == {"enabled": True, "gatewayClass": {"create": "true"}}
    assert values["defaultLBServiceIPAM"] == "none"


# -- day 2 -----------------------------------------------------------------------------------------
def _diff(before: Plan, after: Plan, within: set[str] | None = None) -> dict[str, set[str]]:
    """urn → input keys that differ; a urn in only one plan maps to {'<added/removed>'}. The
    program's own components are left out: their props are descriptive, they hold no state.
    ``within`` limits the comparison to those urns."""
    def stateful(plan: Plan) -> dict:
        return {urn: r for urn, r in plan.by_urn().items() if not r.type.startswith("k3s-hcloud:")
                and (within is None or urn in within)}

    old, new = stateful(before), stateful(after)
    changed: dict[str, set[str]] = {}
    for urn in set(old) | set(new):
        if urn not in old or urn not in new:
            changed[urn] = {"<added/removed>"}
            continue
        a, b = old[urn].plain_inputs(), new[urn].plain_inputs()
        keys = {k for k in set(a) | set(b) if a.get(k) != b.get(k)}
        if keys:
            changed[urn] = keys
    return changed


def test_changing_a_cilium_value_only_changes_the_releases_values(dev_plan: Plan,
                                                                  tmp_path: Path) -> None:
    changed = plan_config(tmp_path, stack(cilium=cilium({"hubble": {
        "relay": {"enabled": True}}, "loadBalancer": {"mode": "dsr"}})), stack="dev")
    diff = _diff(dev_plan, changed)
    [(urn, keys)] = diff.items()
    assert urn.endswith("::dev-cilium") and keys == {"values"}


def test_moving_to_another_cilium_line_upgrades_in_place(tmp_path: Path) -> None:
    gateway = stack("gateway")["k3s-hcloud:cilium"]
    older = {**gateway, "version": "1.19.6", "allowUntestedKubernetes": True}
    before = plan_config(tmp_path, stack("gateway", cilium=older), stack="gateway")
    after = plan_config(tmp_path, stack("gateway", cilium=gateway), stack="gateway")
    diff = {urn.rsplit("::", 1)[1]: keys for urn, keys in _diff(before, after).items()}
    assert diff == {"web-cilium": {"version"}, "web-gateway-api-crds": {"file"}}


def test_maglev_without_a_seed_gets_a_generated_secret_one(tmp_path: Path) -> None:
    plan = plan_config(tmp_path, stack(cilium=cilium({"loadBalancer": {"algorithm": "maglev"},
                                                            "maglev": {"tableSize": 65521}})))
    [seed] = plan.by_type("random:index/randomBytes:RandomBytes")
    assert seed.inputs["length"] == 12
    release = one(plan, RELEASE, "-cilium")
    # Only the seed is secret; every other value stays reviewable.
    assert release.secret_input_paths() == ["values.maglev.hashSeed"]
    values = release.plain_inputs()["values"]
    assert values["maglev"]["tableSize"] == 65521
    assert len(values["maglev"]["hashSeed"]) == 16  # base64 of 12 bytes
    assert seed.urn in release.dependencies


def test_a_given_maglev_seed_is_used_as_is(tmp_path: Path) -> None:
    plan = plan_config(tmp_path, stack(cilium=cilium({
        "loadBalancer": {"algorithm": "maglev"}, "maglev": {"hashSeed": "dHdlbHZlIGJ5dGVz"}})))
    assert plan.by_type("random:index/randomBytes:RandomBytes") == []
    assert one(plan, RELEASE, "-cilium").inputs["values"]["maglev"]["hashSeed"] == "dHdlbHZlIGJ5dGVz"


def test_a_secret_cilium_config_key_keeps_the_values_secret(tmp_path: Path) -> None:
    # One `secure:` value anywhere under `cilium` makes the whole key secret in the stack config.
    config = stack(cilium=cilium({"hubble": {"relay": {"enabled": True},
                                             "ui": {"enabled": True, "ingress": {"annotations": {
                                                 "auth": {"secure": "AAAbase64cipher"}}}}}}))
    release = one(plan_config(tmp_path, config), RELEASE, "-cilium")
    assert release.secret_input_paths() == ["values"]


def test_plain_cilium_values_stay_plain(dev_plan: Plan) -> None:
    assert one(dev_plan, RELEASE, "-cilium").secret_input_paths() == []


# -- Cilium resources ------------------------------------------------------------------------------
CR_STACK = {
    "version": "1.20.0",
    "values": {"l2announcements": {"enabled": True}, "egressGateway": {"enabled": True},
               "k8sClientRateLimit": {"qps": 20, "burst": 40}},
    "loadBalancerIPPools": [{"name": "lan", "blocks": ["192.0.2.0/28",
                                                       {"start": "192.0.2.20", "stop": "192.0.2.30"}],
                             "serviceSelector": {"matchLabels": {"pool": "lan"}}}],
    "l2AnnouncementPolicies": [{"name": "lan", "interfaces": ["^eth1$"],
                                "nodeSelector": {"matchExpressions": [
                                    {"key": "node-role.kubernetes.io/control-plane",
                                     "operator": "DoesNotExist"}]}}],
    "egressGatewayPolicies": [{"name": "partner-api", "destinationCIDRs": ["203.0.113.0/24"],
                               "excludedCIDRs": ["203.0.113.128/25"],
                               "podSelector": {"matchLabels": {"app": "billing"}},
                               "egressGateway": {"nodeSelector": {"matchLabels": {"egress": "true"}},
                                                 "egressIP": "10.0.1.10"}}],
}


@pytest.fixture(scope="module")
def cr_plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    return plan_config(tmp_path_factory.mktemp("crs"), stack(cilium=CR_STACK))


@pytest.mark.parametrize("kind,api_version,name", [
    ("CiliumLoadBalancerIPPool", "cilium.io/v2", "dev-lb-pool-lan"),
    ("CiliumL2AnnouncementPolicy", "cilium.io/v2alpha1", "dev-l2-policy-lan"),
    ("CiliumEgressGatewayPolicy", "cilium.io/v2", "dev-egress-policy-partner-api"),
])
def test_cilium_resources_render_after_the_release_with_the_crd_shape(
        cr_plan: Plan, kind: str, api_version: str, name: str) -> None:
    import jsonschema

    from tests.crd_schemas import cilium_manifest_schema

    resource = cr_plan.get(f"kubernetes:{api_version}:{kind}", name)
    assert one(cr_plan, RELEASE, "-cilium").urn in resource.dependencies
    jsonschema.validate(resource.plain_inputs(), cilium_manifest_schema(kind, api_version))


def test_egress_policy_selects_pods_and_routes_through_the_gateway_node(cr_plan: Plan) -> None:
    policy = cr_plan.get("kubernetes:cilium.io/v2:CiliumEgressGatewayPolicy",
                         "dev-egress-policy-partner-api")
    assert policy.inputs["spec"] == {
        "selectors": [{"podSelector": {"matchLabels": {"app": "billing"}}}],
        "destinationCIDRs": ["203.0.113.0/24"],
        "excludedCIDRs": ["203.0.113.128/25"],
        "egressGateway": {"nodeSelector": {"matchLabels": {"egress": "true"}},
                          "egressIP": "10.0.1.10"},
    }


# -- the Gateway -----------------------------------------------------------------------------------
def test_gateway_asks_hcloud_ccm_for_a_hetzner_load_balancer(gateway_plan: Plan) -> None:
    gateway = gateway_plan.get(GATEWAY, "web-gateway")
    spec = gateway.inputs["spec"]
    assert gateway.inputs["metadata"] == {"name": "web", "namespace": "default"}
    assert spec["gatewayClassName"] == "cilium"
    assert spec["infrastructure"]["annotations"] == {
        "load-balancer.hetzner.cloud/name": "web-web",
        "load-balancer.hetzner.cloud/location": "nbg1",
        "load-balancer.hetzner.cloud/type": "lb11",
        "load-balancer.hetzner.cloud/use-private-ip": "true",
    }
    assert spec["listeners"] == [{"name": "http", "port": 80, "protocol": "HTTP",
                                  "allowedRoutes": {"namespaces": {"from": "Same"}}}]


def test_gateway_name_is_exported_for_route_parent_refs(gateway_plan: Plan) -> None:
    output = gateway_plan.outputs["gatewayName"]
    assert output.value == "web" and not output.secret
    gateway = gateway_plan.get(GATEWAY, "web-gateway")
    assert gateway.inputs["metadata"]["name"] == output.value
    [layer], [cluster] = gateway_plan.by_type(LAYER), gateway_plan.by_type(CLUSTER)
    assert layer.parent == cluster.urn and gateway.urn in layer_resources(gateway_plan)


def test_gateway_in_its_own_namespace_creates_it_first(tmp_path: Path) -> None:
    addons = copy.deepcopy(example_config("gateway")["k3s-hcloud:addons"])
    addons["gateway"]["namespace"] = "edge"
    plan = plan_config(tmp_path, stack("gateway", addons=addons), stack="gateway")
    namespace = plan.get("kubernetes:core/v1:Namespace", "web-gateway-namespace")
    assert namespace.inputs["metadata"] == {"name": "edge"}
    assert namespace.urn in plan.get(GATEWAY, "web-gateway").dependencies


# -- optional add-ons ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def addons_plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    return plan_config(tmp_path_factory.mktemp("addons"), stack(addons={
        "csi": {"enabled": True}, "systemUpgradeController": {"enabled": True}}))


def test_csi_driver_is_a_pinned_release_after_cilium_and_the_credentials(addons_plan: Plan) -> None:
    csi = one(addons_plan, RELEASE, "-csi")
    assert (csi.inputs["chart"], csi.inputs["version"]) == ("hcloud-csi", CSI_CHART_VERSION)
    assert csi.inputs["repositoryOpts"] == {"repo": "https://charts.hetzner.cloud"}
    assert one(addons_plan, RELEASE, "-cilium").urn in csi.dependencies
    assert one(addons_plan, SECRET, "-hcloud-credentials").urn in csi.dependencies


def test_upgrade_controller_manifests_are_pinned_and_plans_follow_them(addons_plan: Plan) -> None:
    crd = one(addons_plan, CONFIG_FILE, "-upgrade-crd")
    controller = one(addons_plan, CONFIG_FILE, "-upgrade-controller")
    base = ("https://github.com/rancher/system-upgrade-controller/releases/download/"
            f"{SYSTEM_UPGRADE_CONTROLLER_VERSION}/")
    assert crd.inputs["file"] == base + "crd.yaml"
    assert controller.inputs["file"] == base + "system-upgrade-controller.yaml"
    plans = addons_plan.by_type("kubernetes:upgrade.cattle.io/v1:Plan")
    assert sorted(p.inputs["metadata"]["name"] for p in plans) == ["k3s-agent", "k3s-server"]
    for plan in plans:
        assert {crd.urn, controller.urn} <= set(plan.dependencies)
        assert plan.inputs["spec"]["version"] == "v1.36.5+k3s1"


def test_a_k3s_version_bump_only_updates_the_upgrade_plans(addons_plan: Plan, tmp_path: Path) -> None:
    bumped = plan_config(tmp_path, stack(
        addons={"csi": {"enabled": True}, "systemUpgradeController": {"enabled": True}},
        k3s={"version": "v1.35.4+k3s1"}), stack="test")
    # Of what is installed in the cluster: the nodes' own k3s steps change too (bootstrap tests).
    in_cluster = layer_resources(addons_plan)
    diff = {urn.rsplit("::", 1)[1]: keys
            for urn, keys in _diff(addons_plan, bumped, in_cluster).items()}
    assert diff == {"dev-k3s-server-plan": {"spec"}, "dev-k3s-agent-plan": {"spec"}}
