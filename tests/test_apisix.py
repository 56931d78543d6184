"""``addons.apisix``: the config rules, the rendered values and manifests, the whole-program plan
of the example stack, and the chart facts the program pins."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from components.kubernetes import apisix_manifests
from stack_config import validate_cluster_spec
from tests.helpers import PROJECT_DIR, apisix_chart_git_dir, config_problems, example_config, plan_stack_file, \
    write_stack_file
from tests.sentinels import APISIX_ADMIN_KEY, APISIX_VIEWER_KEY, planted_secrets
from tools import apisix_chart_facts
from tools import plan as plan_cli
from upstream import apisix, hetzner

RELEASE = "kubernetes:helm.sh/v3:Release"
SECRET = "kubernetes:core/v1:Secret"
CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile"


def apisix_config(**apisix_keys: Any) -> dict[str, Any]:
    return {"clusterName": "dev", "k3s": {"disable": ["traefik", "servicelb"]},
            "addons": {"apisix": {"enabled": True, **apisix_keys}}}


def leaves(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted path -> value; a dict the chart reads as a whole (annotations, valueFrom) is a
    leaf where the chart's values have that path."""
    found: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and path not in apisix.facts()["valueDefaults"]:
            found.update(leaves(value, f"{path}."))
        else:
            found[path] = value
    return found


# -- config rules -------------------------------------------------------------------------------

def test_the_defaults_validate_and_serve_both_ingress_and_gateway() -> None:
    spec = validate_cluster_spec(apisix_config())
    assert spec.addons.apisix.role == "both"
    assert spec.installs_gateway_api_crds


def test_apisix_serving_ingress_next_to_traefik_is_refused_naming_k3s_disable() -> None:
    raw = apisix_config()
    raw["k3s"]["disable"] = ["servicelb"]
    problems = config_problems(raw)
    assert any(p.startswith("k3s.disable: Traefik") and "add traefik to k3s.disable" in p
               for p in problems), problems
    # A gateway-only APISIX does not compete with Traefik for Ingress.
    raw["addons"]["apisix"]["role"] = "gateway"
    assert validate_cluster_spec(raw).addons.apisix.role == "gateway"


def test_apisix_may_not_claim_ciliums_gateway_class() -> None:
    raw = apisix_config(gatewayClassName="cilium")
    raw["cilium"] = {"values": {"gatewayAPI": {"enabled": True}, "l7Proxy": True}}
    problems = config_problems(raw)
    assert any(p.startswith("addons.apisix.gatewayClassName: the GatewayClass 'cilium'")
               for p in problems), problems


def test_apisix_may_not_claim_ciliums_ingress_class() -> None:
    raw = apisix_config(ingressClassName="cilium")
    raw["cilium"] = {"values": {"ingressController": {"enabled": True}, "l7Proxy": True}}
    problems = config_problems(raw)
    assert any(p.startswith("addons.apisix.ingressClassName: the IngressClass 'cilium'")
               for p in problems), problems


def test_two_default_ingress_classes_are_refused() -> None:
    raw = apisix_config(defaultIngressClass=True)
    raw["cilium"] = {"values": {"ingressController": {"enabled": True, "default": True},
                                "l7Proxy": True}}
    assert any(p.startswith("addons.apisix.defaultIngressClass:") for p in config_problems(raw))


def test_the_load_balancer_follows_the_gateways_zone_rule() -> None:
    problems = config_problems(apisix_config(loadBalancer={"location": "ash"}))
    assert any(p.startswith("addons.apisix.loadBalancer.location: ash is in us-east")
               for p in problems), problems
    # The same rule, same words, as the Cilium Gateway's.
    gateway = config_problems({"clusterName": "dev", "cilium": {"values": {
        "gatewayAPI": {"enabled": True}, "l7Proxy": True}},
        "addons": {"gateway": {"enabled": True, "loadBalancer": {"location": "ash"}}}})
    assert any(p.startswith("addons.gateway.loadBalancer.location: ash is in us-east")
               for p in gateway), gateway
    # Another location in the network's zone is accepted.
    validate_cluster_spec(apisix_config(loadBalancer={"location": "hel1"}))


def test_a_gateway_load_balancer_of_the_same_name_is_refused() -> None:
    raw = apisix_config()
    raw["cilium"] = {"values": {"gatewayAPI": {"enabled": True}, "l7Proxy": True}}
    raw["addons"]["gateway"] = {"enabled": True, "name": "apisix"}
    assert any(p.startswith("addons.gateway.name: names the Hetzner load balancer 'dev-apisix'")
               for p in config_problems(raw))


def test_private_only_needs_a_private_load_balancer_and_ccm_is_required() -> None:
    raw = apisix_config(loadBalancer={"usePrivateIp": False})
    raw["network"] = {"privateOnly": True}
    raw["bastion"] = {"enabled": True}
    assert any(p.startswith("addons.apisix.loadBalancer.usePrivateIp:")
               for p in config_problems(raw))
    raw = apisix_config()
    raw["addons"]["ccm"] = {"enabled": False}
    raw["cilium"] = {"values": {"routingMode": "tunnel"}}
    assert any(p.startswith("addons.apisix.enabled: only hcloud-ccm")
               for p in config_problems(raw))


# -- rendered values and manifests -------------------------------------------------------------

def test_every_value_path_set_exists_in_the_pinned_chart() -> None:
    for role in ("ingress", "gateway", "both"):
        values = apisix_manifests.helm_values(validate_cluster_spec(apisix_config(role=role)))
        unknown = sorted(set(leaves(values)) - set(apisix.facts()["valueDefaults"]))
        assert unknown == [], f"value paths the chart does not have: {unknown}"


def test_values_run_without_etcd_and_keep_the_admin_api_inside_the_cluster() -> None:
    values = apisix_manifests.helm_values(validate_cluster_spec(apisix_config()))
    flat = leaves(values)
    assert flat["etcd.enabled"] is False
    assert flat["apisix.deployment.role_traditional.config_provider"] == "yaml"
    assert flat["ingress-controller.config.provider.type"] == "apisix-standalone"
    assert flat["apisix.admin.type"] == "ClusterIP" and flat["apisix.admin.externalIPs"] == []
    assert flat["apisix.admin.ingress.enabled"] is False
    assert flat["control.service.type"] == "ClusterIP"
    # The chart's published default keys never run: blank, and the Secret is what is read.
    defaults = apisix.facts()["valueDefaults"]
    for key in ("admin", "viewer"):
        assert defaults[f"apisix.admin.credentials.{key}"] not in json.dumps(values)
    assert flat["apisix.admin.credentials.secretName"] == apisix_manifests.ADMIN_SECRET
    assert flat["ingress-controller.gatewayProxy.provider.controlPlane.auth.adminKey.valueFrom"] \
        == {"secretKeyRef": {"name": apisix_manifests.ADMIN_SECRET, "key": "admin"}}
    assert flat["ingress-controller.apisix.adminService.name"] == apisix.ADMIN_SERVICE


def test_ingress_only_turns_the_controllers_gateway_api_off() -> None:
    values = apisix_manifests.helm_values(validate_cluster_spec(apisix_config(role="ingress")))
    assert values["ingress-controller"]["config"]["disableGatewayAPI"] is True
    assert not validate_cluster_spec(apisix_config(role="ingress")).installs_gateway_api_crds


def test_the_gateway_service_gets_the_shared_hcloud_ccm_annotations() -> None:
    spec = validate_cluster_spec(apisix_config(loadBalancer={"type": "lb21", "location": "hel1"}))
    service = apisix_manifests.helm_values(spec)["service"]
    assert service["type"] == "LoadBalancer"
    assert service["annotations"] == {
        hetzner.LB_NAME: "dev-apisix", hetzner.LB_LOCATION: "hel1", hetzner.LB_TYPE: "lb21",
        hetzner.LB_USE_PRIVATE_IP: "true"}


def test_the_gateway_points_at_the_charts_gateway_proxy_and_the_class_at_the_controller() -> None:
    spec = validate_cluster_spec(apisix_config(gatewayClassName="edge", allowedRoutes="All"))
    assert apisix_manifests.gateway_class(spec)["spec"] == {
        "controllerName": "apisix.apache.org/apisix-ingress-controller"}
    gateway = apisix_manifests.gateway(spec)
    assert gateway["metadata"] == {"name": "apisix", "namespace": "apisix"}
    assert gateway["spec"]["gatewayClassName"] == "edge"
    assert gateway["spec"]["infrastructure"]["parametersRef"] == {
        "group": "apisix.apache.org", "kind": "GatewayProxy", "name": "apisix-config"}
    assert gateway["spec"]["listeners"][0]["allowedRoutes"] == {"namespaces": {"from": "All"}}


# -- the whole program -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory):
    with planted_secrets():
        stack_file = write_stack_file(tmp_path_factory.mktemp("apisix"), example_config("apisix"),
                                      "apisix")
        return plan_stack_file(stack_file, "apisix")


def test_the_example_stack_registers_crds_before_the_pinned_release(planted) -> None:
    release = planted.get(RELEASE, "edge-apisix")
    inputs = release.plain_inputs()
    assert (inputs["chart"], inputs["version"]) == ("apisix", apisix.CHART_VERSION)
    assert inputs["repositoryOpts"]["repo"] == "https://apache.github.io/apisix-helm-chart"
    assert inputs["skipCrds"] is True
    crds = planted.get(CONFIG_FILE, "edge-apisix-crds")
    assert crds.plain_inputs()["file"] == apisix.crds_url()
    assert crds.urn in release.dependencies
    assert planted.get(SECRET, "edge-apisix-admin-keys").urn in release.dependencies
    gateway_api = planted.get(CONFIG_FILE, "edge-gateway-api-crds")
    gateway = planted.get("kubernetes:gateway.networking.k8s.io/v1:Gateway", "edge-apisix-gateway")
    assert {release.urn, gateway_api.urn} <= set(gateway.dependencies)


def test_the_admin_keys_are_secrets_only_in_the_secret_and_nowhere_else(planted) -> None:
    secret = planted.get(SECRET, "edge-apisix-admin-keys")
    data = secret.plain_inputs()["stringData"]
    assert data == {"admin": APISIX_ADMIN_KEY, "viewer": APISIX_VIEWER_KEY}
    paths = secret.secret_input_paths()
    assert all(any(p in ("stringData", f"stringData.{key}") for p in paths)
               for key in ("admin", "viewer")), paths
    for resource in planted.resources:
        if resource.urn == secret.urn or resource.type == "random:index/randomPassword:RandomPassword":
            continue
        text = json.dumps(resource.plain_inputs())  # secrets unwrapped: not even as a secret
        assert APISIX_ADMIN_KEY not in text and APISIX_VIEWER_KEY not in text, resource.urn


# -- upstream facts ----------------------------------------------------------------------------

def test_chart_facts_match_the_pinned_tag() -> None:
    git_dir = apisix_chart_git_dir()
    if not git_dir.exists():
        pytest.skip(f"no apache/apisix-helm-chart clone at {git_dir} (set APISIX_CHART_GIT_DIR; "
                    "the Go module proxy does not serve this repository)")
    result = subprocess.run([sys.executable, str(PROJECT_DIR / "tools" / "apisix_chart_facts.py"),
                             "--git-dir", str(git_dir), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_the_pinned_line_is_the_standalone_gateway_api_one() -> None:
    facts = apisix.facts()
    assert facts["chart"]["version"] == apisix.CHART_VERSION
    major = int(facts["ingressController"]["appVersion"].split(".")[0])
    assert major >= 2, "controller 1.x needs APISIX's etcd-backed admin API"
    kinds = {crd["kind"] for crd in facts["ingressController"]["crds"]}
    assert {"ApisixRoute", "GatewayProxy"} <= kinds
    # The chart's own Gateway API bundle is what skipCrds keeps out.
    assert "HTTPRoute" in facts["ingressController"]["gatewayApiCrds"]["kinds"]


def test_plan_refuses_apisix_next_to_traefik_with_exit_1_naming_the_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = example_config("apisix")
    config["k3s-hcloud:k3s"]["disable"] = ["servicelb"]
    stack_file = write_stack_file(tmp_path, config, "apisix")
    code = plan_cli.main(["--stack-file", str(stack_file)])
    output = "".join(capsys.readouterr())
    assert code == plan_cli.EXIT_CONFIG, output
    assert "k3s.disable: Traefik (packaged with k3s) and APISIX" in output
    assert "Traceback" not in output
