"""What the Cilium release would receive, checked by real validators: the chart's
values.schema.json per version (jsonschema and the check-jsonschema CLI), the chart rules, and the
Gateway API CRD schema of the pinned release for the Gateway."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.crd_schemas import gateway_api_schema, unknown_fields
from tests.helpers import EXAMPLE_STACKS, example_config, requires_reference
from tests.program_plans import example_plan, plan_config
from tools.lib.engine import Plan
from tools.lib.machine_files import write_machine_files
from upstream.cilium import line_of
from upstream.cilium_chart import check_helm_values

VERSIONS = ["1.18.12", "1.19.6", "1.20.0"]
RELEASE = "kubernetes:helm.sh/v3:Release"
GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"


@cache
def chart_schema(version: str) -> dict[str, Any]:
    return json.loads((requires_reference(f"cilium-chart-{version}") / "values.schema.json")
                      .read_text())


def schema_errors(values: dict[str, Any], version: str) -> list[str]:
    validator = jsonschema.Draft7Validator(chart_schema(version))
    return [f"{'.'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(values)]


def cilium_values(plan: Plan) -> dict[str, Any]:
    [release] = [r for r in plan.by_type(RELEASE) if r.name.endswith("-cilium")]
    return release.plain_inputs()["values"]


def at_version(stack: str, version: str) -> dict[str, Any]:
    config = example_config(stack)
    cilium = dict(config.get("k3s-hcloud:cilium") or {})
    # The example k3s (Kubernetes 1.35) is newer than 1.18/1.19 were tested with.
    cilium.update(version=version, allowUntestedKubernetes=True)
    config["k3s-hcloud:cilium"] = cilium
    return config


@pytest.fixture(scope="module")
def example_plans(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Plan]:
    return {(stack, version): plan_config(tmp_path_factory.mktemp(f"{stack}-{version}"),
                                          at_version(stack, version), stack=stack)
            for stack in EXAMPLE_STACKS for version in VERSIONS}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_example_values_pass_the_chart_schema_and_rules(example_plans: dict, stack: str,
                                                        version: str) -> None:
    plan = example_plans[(stack, version)]
    values = cilium_values(plan)
    assert [r for r in plan.by_type(RELEASE) if r.name.endswith("-cilium")][0] \
        .inputs["version"] == version
    assert schema_errors(values, version) == []
    assert check_helm_values(values, version) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_gateway_manifest_fits_the_pinned_gateway_api_crd(example_plans: dict, version: str) -> None:
    line = line_of(version)
    assert line is not None
    bundle = line.gateway_api
    [gateway] = example_plans[("gateway", version)].by_type(GATEWAY)
    manifest = gateway.plain_inputs()
    schema = gateway_api_schema(bundle.version, bundle.channel, "Gateway", "v1")
    jsonschema.validate(manifest, schema)
    assert unknown_fields(manifest, schema) == []


def test_the_schema_check_catches_a_wrong_type() -> None:
    # The chart schema has types, not a closed key set: what it can catch, it must catch here.
    assert schema_errors({"MTU": "1450"}, "1.20.0") == ["MTU: '1450' is not of type 'integer'"]
    assert schema_errors({"someFutureOption": {"on": True}}, "1.20.0") == []


def test_the_unknown_field_check_catches_a_misspelt_gateway_field() -> None:
    schema = gateway_api_schema("v1.6.0", "standard", "Gateway", "v1")
    manifest = {"spec": {"gatewayClassName": "cilium", "listeners": [],
                         "infrastructure": {"annotation": {}}}}
    assert unknown_fields(manifest, schema) == [".spec.infrastructure.annotation"]


# -- every option the users' guides name is settable and reaches the release ------------------------
NATIVE_OPTIONS: dict[str, Any] = {
    "autoDirectNodeRoutes": True,
    "loadBalancer.mode": "dsr",
    "loadBalancer.dsrDispatch": "opt",
    "loadBalancer.acceleration": "native",
    "loadBalancer.algorithm": "maglev",
    "loadBalancer.serviceTopology": True,
    "maglev.tableSize": 65521,
    "l2announcements.enabled": True,
    "k8sClientRateLimit.qps": 30,
    "k8sClientRateLimit.burst": 60,
    "hubble.relay.enabled": True,
    "hubble.ui.enabled": True,
    "gatewayAPI.enabled": True,
    "egressGateway.enabled": True,
    "l7Proxy": True,
    "installNoConntrackIptablesRules": True,
    "socketLB.hostNamespaceOnly": True,
    "bandwidthManager.enabled": True,
    "bandwidthManager.bbr": True,
    "bpf.lbExternalClusterIP": True,
    "cluster.name": "web-fsn",
    "cluster.id": 12,
    "encryption.enabled": True,
    "encryption.type": "wireguard",
}
TUNNEL_OPTIONS: dict[str, Any] = {
    "routingMode": "tunnel",
    "tunnelProtocol": "geneve",
    "loadBalancer.mode": "hybrid",
    "loadBalancer.dsrDispatch": "geneve",
    "loadBalancer.acceleration": "disabled",
    "loadBalancer.algorithm": "random",
}


def nested(options: dict[str, Any]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for dotted, value in options.items():
        node = tree
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return tree


def lookup(values: dict[str, Any], dotted: str) -> Any:
    node: Any = values
    for part in dotted.split("."):
        node = node[part]
    return node


@pytest.mark.parametrize("options", [NATIVE_OPTIONS, TUNNEL_OPTIONS], ids=["native", "tunnel"])
@pytest.mark.parametrize("version", VERSIONS)
def test_every_guide_option_reaches_the_release(tmp_path: Path, options: dict[str, Any],
                                               version: str) -> None:
    config = example_config("dev")
    config["k3s-hcloud:cilium"] = {"version": version, "allowUntestedKubernetes": True,
                                   "values": nested(options)}
    values = cilium_values(plan_config(tmp_path, config, stack="dev"))
    for dotted, expected in options.items():
        assert lookup(values, dotted) == expected, dotted
    if options is NATIVE_OPTIONS:
        assert len(values["maglev"]["hashSeed"]) == 16, "maglev without a seed gets one"
    assert schema_errors(values, version) == []
    assert check_helm_values(values, version) == []


# -- the files plan.py --out writes, checked by the real CLI ---------------------------------------
def test_written_values_and_manifests_pass_the_cli_validators(tmp_path: Path) -> None:
    plan = example_plan("gateway")
    written = {p.relative_to(tmp_path).as_posix() for p in write_machine_files(plan, tmp_path)}
    assert {"helm/web-cilium.values.yaml", "helm/web-ccm.values.yaml",
            "manifests/web-gateway.yaml"} <= written
    schema = requires_reference("cilium-chart-1.20.0") / "values.schema.json"
    result = subprocess.run(
        [str(Path(sys.executable).parent / "check-jsonschema"), "--schemafile", str(schema),
         str(tmp_path / "helm" / "web-cilium.values.yaml")],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    gateway = yaml.safe_load((tmp_path / "manifests" / "web-gateway.yaml").read_text())
    assert gateway["kind"] == "Gateway" and gateway["spec"]["gatewayClassName"] == "cilium"
