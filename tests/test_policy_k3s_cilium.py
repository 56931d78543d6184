"""k3s and Cilium together: kube-proxy ownership, API address under KPR, a CNI when flannel is
off, the native routing range, and pod/Service ranges against the Hetzner network."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi_policy.proxy import UnknownValueError

from policies.rules.k3s_cilium import (
    flannel_off_needs_cni,
    k3s_ranges_outside_network,
    kpr_needs_api_server,
    kube_proxy_agreement,
    native_routing_contains_pods,
)
from policies.rules.types import HCLOUD_NETWORK, HELM_RELEASE, K3S_NODE
from tests.policy_fixtures import UNKNOWN, check_resource, check_stack, stack_resource

VALUES: dict[str, Any] = {"kubeProxyReplacement": True, "k8sServiceHost": "127.0.0.1",
                          "k8sServicePort": 6444.0, "routingMode": "native",
                          "ipv4NativeRoutingCIDR": "10.42.0.0/16", "bpf": {"masquerade": True}}


def cilium(**changes: Any) -> Any:
    return stack_resource(HELM_RELEASE, {"chart": "cilium", "version": "1.20.0",
                                         "values": {**VALUES, **changes}}, "cilium")


def server(name: str = "cp-1", **config: Any) -> Any:
    base = {"disable-kube-proxy": True, "flannel-backend": "none", "cluster-init": True}
    return stack_resource(K3S_NODE, {"role": "server", "k3sVersion": "v1.35.3+k3s1",
                                     "k3sConfig": {**base, **config}}, name)


def network(ip_range: str = "10.0.0.0/16") -> Any:
    return stack_resource(HCLOUD_NETWORK, {"ipRange": ip_range}, "net")


def test_the_programs_shape_passes_every_policy() -> None:
    stack = [cilium(), server(), network()]
    for policy in (kube_proxy_agreement, flannel_off_needs_cni, native_routing_contains_pods,
                   k3s_ranges_outside_network):
        assert check_stack(policy, stack) == [], policy.name
    assert check_resource(kpr_needs_api_server, HELM_RELEASE, stack[0].props) == []


def test_kube_proxy_running_beside_cilium_kpr_is_refused() -> None:
    assert check_stack(kube_proxy_agreement, [cilium(), server(**{"disable-kube-proxy": None})]) == [
        "Helm release 'cilium' (Cilium 1.20.0) replaces kube-proxy, but k3s server 'cp-1' still "
        "runs it (no disable-kube-proxy): both program Service rules and fight. Fix: keep them in "
        "step — k3s-hcloud sets disable-kube-proxy exactly when "
        "cilium.values.kubeProxyReplacement is true."]


def test_kube_proxy_disabled_without_kpr_is_refused() -> None:
    [message] = check_stack(kube_proxy_agreement, [cilium(kubeProxyReplacement=False), server()])
    assert message.startswith("k3s server 'cp-1' disables kube-proxy, but Helm release 'cilium' "
                              "(Cilium 1.20.0) does not replace it")


def test_kpr_without_the_api_address_is_refused() -> None:
    props = {"chart": "cilium", "version": "1.20.0", "values": {"kubeProxyReplacement": True}}
    assert check_resource(kpr_needs_api_server, HELM_RELEASE, props) == [
        "Helm release 'r' (Cilium 1.20.0) replaces kube-proxy without k8sServiceHost and "
        "k8sServicePort: with no kube-proxy, the agent cannot reach the API through the kubernetes "
        "Service. Fix: set k8sServiceHost: 127.0.0.1 and k8sServicePort: 6444 (k3s's per-node API "
        "proxy; k3s-hcloud's defaults)."]
    with pytest.raises(UnknownValueError):
        check_resource(kpr_needs_api_server, HELM_RELEASE,
                       {"chart": "cilium", "version": "1.20.0", "values": UNKNOWN})


def test_flannel_off_without_any_cni_release_is_refused() -> None:
    assert check_stack(flannel_off_needs_cni, [server()]) == [
        "k3s nodes (cp-1) run with flannel-backend: none but the stack installs no CNI: every node "
        "stays NotReady. Fix: install Cilium (k3s-hcloud always does) or keep flannel."]
    assert check_stack(flannel_off_needs_cni, [server(**{"flannel-backend": None})]) == []


def test_a_native_routing_cidr_missing_the_pod_range_is_refused() -> None:
    [message] = check_stack(native_routing_contains_pods,
                            [cilium(ipv4NativeRoutingCIDR="10.50.0.0/16"), server()])
    assert message.startswith("Helm release 'cilium' (Cilium 1.20.0), value "
                              "ipv4NativeRoutingCIDR: 10.50.0.0/16 does not contain the pod CIDR "
                              "10.42.0.0/16")
    # No cluster-cidr key: k3s's default 10.42.0.0/16 applies, and the rule still runs.
    bare = stack_resource(K3S_NODE, {"role": "server", "k3sConfig": {}}, "cp-1")
    assert len(check_stack(native_routing_contains_pods,
                           [cilium(ipv4NativeRoutingCIDR="10.50.0.0/16"), bare])) == 1


def test_k3s_ranges_inside_the_network_are_refused() -> None:
    assert check_stack(k3s_ranges_outside_network, [server(), network("10.42.0.0/15")]) == [
        "k3s node 'cp-1' uses cluster-cidr 10.42.0.0/16, which overlaps Hetzner network 'net' "
        "(10.42.0.0/15): pod or Service addresses would shadow servers. Fix: move k3s.clusterCidr "
        "out of the network range.",
        "k3s node 'cp-1' uses service-cidr 10.43.0.0/16, which overlaps Hetzner network 'net' "
        "(10.42.0.0/15): pod or Service addresses would shadow servers. Fix: move k3s.serviceCidr "
        "out of the network range."]
    assert check_stack(k3s_ranges_outside_network, [server(), network("10.0.0.0/16")]) == []


def test_unknown_node_config_during_preview_raises() -> None:
    unknown = stack_resource(K3S_NODE, {"role": "server", "k3sConfig": UNKNOWN}, "cp-1")
    with pytest.raises(UnknownValueError):
        check_stack(kube_proxy_agreement, [cilium(), unknown])


def agent(name: str = "workers-1") -> Any:
    # Agents carry no cluster-cidr: it is a server flag.
    return stack_resource(K3S_NODE, {"role": "agent", "k3sVersion": "v1.35.3+k3s1",
                                     "k3sConfig": {"server": "https://10.0.1.2:6443"}}, name)


def test_a_non_default_pod_range_is_read_from_servers_not_defaulted_on_agents() -> None:
    # cluster-cidr 10.50.0.0/16 on the servers, agents without it: a correct stack.
    stack = [cilium(ipv4NativeRoutingCIDR="10.50.0.0/16"),
             server(**{"cluster-cidr": "10.50.0.0/16"}), agent(), network("10.42.0.0/16")]
    assert check_stack(native_routing_contains_pods, stack) == []
    assert check_stack(k3s_ranges_outside_network, stack) == []


def test_a_server_without_cluster_cidr_still_gets_the_k3s_default() -> None:
    stack = [cilium(ipv4NativeRoutingCIDR="10.50.0.0/16"), server(), agent()]
    assert check_stack(native_routing_contains_pods, stack) != []


def test_a_hand_written_node_is_read_through_k3s_aliases_and_append_keys() -> None:
    from policies.rules.k3s_nodes import K3sNode

    node = K3sNode("n", "urn", "server", None, {"cluster-cidr+": "10.50.0.0/16", "t": "x"})
    assert node.flag("cluster-cidr") == "10.50.0.0/16" and node.flag("token") == "x"
    assert node.flag("service-cidr") is None
