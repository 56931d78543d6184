"""Whole-program runs of every example stack: the layers wired together, as `pulumi up` would
register them (infrastructure → k3s bootstrap → Kubernetes layer)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.helpers import EXAMPLE_STACKS, PROJECT_DIR, example_config, plan_config, write_stack_file
from tests.sentinels import (AGENT_TOKEN, CLUSTER_TOKEN, DATASTORE_PASSWORD, HCLOUD_TOKEN, SSH_KEY,
                             leaks, planted_secrets, reveal_planted,
                             with_planted_datastore)
from tools.lib.critical_path import longest_chain
from tools.lib.engine import Plan, run_program
from tools.lib.stack_files import load_stack_config

SERVER = "hcloud:index/server:Server"
COMMAND = "command:remote:Command"
RELEASE = "kubernetes:helm.sh/v3:Release"


@pytest.fixture(scope="module", params=EXAMPLE_STACKS)
def planted(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Plan:
    """The real program with a sentinel in every secret: tokens, keys, datastore, hcloud token."""
    with planted_secrets():
        config = with_planted_datastore(example_config(request.param))
        stack_file = write_stack_file(tmp_path_factory.mktemp(request.param), config,
                                      request.param)
        stack_config = load_stack_config(PROJECT_DIR, stack_file, request.param)
        reveal_planted(stack_config.values)
        stack_config.values["hcloud:token"] = HCLOUD_TOKEN
        stack_config.secret_keys.add("hcloud:token")
        return run_program(PROJECT_DIR, stack_config)


def test_no_secret_in_any_non_secret_input_plain_output_or_log(planted: Plan) -> None:
    for resource in planted.resources:
        assert leaks(json.dumps(resource.masked_inputs())) == [], resource.urn
    for name, output in planted.outputs.items():
        if not output.secret:
            assert leaks(json.dumps(output.value)) == [], name
    assert all(leaks(message) == [] for _, message in planted.logs)
    assert planted.outputs["kubeconfig"].secret and planted.outputs["sshPrivateKey"].secret


def test_user_data_carries_no_token_admin_key_datastore_or_api_token(planted: Plan) -> None:
    # User data is secret (each server's own host key is in it), but nothing else may be.
    admin_key = next(r.name for r in planted.by_type("tls:index/privateKey:PrivateKey")
                     if r.name.endswith("-ssh-generated"))
    forbidden = (CLUSTER_TOKEN, AGENT_TOKEN, DATASTORE_PASSWORD, HCLOUD_TOKEN,
                 f"{SSH_KEY}-{admin_key}")
    for server in planted.by_type(SERVER):
        user_data = server.plain_inputs()["userData"]
        assert [s for s in forbidden if s in user_data] == [], server.name
        assert "userData" in server.secret_input_paths()


def test_the_hcloud_token_reaches_the_cluster_only_as_a_secret(planted: Plan) -> None:
    secret = planted.get("kubernetes:core/v1:Secret", f"{_cluster(planted)}-hcloud-credentials")
    assert HCLOUD_TOKEN in json.dumps(secret.plain_inputs())
    assert HCLOUD_TOKEN not in json.dumps(secret.masked_inputs())


def _cluster(plan: Plan) -> str:
    return plan.by_type("k3s-hcloud:index:K3sCluster")[0].name


def _upstream(plan: Plan, urn: str) -> set[str]:
    by_urn = plan.by_urn()
    seen: set[str] = set()
    stack = [urn]
    while stack:
        for dep in by_urn[stack.pop()].dependencies:
            if dep not in seen:
                seen.add(dep)
                stack.append(dep)
    return {by_urn[u].name for u in seen if u in by_urn}


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_cilium_waits_for_the_control_plane_but_not_for_workers(stack: str) -> None:
    from tests.program_plans import example_plan

    plan = example_plan(stack)
    cluster = _cluster(plan)
    cilium = plan.get(RELEASE, f"{cluster}-cilium")
    upstream = _upstream(plan, cilium.urn)
    assert {f"{cluster}-cp-1-k3s", f"{cluster}-kubeconfig", f"{cluster}-network"} <= upstream
    workers = {r.name for r in plan.by_type(COMMAND) if r.name.endswith("-k3s")
               and "-cp-" not in r.name}
    assert workers and not workers & upstream


def test_the_critical_path_does_not_grow_with_workers_rolled_all_at_once(tmp_path: Path) -> None:
    # With the default maxUnavailable: 1 a pool's nodes roll (and first join) one after the
    # other; tests/test_bootstrap_plan.py measures that price.
    def chain(count: int) -> list[str]:
        config = example_config("dev")
        config["k3s-hcloud:workerPools"][0].update(count=count, maxUnavailable=count)
        directory = tmp_path / str(count)
        directory.mkdir()
        plan = plan_config(directory, config, stack="dev")
        return [r.type for r in longest_chain(plan).resources]

    assert chain(2) == chain(20)


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_the_kubernetes_provider_is_identified_by_the_cluster_ca_not_its_address(stack: str) -> None:
    # Without clusterIdentifier, pulumi-kubernetes replaces the provider (and every release
    # through it) when the kubeconfig's server changes, e.g. when the API LB is enabled.
    from tests.program_plans import example_plan

    plan = example_plan(stack)
    cluster = _cluster(plan)
    ca_hash = plan.get(COMMAND, f"{cluster}-ca-hash")
    provider = plan.get("pulumi:providers:kubernetes", f"{cluster}-k8s")
    assert re.fullmatch(r"k3s-ca-sha256:[0-9a-f]{64}", provider.inputs["clusterIdentifier"])
    assert ca_hash.urn in provider.property_dependencies["clusterIdentifier"]


def test_the_api_endpoint_output_is_where_the_kubeconfig_points(tmp_path: Path) -> None:
    # A private LB in front of public servers serves joiners only; users keep the servers.
    config = example_config("dev")
    config["k3s-hcloud:controlPlane"]["loadBalancer"] = {"enabled": True}
    plan = plan_config(tmp_path, config, stack="dev")
    first_public = plan.outputs["nodeAddresses"].value["dev-cp-1"]["public"]
    assert plan.outputs["apiEndpoint"].value == f"https://{first_public}:6443"
    from tests.program_plans import example_plan

    assert example_plan("private-ha").outputs["apiEndpoint"].value == "https://10.4.1.2:6443"
