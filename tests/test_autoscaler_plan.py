"""Whole-program runs with autoscaled pools, public and private: what the cluster-autoscaler gets,
what Hetzner gets from Pulumi, and that the join data stays a secret carrying the agent token."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.kubernetes import autoscaler
from tests.helpers import PROJECT_DIR, example_config, write_stack_file
from tests.sentinels import (AGENT_TOKEN, CLUSTER_TOKEN, HCLOUD_TOKEN, leaks, planted_secrets)
from tools import plan as plan_cli
from tools.lib.engine import Plan, RecordedResource, run_program
from tools.lib.plan_review import review
from tools.lib.policy_gate import evaluate
from tools.lib.stack_files import load_stack_config

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SECRET = "kubernetes:core/v1:Secret"
SERVER = "hcloud:index/server:Server"
PLACEMENT_GROUP = "hcloud:index/placementGroup:PlacementGroup"


def private_variant() -> dict[str, Any]:
    config = example_config("autoscale")
    config["k3s-hcloud:network"]["privateOnly"] = True
    config["k3s-hcloud:bastion"] = {"enabled": True}
    config["k3s-hcloud:access"] = {"sshAllowedCidrs": ["203.0.113.0/24"], "apiAllowedCidrs": [],
                                   "kubernetesApiServer": "https://127.0.0.1:6443"}
    return config


VARIANTS = {"public": lambda: example_config("autoscale"), "private": private_variant}


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def planted(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Plan:
    with planted_secrets():
        stack_file = write_stack_file(tmp_path_factory.mktemp(request.param),
                                      VARIANTS[request.param](), "autoscale")
        stack_config = load_stack_config(PROJECT_DIR, stack_file, "autoscale")
        stack_config.values["hcloud:token"] = HCLOUD_TOKEN
        stack_config.secret_keys.add("hcloud:token")
        plan = run_program(PROJECT_DIR, stack_config)
    plan.variant = request.param  # type: ignore[attr-defined]
    return plan


def container(plan: Plan) -> dict[str, Any]:
    [deployment] = plan.by_type(DEPLOYMENT)
    return deployment.plain_inputs()["spec"]["template"]["spec"]["containers"][0]


def env(plan: Plan) -> dict[str, Any]:
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in container(plan)["env"]}


def autoscaler_secret(plan: Plan) -> RecordedResource:
    return next(r for r in plan.by_type(SECRET) if r.name.endswith("-autoscaler-secret"))


def cluster_config(plan: Plan) -> dict[str, Any]:
    data = autoscaler_secret(plan).plain_inputs()["stringData"]
    return json.loads(data[autoscaler.CLUSTER_CONFIG_FILE_KEY])


def test_both_modes_plan_cleanly_under_the_policy_pack(planted: Plan) -> None:
    assert [(v.policy, v.message) for v in evaluate(planted)] == []
    assert planted.by_type(DEPLOYMENT)


def test_pulumi_creates_count_servers_and_leaves_the_rest_to_the_autoscaler(planted: Plan) -> None:
    servers = {r.name for r in planted.by_type(SERVER)}
    assert {"scale-general-1", "scale-general-2", "scale-system-1"} <= servers
    assert not any(name.startswith("scale-batch") for name in servers)  # count 0
    args = container(planted)["args"]
    assert "--nodes=0:4:cx33:nbg1:scale-general" in args
    assert "--nodes=0:5:cax21:nbg1:scale-batch" in args


def test_each_node_group_gets_its_own_spread_group(planted: Plan) -> None:
    groups = {r.name: r for r in planted.by_type(PLACEMENT_GROUP)}
    assert groups["scale-general-pg-autoscaled"].plain_inputs()["type"] == "spread"
    config = cluster_config(planted)["nodeConfigs"]
    assert set(config) == {"scale-general", "scale-batch"}
    assert all(node["placementGroup"] for node in config.values())


def test_public_ips_and_firewall_follow_the_network_mode(planted: Plan) -> None:
    values = env(planted)
    private = planted.variant == "private"  # type: ignore[attr-defined]
    assert values["HCLOUD_PUBLIC_IPV4"] == values["HCLOUD_PUBLIC_IPV6"] == \
        ("false" if private else "true")
    assert ("HCLOUD_FIREWALL" in values) is not private
    assert values["HCLOUD_SSH_KEY"] and values["HCLOUD_NETWORK"]
    user_data = cluster_config(planted)["nodeConfigs"]["scale-general"]["cloudInit"]
    paths = {f["path"] for f in yaml.safe_load(user_data)["write_files"]}
    assert ("/etc/k3s-hcloud/egress.env" in paths) is private


def test_the_autoscaler_runs_the_release_of_the_clusters_minor_on_a_control_plane(
        planted: Plan) -> None:
    spec = container(planted)
    assert spec["image"].endswith(":v1.36.1")
    [deployment] = planted.by_type(DEPLOYMENT)
    pod = deployment.plain_inputs()["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"node-role.kubernetes.io/control-plane": "true"}


def test_join_data_and_api_token_reach_the_autoscaler_only_as_secrets(planted: Plan) -> None:
    secret = autoscaler_secret(planted)
    assert "stringData" in secret.secret_input_paths()
    assert leaks(json.dumps(secret.masked_inputs())) == []
    for resource in planted.resources:
        assert leaks(json.dumps(resource.masked_inputs())) == [], resource.urn
    # Positive control: the secret really carries the API token and the CA-pinned agent token.
    assert secret.plain_inputs()["stringData"][autoscaler.TOKEN_KEY] == HCLOUD_TOKEN
    for node in cluster_config(planted)["nodeConfigs"].values():
        assert f"::node:{AGENT_TOKEN}" in node["cloudInit"]
        assert CLUSTER_TOKEN not in node["cloudInit"]


def test_the_deployment_restarts_when_the_join_data_changes_but_not_from_a_secret(
        planted: Plan, tmp_path: Path) -> None:
    [deployment] = planted.by_type(DEPLOYMENT)
    annotations = deployment.plain_inputs()["spec"]["template"]["metadata"]["annotations"]
    digest = annotations["k3s-hcloud/cluster-config-sha256"]
    assert len(digest) == 64
    config = VARIANTS[planted.variant]()  # type: ignore[attr-defined]
    config["k3s-hcloud:workerPools"][1]["labels"]["extra"] = "yes"
    stack_config = load_stack_config(PROJECT_DIR, write_stack_file(tmp_path, config, "autoscale"),
                                     "autoscale")
    changed = run_program(PROJECT_DIR, stack_config)
    [other] = changed.by_type(DEPLOYMENT)
    assert other.plain_inputs()["spec"]["template"]["metadata"]["annotations"][
        "k3s-hcloud/cluster-config-sha256"] != digest


# -- day 2: what a reviewer is told when a node group goes away -----------------------------------
def test_plan_diff_flags_a_node_group_the_autoscaler_stops_managing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = example_config("autoscale")
    del config["k3s-hcloud:workerPools"][2]["autoscaling"]  # batch becomes a fixed pool
    head = write_stack_file(tmp_path, config, "autoscale")
    code = plan_cli.main(["--stack-file", str(head),
                          "--diff", str(PROJECT_DIR / "Pulumi.autoscale.yaml")])
    out = capsys.readouterr().out
    assert code == plan_cli.EXIT_OK
    assert ("DESTRUCTIVE: the cluster-autoscaler stops managing node group 'scale-batch': the "
            "servers it created (label hcloud/node-group=scale-batch) are not in Pulumi state "
            "and stay; drain and delete them first (docs/autoscaler.md, Removal)") in out
    assert "node group 'scale-general'" not in out  # still managed


def test_plan_diff_flags_every_node_group_when_autoscaling_goes_away(tmp_path: Path) -> None:
    config = example_config("autoscale")
    for pool in config["k3s-hcloud:workerPools"]:
        pool.pop("autoscaling", None)
        pool.setdefault("count", 1)
    after = run_program(PROJECT_DIR, load_stack_config(
        PROJECT_DIR, write_stack_file(tmp_path, config, "autoscale"), "autoscale"))
    before = run_program(PROJECT_DIR, load_stack_config(
        PROJECT_DIR, PROJECT_DIR / "Pulumi.autoscale.yaml", "autoscale"))
    result = review(before, after)
    [deleted] = [c for c in result.changes if c.change.type == DEPLOYMENT]
    assert deleted.change.kind == "delete"
    groups = [f.reason for f in deleted.flags if "stops managing node group" in f.reason]
    assert len(groups) == 2 and "'scale-batch'" in groups[0] and "'scale-general'" in groups[1]
