"""Every Cilium policy catches its case in a hand-written Pulumi program.

A tiny ``__main__.py`` that uses none of this project's code registers a Cilium
``helm.v3.Release`` (plus a Hetzner network, Gateway API CRDs or servers where the rule needs
them). It runs through the offline engine and the policy gate, and through ``tools/plan.py``
(exit 2 for a mandatory violation, 0 for an advisory). Where the same values can be written in a
k3s-hcloud stack, the config model refuses them first (exit 1): config validation comes first,
the pack is what catches a release written by hand.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from policies.rules import cilium, cilium_on_hetzner, gateway_api, k3s_cilium, node_images
from tests.helpers import PROJECT_DIR, example_config, write_stack_file
from tools import plan as plan_cli
from tools.lib.engine import run_program
from tools.lib.policy_gate import evaluate
from tools.lib.stack_files import StackConfig

PROGRAM = '''
"""Hand-written: a Cilium release, as someone might write it without k3s-hcloud."""
import json

import pulumi
import pulumi_hcloud as hcloud
import pulumi_kubernetes as kubernetes

CASE = json.loads({case!r})

hcloud.Network("lab-network", ip_range="10.0.0.0/16")
waits_for = []
if CASE["crds"]:
    crds = kubernetes.yaml.v2.ConfigFile("lab-gateway-api-crds", file=CASE["crds"])
    if CASE["crds_first"]:
        waits_for.append(crds)
for index, image in enumerate(CASE["images"]):
    # Well-kept otherwise: SSH keys, no public interface.
    hcloud.Server(f"lab-node-{{index}}", server_type="cx23", image=image, location="nbg1",
                  ssh_keys=["lab-admin"], public_nets=[hcloud.ServerPublicNetArgs(
                      ipv4_enabled=False, ipv6_enabled=False)])
kubernetes.helm.v3.Release(
    "lab-cilium", chart="cilium", version=CASE["version"], namespace="kube-system",
    repository_opts=kubernetes.helm.v3.RepositoryOptsArgs(repo="https://helm.cilium.io/"),
    values=CASE["values"], opts=pulumi.ResourceOptions(depends_on=waits_for))
'''
ASSET = "https://github.com/kubernetes-sigs/gateway-api/releases/download/{}/standard-install.yaml"
# A well-formed release for a Hetzner network, as a baseline the cases change one thing in.
BASE: dict[str, Any] = {
    "kubeProxyReplacement": True, "k8sServiceHost": "127.0.0.1", "k8sServicePort": 6444,
    "routingMode": "native", "ipv4NativeRoutingCIDR": "10.42.0.0/16",
    "ipam": {"mode": "kubernetes"}, "k8s": {"requireIPv4PodCIDR": True},
    "bpf": {"masquerade": True}, "MTU": 1450,
}
GATEWAY = {"gatewayAPI.enabled": True, "l7Proxy": True}
SEED = "dHdlbHZlIGJ5dGVz"  # base64 of b"twelve bytes"


@dataclass(frozen=True)
class Case:
    policy: str
    changes: dict[str, Any] = field(default_factory=dict)
    version: str = "1.20.0"
    crds: str | None = None
    crds_first: bool = True
    images: tuple[str, ...] = ()
    config_key: str | None = None
    """The key the config model names when the same values are put in a k3s-hcloud stack;
    None when the rule cannot be written through config (or the config accepts it)."""
    advisory: bool = False

    def program(self) -> str:
        values = copy.deepcopy(BASE)
        for dotted, value in self.changes.items():
            node = values
            *parents, leaf = dotted.split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = value
        case = {"values": values, "version": self.version, "crds": self.crds,
                "crds_first": self.crds_first, "images": list(self.images)}
        return PROGRAM.format(case=json.dumps(case))


V16 = ASSET.format("v1.6.0")
CASES = [
    Case("cilium-chart-version-supported", version="1.15.6", config_key="cilium.version"),
    Case("cilium-envoy-features-need-l7-proxy", {**GATEWAY, "l7Proxy": False}, crds=V16,
         config_key="cilium.values.l7Proxy"),
    Case("cilium-gateway-api-needs-kube-proxy-replacement",
         {**GATEWAY, "kubeProxyReplacement": False}, crds=V16,
         config_key="cilium.values.kubeProxyReplacement"),
    Case("cilium-gateway-api-traffic-policy-valid",
         {"gatewayAPI.externalTrafficPolicy": "local"},
         config_key="cilium.values.gatewayAPI.externalTrafficPolicy"),
    Case("cilium-gateway-api-socket-lb-override",
         {**GATEWAY, "socketLB.hostNamespaceOnly": False}, crds=V16,
         config_key="cilium.values.socketLB.hostNamespaceOnly"),
    Case("cilium-gateway-api-crds-installed-first", GATEWAY, crds=V16, crds_first=False),
    Case("cilium-gateway-api-crds-match-cilium-line", GATEWAY, crds=ASSET.format("v1.3.0")),
    Case("cilium-egress-gateway-prerequisites",
         {"egressGateway.enabled": True, "bpf.masquerade": False},
         config_key="cilium.values.bpf.masquerade"),
    Case("cilium-egress-gateway-without-cluster-mesh",
         {"egressGateway.enabled": True, "clustermesh.useAPIServer": True,
          "cluster.name": "lab", "cluster.id": 3},
         config_key="cilium.values.egressGateway.enabled"),
    Case("cilium-load-balancer-dsr-dispatch", {"routingMode": "tunnel", "loadBalancer.mode": "dsr"},
         config_key="cilium.values.loadBalancer.mode"),
    Case("cilium-direct-routes-need-native-routing",
         {"routingMode": "tunnel", "autoDirectNodeRoutes": True},
         config_key="cilium.values.autoDirectNodeRoutes"),
    Case("cilium-l2-announcements-need-kube-proxy-replacement",
         {"l2announcements.enabled": True, "kubeProxyReplacement": False},
         config_key="cilium.values.kubeProxyReplacement"),
    Case("cilium-values-valid-enums", {"loadBalancer.algorithm": "roundrobin"},
         config_key="cilium.values.loadBalancer.algorithm"),
    Case("cilium-maglev-valid", {"loadBalancer.algorithm": "maglev", "maglev.tableSize": 1000,
                                 "maglev.hashSeed": SEED},
         config_key="cilium.values.maglev.tableSize"),
    Case("cilium-hubble-chain-complete", {"hubble.ui.enabled": True},
         config_key="cilium.values.hubble.ui.enabled"),
    Case("cilium-cluster-identity-valid", {"cluster.id": 7}, config_key="cilium.values.cluster.name"),
    Case("cilium-native-routing-cidr-set", {"ipv4NativeRoutingCIDR": ""},
         config_key="cilium.values.ipv4NativeRoutingCIDR"),
    Case("cilium-single-encryption-method",
         {"encryption.enabled": True, "encryption.type": "wireguard",
          "extraConfig": {"enable-ipsec": "true"}},
         config_key="cilium.values.encryption.type"),
    Case("cilium-xdp-needs-kube-proxy-replacement",
         {"loadBalancer.acceleration": "native", "kubeProxyReplacement": False},
         config_key="cilium.values.loadBalancer.acceleration"),
    Case("cilium-no-conntrack-rules-prerequisites",
         {"installNoConntrackIptablesRules": True, "bpf.masquerade": False},
         config_key="cilium.values.installNoConntrackIptablesRules"),
    Case("cilium-agent-start-up-refusals", {"nodePort.range": "32767,30000"},
         config_key="cilium.values.nodePort.range"),
    Case("cilium-agent-silently-off",
         {"bandwidthManager.enabled": True, "encryption.enabled": True, "encryption.type": "ipsec"},
         config_key="cilium.values.bandwidthManager.enabled", advisory=True),
    # Reachable from config (tests/bad_stacks/): the config model accepts it, the pack refuses.
    Case("cilium-cluster-pool-outside-hetzner-network",
         {"routingMode": "tunnel", "ipam.mode": "cluster-pool"}),
    Case("cilium-native-routing-uses-node-pod-cidrs",
         {"ipam.mode": "cluster-pool",
          "ipam.operator.clusterPoolIPv4PodCIDRList": ["10.128.0.0/16"]},
         config_key="cilium.values.ipam.mode"),
    Case("cilium-k3s-api-through-load-balancer", {"k8sServicePort": 6443},
         config_key="cilium.values.k8sServicePort"),
    Case("cilium-direct-routes-on-hetzner-network", {"autoDirectNodeRoutes": True}, advisory=True),
    Case("cilium-l2-announcements-on-hetzner-network", {"l2announcements.enabled": True},
         advisory=True),
    Case("cilium-node-image-ubuntu-22-04", images=("ubuntu-22.04", "ubuntu-24.04"), advisory=True),
    # The dev stack's images (ubuntu-24.04) have the kernel: the config accepts these values.
    Case("cilium-node-kernel-supports-features", {"enableIPv4BIGTCP": True},
         images=("debian-12",)),
]
CILIUM_POLICIES = [*gateway_api.POLICIES, *cilium.POLICIES, *cilium_on_hetzner.POLICIES,
                   k3s_cilium.api_through_k3s_load_balancer,
                   *node_images.POLICIES]


@pytest.fixture(scope="module")
def programs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directories = {}
    for case in CASES:
        directory = tmp_path_factory.mktemp(case.policy)
        (directory / "__main__.py").write_text(case.program())
        directories[case.policy] = directory
    return directories


def test_every_cilium_policy_has_a_hand_written_case() -> None:
    assert sorted(c.policy for c in CASES) == sorted(p.name for p in CILIUM_POLICIES)


def test_the_baseline_program_passes_the_pack(tmp_path: Path) -> None:
    (tmp_path / "__main__.py").write_text(Case("none").program())
    assert evaluate(run_program(tmp_path, StackConfig(stack="lab", project="lab"))) == []


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.policy)
def test_the_engine_and_the_gate_catch_it(case: Case, programs: dict[str, Path]) -> None:
    plan = run_program(programs[case.policy], StackConfig(stack="lab", project="lab"))
    violations = evaluate(plan)
    mandatory = {v.policy for v in violations if v.enforcement_level == "mandatory"}
    if case.advisory:
        assert mandatory == set()
        assert case.policy in {v.policy for v in violations if v.enforcement_level == "advisory"}
    else:
        assert mandatory == {case.policy}, [v.message for v in violations]
    [found] = [v for v in violations if v.policy == case.policy][:1]
    offender = found.urn.rsplit("::", 1)[-1] if found.urn else ""
    assert offender in {"lab-cilium", "lab-gateway-api-crds", "lab-node-0"}
    assert f"'{offender}'" in found.message, "the message names the offending resource"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.policy)
def test_the_plan_cli_exits_2_for_mandatory_and_0_for_advisory(
        case: Case, programs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code = plan_cli.main(["--program", str(programs[case.policy]),
                          "--stack-file", str(PROJECT_DIR / "Pulumi.dev.yaml")])
    output = capsys.readouterr().out
    level = "advisory" if case.advisory else "mandatory"
    assert f"{level}: [{case.policy}]" in output
    assert code == (plan_cli.EXIT_OK if case.advisory else plan_cli.EXIT_POLICY)


@pytest.mark.parametrize("case", [c for c in CASES if c.config_key], ids=lambda c: c.policy)
def test_the_same_values_in_a_stack_are_refused_by_the_config_model_first(
        case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = example_config("dev")
    values: dict[str, Any] = {}
    for dotted, value in case.changes.items():
        node = values
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    config["k3s-hcloud:cilium"] = {"version": case.version, "values": values}
    code = plan_cli.main(["--stack-file", str(write_stack_file(tmp_path, config))])
    error = capsys.readouterr().err
    assert code == plan_cli.EXIT_CONFIG, error
    assert f"{case.config_key}:" in error


SECRET_VALUES_PROGRAM = '''
import pulumi
import pulumi_kubernetes as kubernetes

# A Maglev seed kept secret, as it should be, but 11 bytes long.
values = pulumi.Output.secret({values!r})
kubernetes.helm.v3.Release("lab-cilium", chart="cilium", version="1.20.0", values=values)
'''


def test_a_secret_value_is_checked_too(tmp_path: Path) -> None:
    # The analyzer hands policies secret inputs unwrapped, so a secret seed is checkable.
    values = {**BASE, "loadBalancer": {"algorithm": "maglev"},
              "maglev": {"hashSeed": "ZWxldmVuIGJ5dGU="}}  # base64 of b"eleven byte"
    (tmp_path / "__main__.py").write_text(SECRET_VALUES_PROGRAM.format(values=values))
    plan = run_program(tmp_path, StackConfig(stack="lab", project="lab"))
    [release] = plan.by_type("kubernetes:helm.sh/v3:Release")
    assert "values" in release.secret_input_paths()
    [violation] = evaluate(plan)
    assert violation.policy == "cilium-maglev-valid"
    assert "maglev.hashSeed: the seed must be base64 of exactly 12 bytes" in violation.message
    assert "ZWxldmVuIGJ5dGU=" not in violation.message, "a secret never appears in a message"
