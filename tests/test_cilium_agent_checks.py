"""The Cilium agent's start-up refusals: listed from Cilium's source, each classified, the mirrored
ones refused (and their fixes accepted) on every line they apply to.

upstream/cilium_charts/agent-checks.json is what tools/cilium_agent_checks.py reads from the Go
module source of each line (github.com/cilium/cilium@v<version>); the regeneration test skips
with the reason where that source is absent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stack_config import validate_cluster_spec
from tests.helpers import config_problems, minimal_config, with_dotted_changes
from tools import cilium_agent_checks as generator
from upstream.cilium import SUPPORTED_LINES
from upstream.cilium_agent import (
    AGENT_CHECKS,
    AGENT_RULES,
    STACK_RULES,
    agent_facts,
    classification,
    maglev_table_sizes,
)
from upstream.cilium_chart import RULE_IDS, check_helm_values

BASE: dict[str, Any] = {
    "kubeProxyReplacement": True, "k8sServiceHost": "127.0.0.1", "k8sServicePort": 6444,
    "routingMode": "native", "ipv4NativeRoutingCIDR": "10.42.0.0/16",
    "ipam": {"mode": "kubernetes"}, "k8s": {"requireIPv4PodCIDR": True},
    "bpf": {"masquerade": True}, "MTU": 1450, "loadBalancer": {"acceleration": "best-effort"},
}
VERSIONS = [line.newest_verified_patch for line in SUPPORTED_LINES.values()]


def rules_refusing(changes: dict[str, Any], version: str) -> set[str]:
    return {f.rule for f in check_helm_values(with_dotted_changes(BASE, changes), version)}


# -- the listing -----------------------------------------------------------------------------------
@pytest.mark.parametrize("minor", SUPPORTED_LINES)
def test_the_committed_listing_is_what_the_cilium_source_gives(minor: str) -> None:
    version = SUPPORTED_LINES[minor].newest_verified_patch
    try:
        derived = generator.line_checks(version)
    except generator.SourceMissing as missing:
        pytest.skip(str(missing))
    assert derived == agent_facts(SUPPORTED_LINES[minor]), \
        "the agent's checks changed upstream: run python tools/cilium_agent_checks.py, then " \
        "classify every new check in upstream/cilium_agent.py AGENT_CHECKS"


@pytest.mark.parametrize("minor", SUPPORTED_LINES)
def test_every_listed_check_is_classified(minor: str) -> None:
    checks = agent_facts(SUPPORTED_LINES[minor])["checks"]
    unclassified = [f"{c['function']}: {c['message']} ({c['arguments']})" for c in checks
                    if classification(c) is None]
    assert unclassified == [], "classify these in upstream/cilium_agent.py AGENT_CHECKS"


def test_every_classification_is_needed_and_names_a_rule_or_a_reason() -> None:
    every_check = [c for minor in SUPPORTED_LINES
                   for c in agent_facts(SUPPORTED_LINES[minor])["checks"]]
    for known in AGENT_CHECKS:
        assert any(known.matches(c) for c in every_check), f"stale: {known}"
        assert (known.mirrored_by is None) != (not known.not_mirrored), known
        if known.mirrored_by is not None:
            assert known.mirrored_by in (*RULE_IDS, *STACK_RULES), known


def test_every_line_was_read_from_its_pinned_patch_or_the_named_substitute() -> None:
    for minor, line in SUPPORTED_LINES.items():
        source = agent_facts(line)["source"]
        assert source in (line.newest_verified_patch,
                          generator.TEMPLATE_SUBSTITUTES.get(line.newest_verified_patch)), minor


def test_functions_are_read_up_to_their_closing_brace_and_messages_with_their_options(
        tmp_path: Path) -> None:
    text = ('func (c *DaemonConfig) Validate(vp *viper.Viper) error {\n'
            '\tif c.X < 0 {\n\t\treturn fmt.Errorf("X %d cannot be "+\n\t\t\t"negative", c.X)\n\t}\n'
            '\tif bad {\n\t\treturn errors.New(`raw message`)\n\t}\n'
            '\tlog.Warn("only a warning")\n\treturn nil\n}\n'
            'func other() error {\n\treturn fmt.Errorf("not in Validate")\n}\n')
    body = generator.function_body(text, generator.Scan("DaemonConfig.Validate", ()))
    assert body is not None and "not in Validate" not in body
    assert generator.messages(body) == [("refuse", "X %d cannot be negative", "c.X"),
                                        ("refuse", "raw message", ""),
                                        ("warn", "only a warning", "")]
    assert generator.function_body(text, generator.Scan("Other.Validate", ())) is None


def test_maglev_table_sizes_come_from_the_agent_source() -> None:
    for line in SUPPORTED_LINES.values():
        sizes = maglev_table_sizes(line)
        assert 16381 in sizes and all(isinstance(n, int) for n in sizes)


# -- the mirrored rules: refused, and accepted once fixed -------------------------------------------
# rule → [(versions, refused values, the same values fixed)]
CASES: dict[str, list[tuple[list[str], dict[str, Any], dict[str, Any]]]] = {
    "agent-underlay-protocol": [
        (VERSIONS, {"underlayProtocol": "IPv4"}, {"underlayProtocol": "ipv4"}),
        (["1.18.12", "1.19.6"], {"underlayProtocol": "auto"}, {"underlayProtocol": "ipv4"}),
        (["1.20.0"], {"underlayProtocol": "ipv6"},
         {"underlayProtocol": "ipv6", "ipv6.enabled": True,
          "ipv6NativeRoutingCIDR": "fd00::/100"}),
    ],
    "agent-tunnel-source-port-range": [
        (VERSIONS, {"tunnelSourcePortRange": "any"}, {"tunnelSourcePortRange": "10000-20000"})],
    "agent-negative-mtu": [(["1.18.12"], {"MTU": -1}, {"MTU": 1450})],
    "agent-eni-ipv6": [(["1.18.12", "1.19.6"],
                        {"ipam.mode": "eni", "ipv6.enabled": True,
                         "ipv6NativeRoutingCIDR": "fd00::/100"},
                        {"ipam.mode": "eni"})],
    "agent-policy-cidr-match-mode": [
        (VERSIONS, {"policyCIDRMatchMode": ["nodes", "world"]}, {"policyCIDRMatchMode": ["nodes"]}),
        (VERSIONS, {"policyCIDRMatchMode": "Nodes"}, {"policyCIDRMatchMode": "nodes pods"})],
    "agent-delegated-ipam": [(VERSIONS, {"routingMode": "tunnel", "ipam.mode": "delegated-plugin"},
                              {"routingMode": "tunnel", "ipam.mode": "kubernetes"})],
    "agent-map-sizes": [
        (VERSIONS, {"bpf.ctTcpMax": 512}, {"bpf.ctTcpMax": 1024}),
        (VERSIONS, {"bpf.authMapMax": 1 << 25}, {"bpf.authMapMax": 1 << 24}),
        (VERSIONS, {"bpf.ctTcpMax": 2048, "bpf.ctAnyMax": 2048, "bpf.natMax": 8192},
         {"bpf.ctTcpMax": 2048, "bpf.ctAnyMax": 2048, "bpf.natMax": 4096})],
    "agent-lb-map-max": [(VERSIONS, {"bpf.lbMapMax": 0}, {"bpf.lbMapMax": 65536})],
    "agent-node-port-range": [
        (VERSIONS, {"nodePort.range": "32767,30000"}, {"nodePort.range": "30000,32767"}),
        (VERSIONS, {"nodePort.range": "30000-32767"}, {"nodePort.range": "30000,32767"})],
    "agent-mode-annotation": [
        (VERSIONS, {"bpf.lbModeAnnotation": True, "loadBalancer.mode": "hybrid"},
         {"bpf.lbModeAnnotation": True, "loadBalancer.mode": "dsr"}),
        (["1.20.0"], {"bpf.lbModeAnnotation": True, "routingMode": "tunnel"},
         {"bpf.lbModeAnnotation": True, "routingMode": "tunnel",
          "loadBalancer.dsrDispatch": "ipip"})],
    "agent-reflector-wait-time": [(["1.20.0"], {"loadBalancer.reflectorWaitTime": "0s"},
                                   {"loadBalancer.reflectorWaitTime": "500ms"})],
    "agent-xdp-ipv6-underlay": [
        (["1.20.0"], {"routingMode": "tunnel", "underlayProtocol": "ipv6", "ipv6.enabled": True},
         {"routingMode": "tunnel", "underlayProtocol": "ipv6", "ipv6.enabled": True,
          "loadBalancer.acceleration": "disabled"})],
    "agent-ipip-dispatch-needs-xdp": [
        (["1.18.12"], {"loadBalancer.mode": "dsr", "loadBalancer.dsrDispatch": "ipip",
                       "loadBalancer.acceleration": "disabled"},
         {"loadBalancer.mode": "dsr", "loadBalancer.dsrDispatch": "ipip"})],
    "agent-egress-gateway-underlay": [
        (["1.19.6", "1.20.0"],
         {"egressGateway.enabled": True, "underlayProtocol": "ipv6", "ipv6.enabled": True,
          "ipv6NativeRoutingCIDR": "fd00::/100", "loadBalancer.acceleration": "disabled"},
         {"egressGateway.enabled": True, "underlayProtocol": "ipv4", "ipv6.enabled": True,
          "ipv6NativeRoutingCIDR": "fd00::/100", "loadBalancer.acceleration": "disabled"})],
    "agent-bandwidth-manager": [
        (VERSIONS, {"bandwidthManager.enabled": True, "bandwidthManager.bbrHostNamespaceOnly": True},
         {"bandwidthManager.enabled": True, "bandwidthManager.bbrHostNamespaceOnly": True,
          "bandwidthManager.bbr": True}),
        (VERSIONS, {"bandwidthManager.enabled": True, "bandwidthManager.bbr": True,
                    "bpf.hostLegacyRouting": True},
         {"bandwidthManager.enabled": True, "bandwidthManager.bbr": True})],
    "agent-ip-family": [(VERSIONS, {"ipv4.enabled": False, "ipv4NativeRoutingCIDR": None,
                                    "bpf.masquerade": False, "ipv6.enabled": False},
                         {"ipv6.enabled": False})],
    "agent-datapath-mode": [(["1.18.12", "1.19.6"], {"bpf.datapathMode": "Veth"},
                             {"bpf.datapathMode": "veth"})],
    "agent-monitor-aggregation": [
        (VERSIONS, {"bpf.monitorAggregation": "high"}, {"bpf.monitorAggregation": "Medium"}),
        (VERSIONS, {"bpf.monitorAggregation": "4"}, {"bpf.monitorAggregation": "maximum"})],
    "agent-ipam-and-routing": [
        (VERSIONS, {"routingMode": "tunnel", "ipam.mode": "eni"},
         {"routingMode": "tunnel", "ipam.mode": "kubernetes"}),
        (["1.18.12"], {"routingMode": "native", "ipam.mode": "multi-pool",
                       "encryption.enabled": True, "encryption.type": "ipsec"},
         {"routingMode": "native", "ipam.mode": "kubernetes", "encryption.enabled": True,
          "encryption.type": "ipsec"})],
    "agent-bpf-masquerade": [
        (["1.18.12"], {"kubeProxyReplacement": False},
         {"kubeProxyReplacement": False, "bpf.masquerade": False}),
        (VERSIONS, {"egressMasqueradeInterfaces": "eth1"}, {"egressMasqueradeInterfaces": ""}),
        (VERSIONS, {"enableMasqueradeRouteSource": True}, {"enableMasqueradeRouteSource": False}),
        (VERSIONS, {"ipMasqAgent.enabled": True, "bpf.masquerade": False},
         {"ipMasqAgent.enabled": True}),
        (VERSIONS, {"enableIPv4Masquerade": False}, {"enableIPv4Masquerade": False,
                                                      "bpf.masquerade": False})],
    "agent-encryption-combinations": [
        (VERSIONS, {"encryption.enabled": True, "encryption.type": "ipsec",
                    "dnsProxy.enableTransparentMode": False},
         {"encryption.enabled": True, "encryption.type": "ipsec"}),
        (VERSIONS, {"encryption.enabled": True, "encryption.type": "ipsec",
                    "hostFirewall.enabled": True},
         {"encryption.enabled": True, "encryption.type": "wireguard",
          "hostFirewall.enabled": True}),
        (["1.19.6", "1.20.0"], {"encryption.enabled": True, "encryption.type": "ipsec",
                                "encryption.strictMode.ingress.enabled": True,
                                "routingMode": "tunnel"},
         {"encryption.enabled": True, "encryption.type": "wireguard",
          "encryption.strictMode.ingress.enabled": True, "routingMode": "tunnel"}),
        (["1.19.6"], {"encryption.enabled": True, "encryption.type": "wireguard",
                      "encryption.strictMode.ingress.enabled": True},
         {"encryption.enabled": True, "encryption.type": "wireguard"}),
        (["1.18.12"], {"encryption.enabled": True, "encryption.type": "ipsec",
                       "encryption.ipsec.encryptedOverlay": True},
         {"encryption.enabled": True, "encryption.type": "ipsec",
          "encryption.ipsec.encryptedOverlay": True, "routingMode": "tunnel"}),
        (["1.18.12"], {"encryption.enabled": True, "encryption.type": "wireguard",
                       "routingMode": "tunnel", "underlayProtocol": "ipv6", "ipv6.enabled": True,
                       "loadBalancer.acceleration": "disabled"},
         {"encryption.enabled": True, "encryption.type": "wireguard", "routingMode": "tunnel",
          "underlayProtocol": "ipv4", "ipv6.enabled": True,
          "loadBalancer.acceleration": "disabled"})],
    "agent-bandwidth-manager-ipsec": [
        (VERSIONS, {"bandwidthManager.enabled": True, "encryption.enabled": True,
                    "encryption.type": "ipsec"},
         {"bandwidthManager.enabled": True, "encryption.enabled": True,
          "encryption.type": "wireguard"})],
}


def test_every_agent_rule_has_a_case() -> None:
    assert set(CASES) == set(AGENT_RULES)


@pytest.mark.parametrize("rule,versions,refused,fixed",
                         [(rule, *case) for rule, cases in CASES.items() for case in cases],
                         ids=lambda v: v if isinstance(v, str) else None)
def test_the_agent_rule_refuses_and_the_fix_passes(rule: str, versions: list[str],
                                                   refused: dict[str, Any],
                                                   fixed: dict[str, Any]) -> None:
    for version in versions:
        assert rule in rules_refusing(refused, version), version
        assert rules_refusing(fixed, version) == set(), version


def test_a_rule_that_starts_at_a_line_does_not_refuse_before_it() -> None:
    assert "agent-reflector-wait-time" not in rules_refusing(
        {"loadBalancer.reflectorWaitTime": "0s"}, "1.19.6")
    assert "agent-ipip-dispatch-needs-xdp" not in rules_refusing(
        {"loadBalancer.mode": "dsr", "loadBalancer.dsrDispatch": "ipip",
         "loadBalancer.acceleration": "disabled"}, "1.20.0")
    assert "agent-underlay-protocol" not in rules_refusing({"underlayProtocol": "auto"}, "1.20.0")


def test_a_stack_with_an_agent_refusal_names_the_key_and_the_fix() -> None:
    problems = config_problems(minimal_config(cilium={"values": {"nodePort": {
        "range": "32767,30000"}}}))
    assert problems == ["cilium.values.nodePort.range: '32767,30000': the min port must be below "
                        "the max port; the agent refuses to start. Fix: write it as \"min,max\"."]


def test_the_program_defaults_pass_every_agent_rule() -> None:
    spec = validate_cluster_spec(minimal_config())
    for version in VERSIONS:
        assert check_helm_values(spec.cilium_helm_values, version, rules=AGENT_RULES) == []
