"""Differential test: our config check against ``helm template`` of the real Cilium chart.

Hypothesis generates ``cilium.values`` around the supported features (routing, kube-proxy
replacement, load-balancer modes and algorithms, Maglev, XDP, DSR dispatch, egress gateway,
Gateway API, Hubble, encryption, Cluster Mesh, IPAM, bandwidth manager, L2 announcements,
datapath modes), with wrong types, wrong case and misspelled or removed keys mixed in. For each:

- a stack we accept must render: its Cilium values (computed defaults and the user's, plus a
  generated Maglev seed as the program adds one) go through the real chart;
- a stack we refuse must say so under a key the user wrote (``cilium.values.<path>`` or another
  key of the stack file), never as a traceback.

Refusing more than the chart is allowed (the agent refuses things the chart renders); the reverse
is a disagreement. The seed is fixed (``derandomize``), so a failure reproduces; the number of
examples per line is ``CILIUM_DIFFERENTIAL_EXAMPLES`` (2,000 by default, as `make e2e` runs it).
"""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stack_config import ConfigError, validate_cluster_spec
from cluster_plan.cilium_values import needs_generated_hash_seed
from tests.e2e.cilium_helm import CiliumChart, cilium_chart
from tests.helpers import with_dotted_changes
from upstream.cilium import SUPPORTED_LINES

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("CILIUM_DIFFERENTIAL_EXAMPLES", "2000"))
SEED = base64.b64encode(b"0123456789ab").decode()

_BOOL = st.sampled_from([True, False])
_LOOSE_BOOL = st.one_of(_BOOL, st.sampled_from(["true", "false", "yes", 1, 0]))

# Dotted Helm value path → what to draw for it (mostly valid, some wrong on purpose).
FEATURES: dict[str, st.SearchStrategy[Any]] = {
    "routingMode": st.sampled_from(["native", "tunnel", "hybrid", "", "Native", "vxlan"]),
    "tunnelProtocol": st.sampled_from(["vxlan", "geneve", "", "Geneve", "gre"]),
    "autoDirectNodeRoutes": _BOOL,
    "kubeProxyReplacement": st.sampled_from([True, False, "true", "false", "strict", "disabled"]),
    "loadBalancer.mode": st.sampled_from(["snat", "dsr", "hybrid", "DSR", "annotation"]),
    "loadBalancer.dsrDispatch": st.sampled_from(["opt", "ipip", "geneve", "Geneve"]),
    "loadBalancer.algorithm": st.sampled_from(["random", "maglev", "Maglev"]),
    "loadBalancer.acceleration": st.sampled_from(["disabled", "native", "best-effort", "yes"]),
    "loadBalancer.l7.backend": st.sampled_from(["disabled", "envoy"]),
    "maglev.tableSize": st.sampled_from([251, 16381, 65521, 1000, "16381"]),
    "maglev.hashSeed": st.sampled_from([SEED, "c2hvcnQ=", "not base64!"]),
    "egressGateway.enabled": _LOOSE_BOOL,
    "gatewayAPI.enabled": _LOOSE_BOOL,
    "gatewayAPI.externalTrafficPolicy": st.sampled_from(["Cluster", "Local", "local"]),
    "ingressController.enabled": _BOOL,
    "l7Proxy": _LOOSE_BOOL,
    "hubble.enabled": _LOOSE_BOOL,
    "hubble.relay.enabled": _LOOSE_BOOL,
    "hubble.ui.enabled": _BOOL,
    "encryption.enabled": _LOOSE_BOOL,
    "encryption.type": st.sampled_from(["wireguard", "ipsec", "WireGuard", "IPsec"]),
    "encryption.nodeEncryption": _BOOL,
    "cluster.name": st.sampled_from(["default", "prod", "Prod", "", "a" * 33, "mesh-1"]),
    "cluster.id": st.sampled_from([0, 1, 7, 255, 300, 511, -1, "3"]),
    "clustermesh.useAPIServer": _BOOL,
    "clustermesh.maxConnectedClusters": st.sampled_from([255, 511, 256]),
    "ipam.mode": st.sampled_from(["kubernetes", "cluster-pool", "multi-pool", "eni", "Kubernetes"]),
    "ipv4NativeRoutingCIDR": st.sampled_from(["10.42.0.0/16", "10.0.0.0/8", "", "10.42.0.0"]),
    "bandwidthManager.enabled": _LOOSE_BOOL,
    "bandwidthManager.bbr": _BOOL,
    "l2announcements.enabled": _BOOL,
    "bpf.datapathMode": st.sampled_from(["veth", "netkit", "netkit-l2"]),
    "bpf.masquerade": _LOOSE_BOOL,
    "bpf.tproxy": _BOOL,
    "enableIPv4Masquerade": _BOOL,
    "installNoConntrackIptablesRules": _BOOL,
    "MTU": st.sampled_from([1450, 1400, "1450", 0]),
    "extraArgs": st.sampled_from([[], ["--enable-wireguard"], "--enable-ipsec", ["--devices=eth0"]]),
    "extraConfig": st.sampled_from([{}, {"enable-ipsec": "true"}, {"bpf-lb-mode": "snat"}]),
    "ciliumEndpointSlice.enabled": _BOOL,
    "identityAllocationMode": st.sampled_from(["crd", "kvstore"]),
    "operator.replicas": st.sampled_from([1, 2, "2"]),
    # Misspelled and removed keys: the chart ignores the first kind and refuses the second.
    "hubbel.enabled": _BOOL,
    "loadbalancer.mode": st.sampled_from(["dsr"]),
    "tunnel": st.sampled_from(["vxlan", "disabled"]),
    "enableCiliumEndpointSlice": _BOOL,
    "encryption.secretName": st.sampled_from(["keys"]),
}


@st.composite
def cilium_values(draw: st.DrawFn) -> dict[str, Any]:
    # A handful of features per example: enough to meet each other, few enough to be accepted
    # often (an accepted stack is what the chart must render).
    chosen = draw(st.lists(st.sampled_from(sorted(FEATURES)), min_size=0, max_size=6,
                           unique=True))
    return with_dotted_changes({}, {path: draw(FEATURES[path]) for path in chosen})


def _stack(minor: str, values: dict[str, Any]) -> dict[str, Any]:
    line = SUPPORTED_LINES[minor]
    newest = line.tested_kubernetes[1]
    # That release has no pinned install script: a digest is given, as a user must (the
    # installer is not what this test is about; docs/installer.md).
    return {"clusterName": "dev", "k3s": {"version": f"v{newest[0]}.{newest[1]}.1+k3s1",
                                          "install": {"scriptSha256": "ab" * 32}},
            "cilium": {"version": line.newest_verified_patch, "values": values}}


def _release_values(spec: Any) -> dict[str, Any]:
    values = spec.cilium_helm_values
    if needs_generated_hash_seed(values):  # what components/kubernetes/cilium.py adds
        values = with_dotted_changes(values, {"maglev.hashSeed": SEED})
    return values


def _disagreements(chart: CiliumChart, minor: str, values: dict[str, Any],
                   tally: dict[str, int]) -> str | None:
    try:
        spec = validate_cluster_spec(_stack(minor, values))
    except ConfigError as refused:
        tally["refused"] += 1
        keys = [problem.key for problem in refused.problems]
        if not keys or not all(key and " " not in key for key in keys):
            return f"refused without naming a key: {refused}"
        return None
    tally["accepted"] += 1
    render = chart.render(_release_values(spec))
    if not render.ok:
        return f"we accept {values!r}; the chart refuses: {render.error[-400:]}"
    return None


@pytest.mark.parametrize("minor", list(SUPPORTED_LINES))
def test_everything_we_accept_the_real_chart_renders(minor: str,
                                                     capsys: pytest.CaptureFixture) -> None:
    chart = cilium_chart(minor)
    found: list[str] = []
    tally = {"accepted": 0, "refused": 0}

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(values=cilium_values())
    def compare(values: dict[str, Any]) -> None:
        problem = _disagreements(chart, minor, values, tally)
        if problem:
            found.append(problem)

    compare()
    with capsys.disabled():
        print(f"\nCilium {minor}: {tally['accepted']} accepted and rendered by the chart, "
              f"{tally['refused']} refused, {len(found)} disagreement(s)")
    assert tally["accepted"] > EXAMPLES // 10, "too few accepted examples to compare"
    assert found == [], f"{len(found)} disagreement(s); first: {found[0]}"
