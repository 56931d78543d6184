"""Cluster-autoscaler policies: a compliant Deployment passes; each mutation of one field fails
with its message; the rendered Deployment of the example stack passes."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from components.kubernetes import autoscaler
from policies.rules.cluster_autoscaler import (
    autoscaler_limits,
    autoscaler_private_no_public_ip,
    autoscaler_ssh_key_required,
    autoscaler_token_is_secret,
)
from policies.rules.types import HCLOUD_PLACEMENT_GROUP, HCLOUD_SERVER, K3S_CLUSTER, K8S_DEPLOYMENT
from tests.helpers import PROJECT_DIR
from tests.policy_fixtures import check_resource, check_stack, stack_resource
from tools import plan as plan_cli
from tools.lib.engine import run_program
from tools.lib.policy_gate import evaluate
from tools.lib.stack_files import StackConfig

GROUPS = ["--nodes=0:4:cx33:nbg1:dev-general", "--nodes=0:5:cax21:nbg1:dev-batch"]


def deployment(private_only: bool = False, args: list[str] | None = None) -> dict[str, Any]:
    env = autoscaler.provider_environment(autoscaler.ProviderTargets(
        network="1", ssh_key="2", firewall=None if private_only else "3"),
        private_only=private_only)
    args = ["--cloud-provider=hetzner", *(GROUPS if args is None else args)]
    return autoscaler.deployment("img", args, env)


def set_env(props: dict[str, Any], name: str, item: dict[str, Any] | None) -> dict[str, Any]:
    props = copy.deepcopy(props)
    container = props["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [e for e in container["env"] if e["name"] != name]
    if item is not None:
        container["env"].append({"name": name, **item})
    return props


def cluster(private_only: bool) -> Any:
    return stack_resource(K3S_CLUSTER, {"privateOnly": private_only}, "dev")


def servers(count: int) -> list[Any]:
    return [stack_resource(HCLOUD_SERVER, {"networks": [{"networkId": 1}]}, f"s{i}")
            for i in range(count)]


# -- cluster-autoscaler-ssh-key-required ----------------------------------------------------------
def test_the_rendered_deployment_has_an_ssh_key() -> None:
    assert check_resource(autoscaler_ssh_key_required, K8S_DEPLOYMENT, deployment()) == []


def test_an_autoscaler_without_ssh_key_is_refused() -> None:
    props = set_env(deployment(), "HCLOUD_SSH_KEY", None)
    assert check_resource(autoscaler_ssh_key_required, K8S_DEPLOYMENT, props, "ca") == [
        "Cluster-autoscaler 'ca' creates servers without an SSH key (HCLOUD_SSH_KEY unset): "
        "Hetzner then sets a root password and e-mails it. Fix: set HCLOUD_SSH_KEY to one of "
        "the stack's SSH keys (k3s-hcloud does)."]


def test_other_deployments_are_not_autoscalers() -> None:
    props = set_env(deployment(args=[]), "HCLOUD_SSH_KEY", None)
    container = props["spec"]["template"]["spec"]["containers"][0]
    container["args"] = ["--cloud-provider=aws"]
    assert check_resource(autoscaler_ssh_key_required, K8S_DEPLOYMENT, props) == []


# -- cluster-autoscaler-token-from-secret ----------------------------------------------------------
def test_the_rendered_deployment_reads_token_and_join_data_from_a_secret() -> None:
    assert check_resource(autoscaler_token_is_secret, K8S_DEPLOYMENT, deployment()) == []


@pytest.mark.parametrize("name", ["HCLOUD_TOKEN", "HCLOUD_CLUSTER_CONFIG", "HCLOUD_CLOUD_INIT"])
def test_a_credential_as_a_plain_value_is_refused(name: str) -> None:
    props = set_env(deployment(), name, {"value": "plain"})
    [message] = check_resource(autoscaler_token_is_secret, K8S_DEPLOYMENT, props, "ca")
    assert message.startswith(f"Cluster-autoscaler 'ca' has {name} as a plain value")


# -- cluster-autoscaler-private-no-public-ip -------------------------------------------------------
def test_private_mode_autoscaler_without_public_ips_passes() -> None:
    resources = [cluster(True), stack_resource(K8S_DEPLOYMENT, deployment(True), "ca")]
    assert check_stack(autoscaler_private_no_public_ip, resources) == []


@pytest.mark.parametrize("name", ["HCLOUD_PUBLIC_IPV4", "HCLOUD_PUBLIC_IPV6"])
def test_private_mode_autoscaler_with_the_providers_public_default_is_refused(name: str) -> None:
    props = set_env(deployment(True), name, None)  # unset: the provider's default is true
    resources = [cluster(True), stack_resource(K8S_DEPLOYMENT, props, "ca")]
    [message] = check_stack(autoscaler_private_no_public_ip, resources)
    assert message.startswith("Cluster-autoscaler 'ca' would create servers with public IPs "
                              f"in a private-only cluster ({name} not 'false'")


def test_public_mode_may_give_autoscaled_servers_public_ips() -> None:
    resources = [cluster(False), stack_resource(K8S_DEPLOYMENT, deployment(False), "ca")]
    assert check_stack(autoscaler_private_no_public_ip, resources) == []


# -- cluster-autoscaler-max-within-limits ----------------------------------------------------------
def test_node_groups_at_max_within_the_network_limit_pass() -> None:
    resources = [*servers(91), stack_resource(K8S_DEPLOYMENT, deployment(), "ca")]
    assert check_stack(autoscaler_limits, resources) == []  # 91 + 4 + 5 = 100


def test_node_groups_count_at_max_toward_the_network_limit() -> None:
    resources = [*servers(92), stack_resource(K8S_DEPLOYMENT, deployment(), "ca")]
    assert check_stack(autoscaler_limits, resources) == [
        "92 servers plus up to 9 the cluster-autoscaler may create exceed the ~100 servers one "
        "Hetzner network attaches. Fix: lower the node groups' max (autoscaling.max)."]


def test_node_groups_beyond_the_auto_assigned_addresses_are_refused() -> None:
    args = ["--nodes=0:150:cx33:nbg1:a", "--nodes=0:60:cx33:nbg1:b"]
    messages = check_stack(autoscaler_limits,
                           [stack_resource(K8S_DEPLOYMENT, deployment(args=args), "ca")])
    assert any(m.startswith("The cluster-autoscaler may create 210 servers") for m in messages)


def test_a_node_groups_spread_group_must_hold_its_max() -> None:
    args = ["--nodes=0:12:cx33:nbg1:dev-general"]
    group = stack_resource(HCLOUD_PLACEMENT_GROUP, {"type": "spread", "labels": {
        "node-group": "dev-general"}}, "dev-general-pg-autoscaled")
    [message] = check_stack(autoscaler_limits,
                            [group, stack_resource(K8S_DEPLOYMENT, deployment(args=args), "ca")])
    assert message.startswith("Placement group 'dev-general-pg-autoscaled' is node group "
                              "'dev-general''s, which may grow to 12 servers")
    fits = ["--nodes=0:10:cx33:nbg1:dev-general"]
    assert check_stack(autoscaler_limits,
                       [group, stack_resource(K8S_DEPLOYMENT, deployment(args=fits), "ca")]) == []


# -- a hand-written program, through the engine and tools/plan.py ------------------------------------
HANDWRITTEN = '''
"""Hand-written: the Hetzner autoscaler as its README example deploys it, in a private cluster."""
import pulumi
import pulumi_hcloud as hcloud
import pulumi_kubernetes as kubernetes

network = hcloud.Network("lab-network", ip_range="10.0.0.0/16")
hcloud.NetworkRoute("lab-egress", network_id=network.id.apply(int), destination="0.0.0.0/0",
                    gateway="10.0.1.1")
kubernetes.apps.v1.Deployment(
    "lab-autoscaler",
    metadata={"name": "cluster-autoscaler", "namespace": "kube-system"},
    spec={"selector": {"matchLabels": {"app": "ca"}},
          "template": {"metadata": {"labels": {"app": "ca"}}, "spec": {"containers": [{
              "name": "cluster-autoscaler",
              "image": "registry.k8s.io/autoscaling/cluster-autoscaler:v1.35.2",
              "command": ["./cluster-autoscaler", "--cloud-provider=hetzner",
                          "--nodes=1:10:cpx11:fsn1:pool1"],
              "env": [{"name": "HCLOUD_TOKEN", "value": "token-in-clear"},
                      {"name": "HCLOUD_NETWORK", "value": "lab-network"}]}]}}})
'''


def test_a_hand_written_autoscaler_is_stopped_by_the_gate(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "__main__.py").write_text(HANDWRITTEN)
    violations = evaluate(run_program(tmp_path, StackConfig(stack="lab", project="lab")))
    assert {v.policy for v in violations if v.enforcement_level == "mandatory"} == {
        "cluster-autoscaler-ssh-key-required", "cluster-autoscaler-token-from-secret",
        "cluster-autoscaler-private-no-public-ip"}
    code = plan_cli.main(["--program", str(tmp_path),
                          "--stack-file", str(PROJECT_DIR / "Pulumi.dev.yaml")])
    assert "mandatory: [cluster-autoscaler-ssh-key-required]" in capsys.readouterr().out
    assert code == plan_cli.EXIT_POLICY
